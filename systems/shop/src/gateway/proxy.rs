//! The proxy: `/api/payments*`, `/api/inventory*` and `/api/shipping*`, any method, to their
//! service, the service's status and body passed through.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use super::State;
use super::upstream::{Answer, Call, Upstream};
use crate::common::peer_ip;
use service_kit::trace::TraceContext;

/// The proxied routes: each prefix, alone or followed by a path.
pub(crate) fn routes(state: &Arc<State>) -> Router {
    let services = [
        ("/api/payments", &state.payment),
        ("/api/inventory", &state.inventory),
        ("/api/shipping", &state.shipping),
    ];
    let mut router = Router::new();
    for (prefix, upstream) in services {
        let handler = {
            let (state, upstream) = (Arc::clone(state), upstream.clone());
            move |request: Request| async move { forward(&state, &upstream, request).await }
        };
        router = router
            .route(prefix, any(handler.clone()))
            .route(&format!("{prefix}/{{*rest}}"), any(handler));
    }
    router
}

async fn forward(state: &State, upstream: &Upstream, request: Request) -> Response {
    let peer = peer_ip(request.extensions());
    let (method, uri, headers) = (
        request.method().clone(),
        request.uri().clone(),
        request.headers().clone(),
    );
    let body = match read_json(request).await {
        Ok(body) => body,
        Err(answer) => return answer.into_response(),
    };
    let path = uri
        .path_and_query()
        .map_or_else(|| uri.path(), |p| p.as_str());
    let forwarded_for = state.trusted.forward(peer, &headers);
    let call = Call {
        method,
        path,
        body,
        forwarded_for: &forwarded_for,
        trace: &TraceContext::from_headers(&headers),
    };
    match upstream.send(call).await {
        Ok(reply) => {
            let mut response = (reply.status, Body::from(reply.body)).into_response();
            response.headers_mut().extend(reply.headers);
            response
        }
        Err(failure) => upstream.failed(&failure).into_response(),
    }
}

/// The request's body, `None` when empty; JSON only, within the body limit (service-kit's
/// `MAX_BODY_BYTES`), so that nothing else is forwarded.
pub(crate) async fn read_json(request: Request) -> Result<Option<Bytes>, Answer> {
    let bytes = Bytes::from_request(request, &())
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Answer::error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large")
            } else {
                Answer::error(rejection.status(), "cannot read request body")
            }
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(_) => Ok(Some(bytes)),
        Err(e) => {
            let mut answer = Answer::error(StatusCode::BAD_REQUEST, "malformed JSON body");
            answer.body["detail"] = e.to_string().into();
            Err(answer)
        }
    }
}
