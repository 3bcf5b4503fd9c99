//! A tower middleware that puts a [`Breaker`] in front of any service.
//!
//! The breaker's error type is [`CallError`]: `Open` when the circuit rejected the request
//! (the inner service was not called), `Inner` for the service's own error.

mod classify;
mod future;
#[allow(clippy::module_inception)]
// tower's layout: one file each for the service, layer and future
mod layer;

use std::task::{Context, Poll};

use tower::Service;

pub use self::classify::{Classify, ErrorIsFailure};
pub use self::future::ResponseFuture;
pub use self::layer::BreakerLayer;
use crate::{Breaker, CallError};

/// The [`Service`] made by [`BreakerLayer`].
#[derive(Debug, Clone)]
pub struct BreakerService<S, C = ErrorIsFailure> {
    inner: S,
    breaker: Breaker,
    classify: C,
}

impl<S, C> BreakerService<S, C> {
    /// Wraps `inner` in `breaker`, asking `classify` what each result means.
    pub fn new(inner: S, breaker: Breaker, classify: C) -> Self {
        BreakerService {
            inner,
            breaker,
            classify,
        }
    }
}

impl<S, C, Req> Service<Req> for BreakerService<S, C>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send + 'static,
    S::Error: Send + 'static,
    C: Classify<S::Response, S::Error> + Clone + Send + 'static,
    Req: Send + 'static,
{
    type Response = S::Response;
    type Error = CallError<S::Error>;
    type Future = ResponseFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(CallError::Inner)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        // The instance that was polled ready is the one to call; keep a fresh clone here.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let breaker = self.breaker.clone();
        let classify = self.classify.clone();
        ResponseFuture::new(async move {
            let permit = breaker.acquire().await?;
            let result = inner.call(req).await;
            permit.finish(classify.classify(&result)).await;
            result.map_err(CallError::Inner)
        })
    }
}
