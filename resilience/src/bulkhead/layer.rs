//! [`BulkheadLayer`]: a [`Bulkhead`] in front of a tower service.

use std::task::{Context, Poll};

use futures_util::future::BoxFuture;
use tower::{BoxError, Layer, Service};

use super::Bulkhead;

/// The response future of [`BulkheadService`]: take a slot, call, free the slot.
pub type ResponseFuture<R> = BoxFuture<'static, Result<R, BoxError>>;

/// Wraps services in a [`Bulkhead`]; every service made by one layer shares its slots.
#[derive(Debug, Clone)]
pub struct BulkheadLayer {
    bulkhead: Bulkhead,
}

impl BulkheadLayer {
    /// Limits the concurrent requests of the wrapped services to `bulkhead`'s slots.
    pub fn new(bulkhead: Bulkhead) -> Self {
        BulkheadLayer { bulkhead }
    }
}

impl<S> Layer<S> for BulkheadLayer {
    type Service = BulkheadService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BulkheadService {
            inner,
            bulkhead: self.bulkhead.clone(),
        }
    }
}

/// The [`Service`] made by [`BulkheadLayer`]. Its error is a [`BoxError`]: a request that
/// finds no slot in time fails with a boxed [`BulkheadFull`](super::BulkheadFull) without
/// reaching the inner service; the inner service's errors are boxed as they are.
#[derive(Debug, Clone)]
pub struct BulkheadService<S> {
    inner: S,
    bulkhead: Bulkhead,
}

impl<S, Req> Service<Req> for BulkheadService<S>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send + 'static,
    S::Error: Into<BoxError>,
    Req: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        // The instance that was polled ready is the one to call; keep a fresh clone here.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let bulkhead = self.bulkhead.clone();
        Box::pin(async move {
            let _slot = bulkhead.acquire().await?;
            inner.call(req).await.map_err(Into::into)
        })
    }
}
