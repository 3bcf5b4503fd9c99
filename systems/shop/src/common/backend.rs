//! [`simulated_call`]: the dependency payment and shipping fake (the card processor, the
//! shipping provider). The backends' router (`/faults`, the `down` switch and the seed's
//! `/health`) is service-kit's [`backend`](service_kit::faults::backend).

use service_kit::faults::{Extra, FaultControl, Outcome};

/// A simulated dependency's failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("simulated failure")]
pub struct SimulatedFailure;

/// One call of a simulated dependency (the card processor, the shipping provider): it fails
/// at once as `failure_rate` says, or answers after `delay_ms`, so a failing dependency is
/// fast and a working one slow, as the seed's were.
///
/// # Errors
///
/// The draw failed the call (or the service went `down` meanwhile).
pub async fn simulated_call<X: Extra>(control: &FaultControl<X>) -> Result<(), SimulatedFailure> {
    let faults = control.current();
    if control.decide(&faults) != Outcome::Pass {
        return Err(SimulatedFailure);
    }
    tokio::time::sleep(faults.delay()).await;
    Ok(())
}
