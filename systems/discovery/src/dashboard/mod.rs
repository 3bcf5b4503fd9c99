//! The two dashboards: the registry's at the discovery server's `GET /`, the gateway's at the
//! gateway's `GET /`. Each is a static page whose script polls its own service's JSON API.
//!
//! Everything a page needs is compiled into the binary (no CDN, no external font), so the
//! dashboards work offline. A Content-Security-Policy of `'self'` makes the browser refuse
//! anything else, and the scripts put data into the page as text only.
//!
//! # Routes
//!
//! | route | served by | answer |
//! |---|---|---|
//! | `GET /` | server | the registry dashboard: every service and instance of `GET /services`, with its heartbeat age, refreshed every 1-10 s |
//! | `GET /` | gateway | the gateway dashboard: `/health` with the breakers and the discovery cache, `/users`, `/orders/user/{id}` for a chosen id, `/users-with-orders`; auto-refresh every 1-10 s (5 s at first) |
//! | `GET /dashboard/style.css`, `/dashboard/common.js`, `/dashboard/icon.svg` | both | shared assets |
//! | `GET /dashboard/registry.js` | server | the registry page's script |
//! | `GET /dashboard/gateway.js` | gateway | the gateway page's script |
//!
//! The gateway page links to the registry dashboard on port 3000 of the host it was loaded
//! from, or to the URL given as `?discovery=<url>`.
//!
//! # Layout
//!
//! - here: [`registry`] and [`gateway`], the routers to merge into each service's routes.
//! - `assets/`: the pages, their scripts, the stylesheet and the icon.

use axum::Router;
use axum::response::Response;
use axum::routing::get;

/// Only this origin: no script, style, font or request elsewhere.
const POLICY: &str = "default-src 'self'; img-src 'self' data:; base-uri 'none'; \
                      form-action 'none'; frame-ancestors 'none'";

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// The discovery server's dashboard routes.
pub fn registry() -> Router {
    shared()
        .route(
            "/",
            get(|| serve(HTML, include_str!("assets/registry.html"))),
        )
        .route(
            "/dashboard/registry.js",
            get(|| serve(JS, include_str!("assets/registry.js"))),
        )
}

/// The gateway's dashboard routes.
pub fn gateway() -> Router {
    shared()
        .route(
            "/",
            get(|| serve(HTML, include_str!("assets/gateway.html"))),
        )
        .route(
            "/dashboard/gateway.js",
            get(|| serve(JS, include_str!("assets/gateway.js"))),
        )
}

fn shared() -> Router {
    Router::new()
        .route(
            "/dashboard/style.css",
            get(|| serve(CSS, include_str!("assets/style.css"))),
        )
        .route(
            "/dashboard/common.js",
            get(|| serve(JS, include_str!("assets/common.js"))),
        )
        .route(
            "/dashboard/icon.svg",
            get(|| serve(SVG, include_str!("assets/icon.svg"))),
        )
}

async fn serve(content_type: &'static str, body: &'static str) -> Response {
    service_kit::http::asset(POLICY, content_type, body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_pages_load_nothing_from_elsewhere() {
        for page in [
            include_str!("assets/registry.html"),
            include_str!("assets/gateway.html"),
        ] {
            for attribute in ["src=\"", "href=\""] {
                for link in page.split(attribute).skip(1) {
                    let target = link.split('"').next().unwrap_or_default();
                    assert!(
                        target.starts_with('/') || target == "#",
                        "{attribute}{target} leaves the origin"
                    );
                }
            }
        }
    }

    #[test]
    fn the_scripts_never_write_markup() {
        for script in [
            include_str!("assets/common.js"),
            include_str!("assets/registry.js"),
            include_str!("assets/gateway.js"),
        ] {
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
            ] {
                assert!(!script.contains(sink), "a script uses {sink}");
            }
        }
    }
}
