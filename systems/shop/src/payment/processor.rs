//! The simulated card processor, called through `payment-gateway` with a time limit; its
//! fallback when the call fails or is not made.

use std::sync::Arc;
use std::time::Duration;

use breaker_redis::Breaker;
use resilience::TimeLimit;
use service_kit::faults::FaultControl;

use crate::common::{SimulatedFailure, simulated_call};
use service_kit::time::now_ms;

/// What the processor said: a transaction id and `success`, or the fallback's `pending`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Charge {
    pub(super) transaction_id: String,
    pub(super) status: &'static str,
}

/// The processor behind its breaker.
#[derive(Debug, Clone)]
pub(super) struct Processor {
    breaker: Breaker,
    faults: Arc<FaultControl>,
    limit: TimeLimit,
}

impl Processor {
    pub(super) fn new(breaker: Breaker, faults: Arc<FaultControl>, timeout: Duration) -> Self {
        Self {
            breaker,
            faults,
            limit: TimeLimit::new(timeout),
        }
    }

    /// Charges once: the processor's answer, or the fallback when the call failed, timed out
    /// or the circuit did not admit it.
    pub(super) async fn charge(&self) -> Charge {
        let call = || async {
            simulated_call(&self.faults).await?;
            Ok::<_, SimulatedFailure>(format!("txn_{}", now_ms()))
        };
        match self.limit.call(&self.breaker, call).await {
            Ok(transaction_id) => Charge {
                transaction_id,
                status: "success",
            },
            Err(error) => {
                tracing::info!(%error, "payment processor unavailable; payment pending");
                Charge {
                    transaction_id: format!("fallback_{}", now_ms()),
                    status: "pending",
                }
            }
        }
    }
}
