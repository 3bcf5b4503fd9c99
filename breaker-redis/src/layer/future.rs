use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::CallError;

type Inner<R, E> = Pin<Box<dyn Future<Output = Result<R, CallError<E>>> + Send>>;

/// The response future of [`BreakerService`](super::BreakerService): acquire, call, record.
pub struct ResponseFuture<R, E> {
    inner: Inner<R, E>,
}

impl<R, E> ResponseFuture<R, E> {
    pub(crate) fn new(fut: impl Future<Output = Result<R, CallError<E>>> + Send + 'static) -> Self {
        ResponseFuture {
            inner: Box::pin(fut),
        }
    }
}

impl<R, E> Future for ResponseFuture<R, E> {
    type Output = Result<R, CallError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<R, E> fmt::Debug for ResponseFuture<R, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}
