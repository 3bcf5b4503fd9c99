use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use super::*;

const TOKEN: &str = "0123456789abcdef-secret";

fn auth_with(limit: u32) -> AdminAuth {
    AdminAuth::from_settings(&AdminSettings {
        admin_token: Some(TOKEN.to_owned()),
        admin_token_file: None,
        admin_failures: FailureSettings {
            limit,
            period: Duration::from_secs(3600),
        },
    })
    .expect("valid")
}

fn headers(values: &[&str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for v in values {
        headers.append(AUTHORIZATION, v.parse().expect("a header value"));
    }
    headers
}

fn client() -> Option<IpAddr> {
    Some("192.0.2.7".parse().expect("an address"))
}

#[test]
fn a_short_token_is_refused_naming_the_variable() {
    for short in ["x", " ", "fifteen-bytes!!"] {
        let err = AdminToken::from_sources(Some(short), None).expect_err(short);
        assert!(
            err.to_string()
                .starts_with("invalid value for ADMIN_TOKEN: "),
            "{err}"
        );
    }
    assert!(AdminToken::from_sources(Some("sixteen-bytes!!!"), None).is_ok());
}

#[test]
fn a_token_with_surrounding_whitespace_is_refused() {
    for padded in [
        " 0123456789abcdef",
        "0123456789abcdef ",
        "\t0123456789abcdef\n",
    ] {
        let err = AdminToken::from_sources(Some(padded), None).expect_err(padded);
        assert!(err.to_string().contains("whitespace"), "{err}");
    }
}

#[test]
fn an_empty_token_counts_as_unset() {
    assert_eq!(
        AdminToken::from_sources(Some(""), None).expect("valid"),
        None
    );
    assert!(
        !AdminAuth::from_settings(&AdminSettings::default())
            .expect("valid")
            .is_enabled()
    );
}

#[test]
fn the_token_file_is_read_without_its_trailing_newline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("token");
    std::fs::write(&path, format!("{TOKEN}\n")).expect("written");
    let token = AdminToken::from_sources(None, Some(&path))
        .expect("valid")
        .expect("set");
    assert!(token.matches(TOKEN.as_bytes()));
    assert!(!token.matches(format!("{TOKEN}\n").as_bytes()));
}

#[test]
fn a_bad_token_file_is_refused_naming_the_variable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let short = dir.path().join("short");
    std::fs::write(&short, "abc\n").expect("written");
    let padded = dir.path().join("padded");
    std::fs::write(&padded, format!("{TOKEN} \n")).expect("written");
    let missing = dir.path().join("missing");
    for path in [&short, &padded, &missing] {
        let err = AdminToken::from_sources(None, Some(path)).expect_err("refused");
        assert!(
            err.to_string()
                .starts_with("invalid value for ADMIN_TOKEN_FILE: "),
            "{err}"
        );
    }
    let both = AdminToken::from_sources(Some(TOKEN), Some(&short)).expect_err("both");
    assert!(both.to_string().contains("set only one"), "{both}");
}

#[test]
fn the_token_never_shows_in_debug_output() {
    let token = AdminToken::new(TOKEN, "ADMIN_TOKEN").expect("valid");
    assert!(!format!("{token:?}").contains("secret"));
    assert!(!format!("{:?}", auth_with(3)).contains("secret"));
}

#[test]
fn tokens_compare_by_whole_value() {
    let token = AdminToken::new(TOKEN, "ADMIN_TOKEN").expect("valid");
    assert!(token.matches(TOKEN.as_bytes()));
    let longer = format!("{TOKEN}x");
    let wrong = [&TOKEN.as_bytes()[1..], b"", longer.as_bytes(), &[0u8; 23]];
    for wrong in wrong {
        assert!(!token.matches(wrong), "{wrong:?}");
    }
}

#[test]
fn bearer_scheme_is_case_insensitive_and_needs_a_token() {
    assert_eq!(bearer(b"Bearer abc"), Some(&b"abc"[..]));
    assert_eq!(bearer(b"bEaReR abc"), Some(&b"abc"[..]));
    for none in [&b"Bearer "[..], b"Basic abc", b"Bearer", b""] {
        assert_eq!(bearer(none), None);
    }
}

#[test]
fn two_authorization_headers_are_a_bad_request_even_if_both_are_right() {
    let auth = auth_with(10);
    let right = format!("Bearer {TOKEN}");
    let err = auth
        .check(&headers(&[&right, &right]), client())
        .expect_err("refused");
    assert_eq!(
        (err.status(), err.code()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    assert!(auth.check(&headers(&[&right]), client()).is_ok());
}

#[test]
fn without_a_token_admin_routes_are_not_found() {
    let err = AdminAuth::disabled()
        .check(&headers(&["Bearer anything"]), client())
        .expect_err("off");
    assert_eq!(
        (err.status(), err.code()),
        (StatusCode::NOT_FOUND, "admin_disabled")
    );
}

#[test]
fn failures_are_limited_per_client_and_then_even_the_right_token_waits() {
    let auth = auth_with(3);
    let right = format!("Bearer {TOKEN}");
    for _ in 0..3 {
        let err = auth
            .check(&headers(&["Bearer wrong"]), client())
            .expect_err("wrong");
        assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    }
    let err = auth
        .check(&headers(&[&right]), client())
        .expect_err("locked");
    assert_eq!(
        (err.status(), err.code()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let response = axum::response::IntoResponse::into_response(*err);
    let secs: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(secs >= 1, "{secs}");
    let other = Some("192.0.2.8".parse().expect("an address"));
    assert!(
        auth.check(&headers(&[&right]), other).is_ok(),
        "another client is not locked"
    );
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_wrong_token_is_logged_with_the_client_and_never_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    let guess = "guess-ZQX-0123456789";
    let near = format!("Bearer {TOKEN}x");
    tracing::subscriber::with_default(subscriber, || {
        let auth = auth_with(2);
        for value in [
            format!("Bearer {guess}"),
            near.clone(),
            format!("Bearer {TOKEN}"),
        ] {
            let _ = auth.check(&headers(&[&value]), client());
        }
    });
    let log = String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("UTF-8");
    assert!(log.contains("admin authentication failed"), "{log}");
    assert!(
        log.contains("192.0.2.7") && log.contains("wrong token"),
        "{log}"
    );
    assert!(!log.contains("guess-ZQX") && !log.contains(TOKEN), "{log}");
}
