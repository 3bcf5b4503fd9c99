//! [`take_error_code`]: every JSON error answer carries a stable machine-readable `code`; the
//! test helpers check that once for every answer they read, then set the code aside so that a
//! test can compare the fields its contract names.

use serde_json::Value;

/// For an error answer (`status` 400 or more) with a JSON object body: requires a `code` of
/// lowercase letters and underscores, removes it from `body` and returns it. Other answers are
/// left as they are (`None`).
///
/// # Panics
///
/// An error object without such a code.
pub fn take_error_code(status: u16, body: &mut Value) -> Option<String> {
    let object = body.as_object_mut().filter(|_| status >= 400)?;
    let code = object.remove("code");
    let code = code.as_ref().and_then(Value::as_str).unwrap_or_default();
    assert!(
        !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
        "error answer {status} without a stable code: {body}"
    );
    Some(code.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_code_of_an_error_is_required_and_set_aside() {
        let mut body = json!({"error": "x", "code": "not_found"});
        assert_eq!(
            take_error_code(404, &mut body).as_deref(),
            Some("not_found")
        );
        assert_eq!(body, json!({"error": "x"}));
        let mut ok = json!({"code": "kept"});
        assert_eq!(take_error_code(200, &mut ok), None);
        assert_eq!(ok, json!({"code": "kept"}));
        let missing = std::panic::catch_unwind(|| take_error_code(500, &mut json!({"error": "x"})));
        assert!(missing.is_err());
    }
}
