//! A tower middleware that takes one call from the budget of the client each request names.

use std::fmt;
use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use tower::{Layer, Service};

use super::error::RateLimitError;
use super::key::ClientKey;
use super::limiter::RateLimiter;

/// Wraps services in a [`RateLimiter`]; `key` names each request's client (its IP, user, or
/// route).
#[derive(Clone)]
pub struct RateLimitLayer<K> {
    limiter: RateLimiter,
    key: K,
}

impl<K> RateLimitLayer<K> {
    /// Limits each request by the key `key(&request)` returns.
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

/// The [`Service`] made by [`RateLimitLayer`]: a request over its client's quota fails with
/// [`RateLimitError::Limited`] without reaching the inner service.
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
    K: Fn(&Req) -> String,
    Req: Send + 'static,
{
    type Response = S::Response;
    type Error = RateLimitError<S::Error>;
    type Future = BoxFuture<'static, Result<S::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(RateLimitError::Inner)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let key = ClientKey::new((self.key)(&req));
        // The instance that was polled ready is the one to call; keep a fresh clone here.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limiter = self.limiter.clone();
        Box::pin(async move {
            limiter.check(&key?).await?;
            inner.call(req).await.map_err(RateLimitError::Inner)
        })
    }
}
