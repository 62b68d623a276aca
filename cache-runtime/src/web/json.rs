//! [`Json`]: axum's `Json`, serializable, so a handler returning it can be cached.

use std::ops::{Deref, DerefMut};

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, OptionalFromRequest, Request};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// axum's [`Json`](axum::Json) extractor and response, but `Serialize + Deserialize`
/// (transparently: it serializes as its content), so it can be a cached value.
///
/// `#[cached]` needs the value it stores to be `Serialize + DeserializeOwned + Clone`, and
/// `axum::Json<T>` is none of those traits' business (it is a response, not data). Returning
/// this `Json<T>` instead (or `Result<Json<T>, E>`, which caches `Ok` only) makes a handler
/// cacheable as written: the entry holds `T`, and every hit is turned into the same response
/// a fresh call would give (`200`, `content-type: application/json`, `T` as JSON).
///
/// As an extractor it is axum's: `Json(body): Json<Search>` parses the body exactly like
/// `axum::Json` (same rejections), so one `use cache_runtime::web::Json;` serves both.
/// As a key argument it hashes like the `T` it holds.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
#[must_use]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    /// The value inside.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Json<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> From<T> for Json<T> {
    fn from(value: T) -> Self {
        Json(value)
    }
}

impl<T> From<axum::Json<T>> for Json<T> {
    fn from(axum::Json(value): axum::Json<T>) -> Self {
        Json(value)
    }
}

impl<T> From<Json<T>> for axum::Json<T> {
    fn from(Json(value): Json<T>) -> Self {
        axum::Json(value)
    }
}

/// The response of `axum::Json(value)`: the value as JSON, or a 500 if it does not serialize.
impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Parses the body like `axum::Json<T>`, with the same rejections.
impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = JsonRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        <axum::Json<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Json::from)
    }
}

/// `Option<Json<T>>`: `None` without a JSON content type, like `Option<axum::Json<T>>`.
impl<T, S> OptionalFromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = JsonRejection;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        <axum::Json<T> as OptionalFromRequest<S>>::from_request(req, state)
            .await
            .map(|json| json.map(Json::from))
    }
}
