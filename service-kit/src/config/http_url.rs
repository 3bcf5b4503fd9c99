//! The base URL of a service another one calls, validated once for every service.

use url::Url;

use super::ConfigError;

/// `raw` as the base URL of a plain-HTTP service (`http://host:port`, a path allowed);
/// `variable` names the setting in errors.
///
/// # Errors
///
/// Not an `http://` URL, or one with credentials, a query or a fragment.
pub fn http_url(variable: &str, raw: &str) -> Result<Url, ConfigError> {
    let invalid = |message: String| ConfigError::invalid(variable, message);
    let url = Url::parse(raw).map_err(|e| invalid(format!("{raw:?} is not a URL: {e}")))?;
    if url.scheme() != "http" {
        return Err(invalid(format!("{raw:?} is not an http:// URL")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not contain credentials".to_owned()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(format!(
            "{raw:?} must not have a query or a fragment"
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_urls_are_accepted_with_their_path() {
        for (given, path) in [
            ("http://b:8081", "/"),
            ("http://b:8081/", "/"),
            ("http://b/api/", "/api/"),
        ] {
            let url = http_url("SERVICE_B_URL", given).expect(given);
            assert_eq!(url.path(), path);
        }
    }

    #[test]
    fn anything_else_is_refused_naming_the_variable() {
        for (bad, reason) in [
            ("ftp://x", "is not an http:// URL"),
            ("https://b", "is not an http:// URL"),
            ("b:8081", "is not an http:// URL"),
            ("", "is not a URL"),
            ("http://u:p@b", "must not contain credentials"),
            ("http://u@b", "must not contain credentials"),
            ("http://b/?x=1", "must not have a query or a fragment"),
            ("http://b#f", "must not have a query or a fragment"),
        ] {
            let err = http_url("SERVICE_B_URL", bad).expect_err(bad).to_string();
            assert!(
                err.starts_with("invalid value for SERVICE_B_URL: ") && err.contains(reason),
                "{bad}: {err}"
            );
        }
    }
}
