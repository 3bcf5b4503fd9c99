//! [`AppState`]: what the handlers share, in a file of its own so that the router (`app`) and
//! the handlers (`call`, `admin`) both depend on it and not on each other.

use std::time::Duration;

use breaker_redis::Breaker;
use service_kit::admin::{AdminAuth, AdminState};

use crate::call::CallService;

/// The name of the breaker every replica shares (its Redis key is `breaker:{service-b}`).
pub const BREAKER_NAME: &str = "service-b";

/// What the handlers share.
#[derive(Debug)]
pub(crate) struct AppState {
    /// `None` with `BREAKER_BACKEND=none`: calls go to B unprotected.
    pub(crate) breaker: Option<Breaker>,
    pub(crate) instance: String,
    pub(crate) admin: AdminAuth,
    /// `/call-service-b`'s stack: rate limit, bulkhead, fallback, retry, breaker, time limit.
    pub(crate) call: CallService,
    /// `SERVICE_B_TIMEOUT`, for the 504's `timeout_ms`.
    pub(crate) call_timeout: Duration,
}

impl AdminState for AppState {
    fn admin_auth(&self) -> &AdminAuth {
        &self.admin
    }
}
