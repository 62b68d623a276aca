//! `GET /`: the dashboard, one self-contained HTML page (inline CSS and JavaScript, no
//! external assets) that polls `/stats` with the bearer token and draws the numbers.

use std::sync::Arc;
use std::time::Duration;

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

/// The page, with `__REFRESH_MS__` where the poll interval goes.
const TEMPLATE: &str = include_str!("dashboard.html");

/// The page holds inline code only and talks to its own origin only.
const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
                   connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; \
                   frame-ancestors 'none'";

/// The page polling every `refresh`.
pub(crate) fn page(refresh: Duration) -> Arc<str> {
    let ms = crate::millis(refresh);
    TEMPLATE.replace("__REFRESH_MS__", &ms.to_string()).into()
}

/// Serves `page`: no data in it, so no token needed (the page asks for it).
pub(crate) async fn serve(page: Arc<str>) -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
            (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        ],
        page.to_string(),
    )
        .into_response()
}
