//! A tower middleware that answers with a [`Fallback`] when the inner service fails.

use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use tower::{Layer, Service};

use super::Fallback;

/// Wraps services so that their errors go to a [`Fallback`]. Put it outside a
/// [`BreakerLayer`](breaker_redis::BreakerLayer) to answer rejections (`CallError::Open`) too.
#[derive(Debug, Clone)]
pub struct FallbackLayer<B> {
    fallback: B,
}

impl<B> FallbackLayer<B> {
    /// Answers errors with `fallback`.
    pub fn new(fallback: B) -> Self {
        FallbackLayer { fallback }
    }
}

impl<S, B: Clone> Layer<S> for FallbackLayer<B> {
    type Service = FallbackService<S, B>;

    fn layer(&self, inner: S) -> Self::Service {
        FallbackService {
            inner,
            fallback: self.fallback.clone(),
        }
    }
}

/// The [`Service`] made by [`FallbackLayer`]. Its error is the inner one, returned when the
/// fallback has no answer either.
#[derive(Debug, Clone)]
pub struct FallbackService<S, B> {
    inner: S,
    fallback: B,
}

impl<S, B, Req> Service<Req> for FallbackService<S, B>
where
    S: Service<Req>,
    S::Future: Send + 'static,
    S::Response: Send,
    S::Error: Send,
    B: Fallback<S::Response, S::Error> + Clone + Send + 'static,
    B::Future: Send,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let call = self.inner.call(req);
        let fallback = self.fallback.clone();
        Box::pin(async move {
            match call.await {
                Ok(answer) => {
                    fallback.observe(&answer);
                    Ok(answer)
                }
                Err(error) => fallback.fallback(error).await,
            }
        })
    }
}
