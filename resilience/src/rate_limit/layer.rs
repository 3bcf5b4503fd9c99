//! A tower middleware that takes one call from the budget of the client each request names.

use std::fmt;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use tower::{BoxError, Layer, Service};

use super::extract::KeyExtractor;
use super::limiter::RateLimiter;

/// Wraps services in a [`RateLimiter`]; `key` names each request's client (its IP, user, or
/// route), see [`KeyExtractor`].
#[derive(Clone)]
pub struct RateLimitLayer<K> {
    limiter: RateLimiter,
    key: K,
}

impl<K> RateLimitLayer<K> {
    /// Limits each request by the client `key` names.
    pub fn new(limiter: RateLimiter, key: K) -> Self {
        RateLimitLayer { limiter, key }
    }
}

impl<K> fmt::Debug for RateLimitLayer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl<S, K: Clone> Layer<S> for RateLimitLayer<K> {
    type Service = RateLimitService<S, K>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService {
            inner,
            limiter: self.limiter.clone(),
            key: self.key.clone(),
        }
    }
}

/// The [`Service`] made by [`RateLimitLayer`]. Its error is a [`BoxError`]: a request over
/// its client's quota fails with a boxed [`RateLimited`](super::RateLimited) without reaching
/// the inner service; the inner service's errors are boxed as they are.
#[derive(Clone)]
pub struct RateLimitService<S, K> {
    inner: S,
    limiter: RateLimiter,
    key: K,
}

impl<S, K> fmt::Debug for RateLimitService<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitService")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl<S, K, Req> Service<Req> for RateLimitService<S, K>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    K: KeyExtractor<Req>,
    Req: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let key = self.key.key(&req);
        // The instance that was polled ready is the one to call; keep a fresh clone here.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limiter = self.limiter.clone();
        Box::pin(async move {
            if let Some(key) = key {
                limiter.check(&key).await?;
            }
            inner.call(req).await.map_err(Into::into)
        })
    }
}
