//! Admin bearer-token authentication for the routes that change shared state.
//!
//! A service keeps an [`AdminAuth`] in its state, implements [`AdminState`] for that state and
//! takes [`Admin`] as the first argument of each admin handler:
//!
//! ```
//! use std::sync::Arc;
//! use axum::{Router, routing::post};
//! use service_kit::admin::{Admin, AdminAuth, AdminSettings, AdminState};
//!
//! struct State { admin: AdminAuth }
//! impl AdminState for State {
//!     fn admin_auth(&self) -> &AdminAuth { &self.admin }
//! }
//!
//! let settings = AdminSettings {
//!     admin_token: Some("a-long-enough-secret".to_owned()),
//!     ..AdminSettings::default()
//! };
//! let state = Arc::new(State { admin: AdminAuth::from_settings(&settings).expect("valid") });
//! let router: Router = Router::new()
//!     .route("/reset", post(|_: Admin| async { "done" }))
//!     .with_state(state);
//! ```
//!
//! # Rules
//!
//! - The token comes from `ADMIN_TOKEN` or from the file `ADMIN_TOKEN_FILE` names (one trailing
//!   newline is dropped), never both. A token shorter than [`MIN_TOKEN_BYTES`] or with
//!   whitespace around it is refused at start: such a token is either guessable or can never be
//!   presented in a header.
//! - Without a token the admin routes answer 404 (`code` `admin_disabled`).
//! - `Authorization: Bearer <token>` (scheme case-insensitive), compared in constant time.
//! - Two `Authorization` headers: 400 (`bad_request`); a proxy and a client disagreeing on which
//!   one counts is how credentials get confused.
//! - A missing, malformed or wrong credential: 401 with `WWW-Authenticate: Bearer`.
//! - Each client (IPv4 address, IPv6 /64) may fail `ADMIN_FAILURES__LIMIT` times per
//!   `ADMIN_FAILURES__PERIOD` (see [`lockout`]); beyond that every admin request of that client
//!   answers 429 (`rate_limited`, with `Retry-After`) without the token being looked at.
//! - Failures are logged at warn with the client and the reason, never with what was presented.

pub mod lockout;
mod token;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;

pub use lockout::{FailureSettings, Lockout};
pub use token::{AdminToken, MIN_TOKEN_BYTES};

use crate::config::ConfigError;
use crate::error::AppError;

/// The admin settings a service reads from its environment: `ADMIN_TOKEN`, `ADMIN_TOKEN_FILE`,
/// `ADMIN_FAILURES__LIMIT`, `ADMIN_FAILURES__PERIOD`.
///
/// Load it next to the service's own config (`loader.load::<AdminSettings>()`), or give a
/// service's config struct the same three fields.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AdminSettings {
    /// `ADMIN_TOKEN`; empty counts as unset.
    pub admin_token: Option<String>,
    /// `ADMIN_TOKEN_FILE`: a file holding the token (e.g. a container secret).
    pub admin_token_file: Option<PathBuf>,
    /// `ADMIN_FAILURES__*`: how many failed attempts a client may make.
    pub admin_failures: FailureSettings,
}

/// A service's admin authentication: the token (if any) and the per-client failure limit.
#[derive(Debug)]
pub struct AdminAuth {
    token: Option<AdminToken>,
    lockout: Lockout,
}

impl AdminAuth {
    /// Validates `settings`.
    ///
    /// # Errors
    ///
    /// A token that is too short or has surrounding whitespace, both variables set, an
    /// unreadable token file, or a bad `ADMIN_FAILURES__*` value; the error names the variable.
    pub fn from_settings(settings: &AdminSettings) -> Result<Self, ConfigError> {
        let token = AdminToken::from_sources(
            settings.admin_token.as_deref(),
            settings.admin_token_file.as_deref(),
        )?;
        Ok(Self {
            token,
            lockout: Lockout::new(&settings.admin_failures)?,
        })
    }

    /// No token: every admin route answers 404.
    pub fn disabled() -> Self {
        Self {
            token: None,
            lockout: Lockout::default(),
        }
    }

    /// Whether a token is configured.
    pub fn is_enabled(&self) -> bool {
        self.token.is_some()
    }

    /// Checks a request's headers, from `client` (`None` when the peer is unknown; such
    /// requests share one failure budget).
    ///
    /// # Errors
    ///
    /// The answer to send instead: 404, 429, 400 or 401 (see the module docs).
    pub fn check(&self, headers: &HeaderMap, client: Option<IpAddr>) -> Result<(), Box<AppError>> {
        self.refusal(headers, client)
            .map_or(Ok(()), |e| Err(Box::new(e)))
    }

    /// The answer refusing the request, if any.
    fn refusal(&self, headers: &HeaderMap, client: Option<IpAddr>) -> Option<AppError> {
        let Some(expected) = &self.token else {
            return Some(
                AppError::not_found("admin endpoints are disabled")
                    .with_code("admin_disabled")
                    .with_field(
                        "detail",
                        "set ADMIN_TOKEN or ADMIN_TOKEN_FILE to enable them",
                    ),
            );
        };
        if let Some(wait) = self.lockout.locked(client) {
            tracing::debug!(client = %who(client), "admin attempt refused: too many failures");
            return Some(
                AppError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too many failed admin attempts",
                )
                .with_code("rate_limited")
                .with_retry_after(wait),
            );
        }
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let (first, second) = (values.next(), values.next());
        let failure = match (first, second) {
            (_, Some(_)) => Failure::Duplicate,
            (None, None) => Failure::Missing,
            (Some(value), None) => match bearer(value.as_bytes()) {
                None => Failure::NotBearer,
                Some(token) if expected.matches(token) => return None,
                Some(_) => Failure::Wrong,
            },
        };
        Some(self.failed(failure, client))
    }

    fn failed(&self, failure: Failure, client: Option<IpAddr>) -> AppError {
        let locked_now = self.lockout.record_failure(client);
        tracing::warn!(client = %who(client), reason = failure.reason(), "admin authentication failed");
        if locked_now {
            tracing::warn!(client = %who(client), "admin attempts of this client are refused for a while: too many failures");
        }
        match failure {
            Failure::Duplicate => AppError::bad_request("more than one Authorization header")
                .with_code("bad_request")
                .with_field("detail", "send exactly one Authorization: Bearer <token>"),
            other => AppError::new(StatusCode::UNAUTHORIZED, "unauthorized")
                .with_code("unauthorized")
                .with_field("detail", other.reason())
                .with_header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")),
        }
    }
}

/// Why an admin request was refused; what the log and the answer say.
#[derive(Debug, Clone, Copy)]
enum Failure {
    Duplicate,
    Missing,
    NotBearer,
    Wrong,
}

impl Failure {
    fn reason(self) -> &'static str {
        match self {
            Self::Duplicate => "more than one Authorization header",
            Self::Missing => "expected Authorization: Bearer <ADMIN_TOKEN>",
            Self::NotBearer => "expected Authorization: Bearer <ADMIN_TOKEN>",
            Self::Wrong => "wrong token",
        }
    }
}

fn who(client: Option<IpAddr>) -> String {
    client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// The token of a `Bearer <token>` credential (the scheme is case-insensitive, RFC 7235).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, token) = value.split_at_checked(7)?;
    (scheme.eq_ignore_ascii_case(b"bearer ") && !token.is_empty()).then_some(token)
}

/// A state that holds an [`AdminAuth`], so that [`Admin`] can be extracted from it.
pub trait AdminState {
    /// The service's admin authentication.
    fn admin_auth(&self) -> &AdminAuth;
}

impl<T: AdminState> AdminState for Arc<T> {
    fn admin_auth(&self) -> &AdminAuth {
        (**self).admin_auth()
    }
}

impl AdminState for AdminAuth {
    fn admin_auth(&self) -> &AdminAuth {
        self
    }
}

/// Proof that the request carries the admin token: take it as a handler argument.
///
/// Rejections are [`AdminAuth::check`]'s. The client is the connection's peer
/// ([`ConnectInfo`], which [`serve`](crate::serve) provides); `X-Forwarded-For` is not read, as
/// any client could forge it to get a fresh failure budget.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl<S: AdminState + Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let client = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        state
            .admin_auth()
            .check(&parts.headers, client)
            .map_err(|e| *e)?;
        Ok(Admin)
    }
}

#[cfg(test)]
mod tests;
