//! axum and tower integration (features `axum` and `sessions`).
//!
//! - [`CacheLayer`](crate::web::CacheLayer): a tower layer for axum routers. Per request, it
//!   can sum up the `#[cached]` calls made while handling the request in an
//!   `X-Cache: hit|miss|stale|bypass` response header, and lets the requests the application
//!   trusts (a predicate it gives) bypass the cache when they ask (`Cache-Control: no-cache`,
//!   or a query flag, `?fresh=true` by default). It runs the request in a
//!   [`RequestScope`](crate::observe::scope::RequestScope).
//! - [`Json`](crate::web::Json): axum's `Json`, but serializable, so that a handler returning
//!   `Result<Json<T>, E>` can carry `#[cached]` itself.
//!
//! ```
//! use axum::extract::{Path, State};
//! use axum::routing::get;
//! use axum::Router;
//! use cache_runtime::cached;
//! use cache_runtime::web::{CacheLayer, Json};
//!
//! #[derive(Clone)]
//! struct Db;
//!
//! #[derive(Clone, serde::Serialize, serde::Deserialize)]
//! struct Product {
//!     id: u64,
//!     name: String,
//! }
//!
//! // The key is the id `Path` binds; the `State` is skipped by the name it binds.
//! #[cached(ttl = "1m", skip(db))]
//! async fn get_product(State(db): State<Db>, Path(id): Path<u64>) -> Json<Product> {
//!     let _ = db; // a slow query in real life
//!     Json(Product { id, name: format!("product {id}") })
//! }
//!
//! let app: Router = Router::new()
//!     .route("/products/{id}", get(get_product))
//!     .with_state(Db)
//!     .layer(CacheLayer::new().x_cache_header(true));
//! # drop(app);
//! ```

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod admin;
#[cfg(feature = "axum")]
mod json;
#[cfg(feature = "axum")]
mod layer;
#[cfg(feature = "sessions")]
#[cfg_attr(docsrs, doc(cfg(feature = "sessions")))]
pub mod sessions;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use json::Json;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use layer::{CacheLayer, CacheService, X_CACHE};
