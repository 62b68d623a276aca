//! The service's data: what it stores and serves, what requests carry, and its errors.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cache_runtime::web::Json;
use serde::{Deserialize, Serialize};

/// A product, as stored and as served.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Product {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) category: String,
    pub(crate) price_cents: i64,
}

/// One page of a listing.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ProductPage {
    pub(crate) items: Vec<Product>,
    pub(crate) page: u32,
    pub(crate) per_page: u32,
    pub(crate) total: i64,
}

/// `GET /products` query parameters; the whole struct is the cache key of the handler.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ListParams {
    pub(crate) category: Option<String>,
    pub(crate) page: Option<u32>,
    pub(crate) per_page: Option<u32>,
}

/// `GET /search` query parameters and `POST /search` body.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Search {
    pub(crate) q: String,
    pub(crate) limit: Option<u32>,
}

/// `PUT /products/{id}` body: every field.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ProductInput {
    pub(crate) name: String,
    pub(crate) category: String,
    pub(crate) price_cents: i64,
}

/// `PATCH /products/{id}` body: any fields.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProductPatch {
    pub(crate) name: Option<String>,
    pub(crate) category: Option<String>,
    pub(crate) price_cents: Option<i64>,
}

/// `GET /stats`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ServiceStats {
    pub(crate) backend: &'static str,
    pub(crate) db_reads: u64,
    pub(crate) cache_hits: u64,
    pub(crate) cache_misses: u64,
}

/// What a handler fails with: a status and a JSON `{"error": "..."}`. Never cached.
#[derive(Debug)]
pub(crate) enum AppError {
    NotFound(String),
    BadRequest(String),
    Internal(String),
}

#[derive(Serialize)]
pub(crate) struct ErrorBody {
    pub(crate) error: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, error) = match self {
            AppError::NotFound(e) => (StatusCode::NOT_FOUND, e),
            AppError::BadRequest(e) => (StatusCode::BAD_REQUEST, e),
            AppError::Internal(e) => (StatusCode::INTERNAL_SERVER_ERROR, e),
        };
        (status, Json(ErrorBody { error })).into_response()
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        AppError::Internal(format!("database: {e}"))
    }
}
