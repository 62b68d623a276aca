//! The JSON endpoints, and the JSON errors every endpoint answers with.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{AdminState, DEFAULT_KEYS_LIMIT};
use crate::{Health, NamespaceStats, Stats, WarmReport};

/// An error answer: `{"error": message}` with `status`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn unauthorized(message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    /// A failed cache operation: 503, the store is what failed.
    fn store(error: &crate::Error) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            no_store(),
            Json(ErrorBody {
                error: &self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Admin answers are never cached by browsers or proxies.
fn no_store() -> [(axum::http::HeaderName, HeaderValue); 1] {
    [(CACHE_CONTROL, HeaderValue::from_static("no-store"))]
}

/// Unknown paths: 404.
pub(crate) async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such admin endpoint")
}

/// Known paths, wrong method: 405.
pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed on this endpoint",
    )
}

/// `GET /stats`.
#[derive(Serialize)]
struct StatsBody {
    total: Totals,
    namespaces: Vec<NamespaceBody>,
    /// Each registered warmer's runs, failures and last report (its count and duration).
    warmers: Vec<crate::WarmerStats>,
}

#[derive(Serialize)]
struct Totals {
    #[serde(flatten)]
    stats: Stats,
    hit_rate: f64,
    /// Of the hits, those from the store (Redis, or the memory store): neither from the
    /// in-process tier nor another caller's body.
    store_hits: u64,
    /// Whether the in-process tier serves reads now (Redis with L1 and its backplane up).
    l1_active: bool,
}

#[derive(Serialize)]
struct NamespaceBody {
    #[serde(flatten)]
    stats: NamespaceStats,
    hit_rate: f64,
}

pub(crate) async fn stats(State(state): State<Arc<AdminState>>) -> Response {
    let cache = &state.cache;
    let namespaces = cache
        .namespace_stats()
        .into_iter()
        .map(|stats| NamespaceBody {
            hit_rate: stats.hit_rate(),
            stats,
        })
        .collect();
    let stats = cache.stats();
    let total = Totals {
        hit_rate: stats.hit_rate(),
        store_hits: stats
            .hits
            .saturating_sub(stats.l1_hits)
            .saturating_sub(stats.coalesced),
        l1_active: cache.l1_active(),
        stats,
    };
    let warmers = cache.warmers();
    (
        no_store(),
        Json(StatsBody {
            total,
            namespaces,
            warmers,
        }),
    )
        .into_response()
}

/// `GET /health`: 200 when the store answers, 503 when not.
pub(crate) async fn health(State(state): State<Arc<AdminState>>) -> Response {
    let health: Health = state.cache.health().await;
    let status = if health.is_healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, no_store(), Json(health)).into_response()
}

/// `POST /invalidate`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InvalidateRequest {
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
}

/// How many entries each kind of invalidation deleted.
#[derive(Serialize)]
struct Invalidated {
    keys: u64,
    tags: u64,
    namespaces: u64,
    patterns: u64,
    total: u64,
}

pub(crate) async fn invalidate(
    State(state): State<Arc<AdminState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: InvalidateRequest = json_body(&headers, body, state.body_limit)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "expected a JSON body: {\"keys\": [], \"tags\": [], \"namespaces\": [], \"patterns\": []}",
        )
    })?;
    // A bad pattern refuses the whole request: nothing is deleted.
    for pattern in &request.patterns {
        crate::key::pattern::check(pattern)
            .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    }
    let cache = &state.cache;
    let mut done = Invalidated {
        keys: 0,
        tags: 0,
        namespaces: 0,
        patterns: 0,
        total: 0,
    };
    for key in &request.keys {
        if cache
            .invalidate_key(key)
            .await
            .map_err(|e| ApiError::store(&e))?
        {
            done.keys += 1;
        }
    }
    for tag in &request.tags {
        done.tags += cache
            .invalidate_tag(tag)
            .await
            .map_err(|e| ApiError::store(&e))?;
    }
    for namespace in &request.namespaces {
        done.namespaces += cache
            .invalidate_namespace(namespace)
            .await
            .map_err(|e| ApiError::store(&e))?;
    }
    for pattern in &request.patterns {
        done.patterns += cache
            .invalidate_pattern(pattern)
            .await
            .map_err(|e| ApiError::store(&e))?;
    }
    done.total = done.keys + done.tags + done.namespaces + done.patterns;
    Ok((no_store(), Json(done)).into_response())
}

/// `POST /warm`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WarmRequest {
    /// `None`: every registered warmer.
    #[serde(default)]
    warmers: Option<Vec<String>>,
}

#[derive(Serialize)]
struct Warmed {
    warmers: Vec<WarmReport>,
    duration_ms: u64,
}

pub(crate) async fn warm(
    State(state): State<Arc<AdminState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request: Option<WarmRequest> = json_body(&headers, body, state.body_limit)?;
    let started = Instant::now();
    let warmers = match request.and_then(|r| r.warmers) {
        None => state.cache.warm_all().await,
        Some(names) => {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            state.cache.warm(&names).await.map_err(|e| match e {
                // An unknown warmer: the message names it.
                crate::Error::Config(message) => ApiError::new(StatusCode::NOT_FOUND, message),
                other => ApiError::store(&other),
            })?
        }
    };
    let duration_ms = crate::millis(started.elapsed());
    Ok((
        no_store(),
        Json(Warmed {
            warmers,
            duration_ms,
        }),
    )
        .into_response())
}

/// `GET /keys?namespace=...&limit=...`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeysQuery {
    namespace: String,
    limit: Option<usize>,
}

#[derive(Serialize)]
struct KeysBody {
    namespace: String,
    /// The limit applied (the one asked for, lowered to the configured maximum).
    limit: usize,
    keys: Vec<String>,
    /// Whether the namespace holds more keys than listed.
    truncated: bool,
}

pub(crate) async fn keys(
    State(state): State<Arc<AdminState>>,
    query: Result<Query<KeysQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "invalid query: {}; expected ?namespace=NAME&limit=N",
                source_text(&e)
            ),
        )
    })?;
    let limit = query
        .limit
        .unwrap_or(DEFAULT_KEYS_LIMIT)
        .min(state.keys_limit_max);
    if limit == 0 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "limit must be at least 1",
        ));
    }
    // One more than asked tells whether there are more.
    let mut keys = state
        .cache
        .keys(&query.namespace, limit + 1)
        .await
        .map_err(|e| ApiError::store(&e))?;
    let truncated = keys.len() > limit;
    keys.truncate(limit);
    Ok((
        no_store(),
        Json(KeysBody {
            namespace: query.namespace,
            limit,
            keys,
            truncated,
        }),
    )
        .into_response())
}

/// The innermost message of an extractor's rejection (serde's, without axum's preamble).
fn source_text(error: &dyn std::error::Error) -> String {
    let mut error = error;
    while let Some(source) = error.source() {
        error = source;
    }
    error.to_string()
}

/// The request body as a `T`: 415 unless the request says `Content-Type: application/json`
/// (even with an empty body), `Ok(None)` when the body is empty, 413 when over the limit,
/// 400 when not JSON, 422 when not a `T`.
///
/// Every mutating route reads its body here, so none of them runs for a request a browser
/// sends cross-site without a CORS preflight (a "simple request": a form, or a `fetch`
/// with no body or a `text/plain` one), which matters most with `allow_unauthenticated`.
fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Option<T>, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json",
        ));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body over the limit of {limit} bytes"),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("could not read the request body: {}", source_text(&e)),
            )
        }
    })?;
    if body.is_empty() {
        return Ok(None);
    }
    match serde_json::from_slice(&body) {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_data() => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid request: {e}"),
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("malformed JSON: {e}"),
        )),
    }
}

/// Whether the request says its body is JSON (`application/json`, parameters allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}
