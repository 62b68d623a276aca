//! One attribute on an async fn: a correct, fast, shared cache.
//!
//! Put `#[cached]` on an async function and its results are cached: in process memory with
//! no set-up (the embedded default), and in Redis, shared by every process, as soon as
//! `REDIS_URL` is set.
//!
//! ```
//! use cache_runtime::cached;
//!
//! #[cached(ttl = "10m", namespace = "users")]
//! async fn get_user(id: u64) -> Result<String, std::io::Error> {
//!     Ok(format!("user {id}")) // a slow database query in real life
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // Optional: without `init`, the first call builds the global cache from the environment.
//! cache_runtime::init(cache_runtime::Cache::memory()).unwrap();
//! assert_eq!(get_user(7).await.unwrap(), "user 7"); // miss: the body runs
//! assert_eq!(get_user(7).await.unwrap(), "user 7"); // hit
//! let stats = cache_runtime::global().stats();
//! assert_eq!((stats.misses, stats.hits), (1, 1));
//! # }
//! ```
//!
//! # Backends
//! * **memory** (default): moka, bounded by entries and bytes, TTL per entry.
//! * **redis** (feature `redis`, on by default): redis-rs on tokio through an
//!   auto-reconnecting multiplexed connection; batches are single round trips, namespace and
//!   pattern clears use SCAN + UNLINK in batches, never KEYS.
//!
//! The cache never breaks the function: when the store fails, the body runs, its result is
//! returned, and the error is counted ([`Stats::errors`]) and logged.
//!
//! # Keys
//! See [`key`] for the layout `{prefix}:{namespace}:v{version}.{type}:{digest}` and what is
//! hashed; [`key_for`] computes the key of a call by hand.
//!
//! # Values
//! Values are stored with bincode 2 inside a small envelope (see the crate README); a
//! corrupt, truncated or foreign entry is a miss, deleted and counted, never a panic.

#![doc(test(attr(deny(warnings))))]

extern crate self as cache_runtime;

mod cache;
mod call;
mod codec;
mod error;
mod invalidate;
pub mod key;
mod observe;
mod ops;
mod store;
mod tier;
/// axum and tower integration: `CacheLayer` (per-request bypass, `X-Cache`), a cacheable
/// `Json`, the admin API and dashboard, and a tower-sessions store (feature `axum`,
/// `sessions`).
#[cfg(any(feature = "axum", feature = "sessions"))]
pub mod web;

#[doc(inline)]
pub use observe::scope;
/// The admin API and dashboard, an axum router: stats, health, invalidation, warming (feature
/// `axum`).
#[cfg(feature = "axum")]
#[doc(inline)]
pub use web::admin;
/// A tower-sessions `SessionStore` on the cache, for axum (feature `sessions`).
#[cfg(feature = "sessions")]
#[doc(inline)]
pub use web::sessions;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use cache::builder::{
    CacheBuilder, DEFAULT_COMPRESS_THRESHOLD, DEFAULT_MAX_VALUE_BYTES, DEFAULT_OPERATION_TIMEOUT,
    DEFAULT_TTL, MIN_SIGNING_KEY_BYTES,
};
pub use cache::compute::ComputeOptions;
pub use cache::config::ENV_VARS;
pub use cache::global::{global, init};
pub use cache::Cache;
pub use error::{Error, Result};
pub use invalidate::defer::defer_invalidations;
pub use invalidate::pattern::MAX_WILDCARDS;
pub use invalidate::Plan;
pub use key::{key_for, CacheKey, KeyArgs, KeyBuilder};
pub use observe::stats::{CircuitState, Stats};
pub use observe::{LatencySummary, NamespaceStats, Served, TopKey};
pub use ops::health::Health;
pub use ops::warm::{warm_each, WarmReport, WarmerStats};

/// Caches an async fn's results; see the cache-macros docs for every argument.
#[cfg(feature = "macros")]
pub use cache_macros::{cache_invalidate, cache_put, cached};

/// What a cached value must be: serializable both ways, cloneable, shareable, owned.
pub trait CacheValue:
    serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static
{
}

impl<T> CacheValue for T where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static
{
}

impl AsRef<str> for CacheKey {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}
