//! The simulated shipping provider, called through `shipping-provider` with a time limit; its
//! fallback when the call fails or is not made.

use std::sync::Arc;
use std::time::Duration;

use breaker_redis::Breaker;
use resilience::TimeLimit;
use service_kit::faults::FaultControl;

use crate::common::{SimulatedFailure, simulated_call};
use service_kit::time::{date, now_ms};

/// Days from today to the estimated delivery.
const DELIVERY_DAYS: i64 = 3;

/// What the provider said, or the fallback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Label {
    pub(super) tracking_number: String,
    pub(super) estimated_delivery: String,
    pub(super) carrier: &'static str,
}

/// The provider behind its breaker.
#[derive(Debug, Clone)]
pub(super) struct Provider {
    breaker: Breaker,
    faults: Arc<FaultControl>,
    limit: TimeLimit,
}

impl Provider {
    pub(super) fn new(breaker: Breaker, faults: Arc<FaultControl>, timeout: Duration) -> Self {
        Self {
            breaker,
            faults,
            limit: TimeLimit::new(timeout),
        }
    }

    /// Books the shipment once: the provider's label, or the fallback when the call failed,
    /// timed out or the circuit did not admit it.
    pub(super) async fn book(&self) -> Label {
        let call = || async {
            simulated_call(&self.faults).await?;
            let now = now_ms();
            Ok::<_, SimulatedFailure>(Label {
                tracking_number: format!("TRK{now}"),
                estimated_delivery: date(now, DELIVERY_DAYS),
                carrier: "Express Shipping",
            })
        };
        match self.limit.call(&self.breaker, call).await {
            Ok(label) => label,
            Err(error) => {
                tracing::info!(%error, "shipping provider unavailable; shipment pending");
                Label {
                    tracking_number: format!("PENDING-{}", now_ms()),
                    estimated_delivery: "Pending".to_owned(),
                    carrier: "Pending",
                }
            }
        }
    }
}
