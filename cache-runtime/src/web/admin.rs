//! An admin API and dashboard for a [`Cache`], as an axum 0.8 [`Router`] (feature `axum`).
//!
//! [`router`] builds it; nest it where operators can reach it, never on a public listener
//! without a token:
//!
//! ```no_run
//! use cache_runtime::admin::{self, AdminConfig};
//! use cache_runtime::Cache;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cache = Cache::builder().redis_url("redis://127.0.0.1:6379").build().await?;
//! let token = std::env::var("CACHE_ADMIN_TOKEN")?;
//! let app = axum::Router::new()
//!     .nest_service("/admin", admin::router(cache, AdminConfig::new().bearer_token(token))?);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Endpoints
//!
//! | method and path | answers |
//! | --- | --- |
//! | `GET /` | the HTML dashboard (no data in it: served without the token, see below) |
//! | `GET /stats` | the counters: `total` ([`Stats`](crate::Stats) plus `hit_rate`, `store_hits`, `l1_active`) and `namespaces` (one [`NamespaceStats`](crate::NamespaceStats) each, plus `hit_rate`) |
//! | `GET /health` | [`Health`](crate::Health): 200 when the store answers, 503 when not |
//! | `POST /invalidate` | body `{"keys": [], "tags": [], "namespaces": [], "patterns": []}` (each optional); answers how many entries each kind deleted, and `total` |
//! | `POST /warm` | body `{"warmers": ["name", ...]}` runs those registered warmers, `{}` or an empty body runs all; answers each one's [`WarmReport`](crate::WarmReport) and `duration_ms` |
//! | `GET /keys?namespace=NS&limit=N` | up to `N` keys of namespace `NS` (default 100, at most [`AdminConfig::keys_limit_max`](crate::web::admin::AdminConfig::keys_limit_max)), found by a bounded SCAN: for debugging |
//!
//! # Authentication
//!
//! Every endpoint but `GET /` needs `Authorization: Bearer <token>`, the token given to
//! [`AdminConfig::bearer_token`](crate::web::admin::AdminConfig::bearer_token), compared in constant time; without it the answer is 401.
//! [`router`] refuses to build without a token unless [`AdminConfig::allow_unauthenticated`](crate::web::admin::AdminConfig::allow_unauthenticated)
//! says so explicitly.
//!
//! `GET /` is served without the token because the page holds no data: it is static HTML,
//! CSS and JavaScript. The page asks for the token (or reads it from the URL fragment,
//! `/admin/#token=...`, which browsers never send to the server, so it stays out of access
//! logs), keeps it in the tab's `sessionStorage`, and sends it as the bearer token when it
//! polls `/stats`.
//!
//! # Errors
//!
//! Every error is JSON, `{"error": "..."}`: 400 malformed JSON or query, 401 missing or
//! wrong token, 404 unknown path or warmer, 405 wrong method, 413 body over
//! [`AdminConfig::body_limit`](crate::web::admin::AdminConfig::body_limit), 415 a `POST`
//! without `Content-Type: application/json` (even with an empty body, so that no mutating
//! route runs for a cross-site request a browser sends without a CORS preflight), 422 JSON of
//! the wrong shape (unknown fields among them) or a pattern with more than
//! [`MAX_WILDCARDS`](crate::MAX_WILDCARDS) wildcards, 503 the store failed.

mod auth;
mod dashboard;
mod handlers;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::error::{Error, Result};
use crate::Cache;

/// The shortest bearer token [`router`] accepts, in bytes.
pub const MIN_TOKEN_BYTES: usize = 16;

/// The default [`AdminConfig::body_limit`]: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// How many keys `GET /keys` lists when the request gives no `limit`.
pub const DEFAULT_KEYS_LIMIT: usize = 100;

/// The default [`AdminConfig::keys_limit_max`].
pub const DEFAULT_KEYS_LIMIT_MAX: usize = 1_000;

/// The default [`AdminConfig::dashboard_refresh`]: 5 seconds.
pub const DEFAULT_DASHBOARD_REFRESH: Duration = Duration::from_secs(5);

/// How [`router`] serves: the bearer token, the body limit, the bound of `GET /keys`, the
/// dashboard's refresh interval.
///
/// `Debug` never shows the token.
#[derive(Clone)]
pub struct AdminConfig {
    token: Option<String>,
    unauthenticated: bool,
    body_limit: usize,
    keys_limit_max: usize,
    refresh: Duration,
}

impl AdminConfig {
    /// No token (so [`router`] refuses to build until one is given, or
    /// [`allow_unauthenticated`](AdminConfig::allow_unauthenticated) is called), bodies up to
    /// [`DEFAULT_BODY_LIMIT`], `GET /keys` up to [`DEFAULT_KEYS_LIMIT_MAX`] keys, the dashboard
    /// refreshing every [`DEFAULT_DASHBOARD_REFRESH`].
    pub fn new() -> Self {
        AdminConfig {
            token: None,
            unauthenticated: false,
            body_limit: DEFAULT_BODY_LIMIT,
            keys_limit_max: DEFAULT_KEYS_LIMIT_MAX,
            refresh: DEFAULT_DASHBOARD_REFRESH,
        }
    }

    /// Requests must carry `Authorization: Bearer <token>`. The token must be visible ASCII
    /// (no spaces), as it travels in a header, and at least
    /// [`MIN_TOKEN_BYTES`] (16) bytes long; use a long random one
    /// (`openssl rand -hex 32`).
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Serves every endpoint to anyone who can connect, when no token is given: only for a
    /// listener nobody else reaches (a loopback port, a sidecar). A token, when given, is
    /// still required.
    pub fn allow_unauthenticated(mut self) -> Self {
        self.unauthenticated = true;
        self
    }

    /// The largest request body accepted, in bytes; larger ones get 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The most keys one `GET /keys` lists; a larger `limit` is lowered to it.
    pub fn keys_limit_max(mut self, n: usize) -> Self {
        self.keys_limit_max = n;
        self
    }

    /// How often the dashboard polls `/stats` (at least 100 ms).
    pub fn dashboard_refresh(mut self, every: Duration) -> Self {
        self.refresh = every;
        self
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig::new()
    }
}

impl fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminConfig")
            .field("bearer_token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("allow_unauthenticated", &self.unauthenticated)
            .field("body_limit", &self.body_limit)
            .field("keys_limit_max", &self.keys_limit_max)
            .field("dashboard_refresh", &self.refresh)
            .finish()
    }
}

/// What every handler shares.
pub(crate) struct AdminState {
    pub(crate) cache: Cache,
    pub(crate) body_limit: usize,
    pub(crate) keys_limit_max: usize,
}

/// The admin router of `cache` (see the [module docs](self) for the endpoints). Its paths
/// are relative: mount it with `Router::nest_service("/admin", ...)` (or serve it as it is).
/// `nest_service` serves the dashboard at both `/admin` and `/admin/`; axum 0.8's
/// `Router::nest` serves it at `/admin` only, and `/admin/` answers 404.
///
/// # Errors
/// [`Error::Config`] when no bearer token is configured and
/// [`AdminConfig::allow_unauthenticated`] was not called, when the token is shorter than
/// [`MIN_TOKEN_BYTES`] or holds characters other than visible ASCII, when the keys limit is 0, or when the dashboard
/// refresh is under 100 ms.
pub fn router(cache: Cache, config: AdminConfig) -> Result<Router> {
    let auth = match &config.token {
        Some(token) => auth::Auth::token(token)?,
        None if config.unauthenticated => auth::Auth::none(),
        None => {
            return Err(Error::config(
                "the admin router needs a bearer token: call AdminConfig::bearer_token, or \
                 AdminConfig::allow_unauthenticated to serve it to anyone who can connect",
            ))
        }
    };
    if config.keys_limit_max == 0 {
        return Err(Error::config(
            "AdminConfig::keys_limit_max must be at least 1",
        ));
    }
    if config.refresh < Duration::from_millis(100) {
        return Err(Error::config(
            "AdminConfig::dashboard_refresh must be at least 100 ms",
        ));
    }
    let state = Arc::new(AdminState {
        cache,
        body_limit: config.body_limit,
        keys_limit_max: config.keys_limit_max,
    });
    let page = dashboard::page(config.refresh);
    let data = Router::new()
        .route("/stats", get(handlers::stats))
        .route("/health", get(handlers::health))
        .route("/invalidate", post(handlers::invalidate))
        .route("/warm", post(handlers::warm))
        .route("/keys", get(handlers::keys))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::new(auth),
            auth::require,
        ))
        .with_state(state);
    Ok(data
        .route("/", get(move || dashboard::serve(page.clone())))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(config.body_limit)))
}
