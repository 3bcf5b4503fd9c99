//! The page at `GET /`: HTML, script and stylesheet compiled into the binary, so the dashboard
//! works offline. `Content-Security-Policy: default-src 'self'` makes the browser refuse
//! anything from elsewhere, and the script puts data into the page as text only
//! (`textContent`), never as markup.

use axum::Router;
use axum::response::Response;
use axum::routing::get;

/// This origin only: no script, style, font, image or connection elsewhere.
const POLICY: &str = "default-src 'self'; base-uri 'none'; form-action 'none'; \
                      frame-ancestors 'none'";

/// The page's routes: `/`, `/assets/app.js`, `/assets/style.css`, `/assets/icon.svg`.
pub fn routes() -> Router {
    Router::new()
        .route(
            "/",
            get(|| {
                serve(
                    "text/html; charset=utf-8",
                    include_str!("assets/index.html"),
                )
            }),
        )
        .route(
            "/assets/app.js",
            get(|| {
                serve(
                    "text/javascript; charset=utf-8",
                    include_str!("assets/app.js"),
                )
            }),
        )
        .route(
            "/assets/style.css",
            get(|| serve("text/css; charset=utf-8", include_str!("assets/style.css"))),
        )
        .route(
            "/assets/icon.svg",
            get(|| serve("image/svg+xml", include_str!("assets/icon.svg"))),
        )
}

async fn serve(content_type: &'static str, body: &'static str) -> Response {
    service_kit::http::asset(POLICY, content_type, body)
}

#[cfg(test)]
mod tests {
    const PAGE: &str = include_str!("assets/index.html");
    const SCRIPT: &str = include_str!("assets/app.js");

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for attribute in ["src=\"", "href=\""] {
            for link in PAGE.split(attribute).skip(1) {
                let target = link.split('"').next().unwrap_or_default();
                assert!(
                    target.starts_with('/'),
                    "{attribute}{target} leaves the origin"
                );
            }
        }
        assert!(
            !PAGE.contains("<style") && !PAGE.contains("<script>"),
            "inline code"
        );
    }

    #[test]
    fn the_script_never_writes_markup_nor_puts_the_token_in_a_url() {
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!SCRIPT.contains(sink), "the script uses {sink}");
        }
        assert!(
            !SCRIPT.contains("localStorage"),
            "the token stays in sessionStorage"
        );
    }
}
