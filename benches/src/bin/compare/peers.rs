//! The references: raw redis-rs on a `ConnectionManager` (the connection kind the cache
//! uses) with a hand-written bincode envelope, and the `cached` crate's Redis-backed macro
//! (`#[concurrent_cached]` over `AsyncRedisCache`, its async Redis store; `io_cached` in
//! its older releases) returning the same `User`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::Duration;

pub use cache_bench::by_hand::{decode, raw_get};
use cache_bench::{user, User};
use cached::macros::concurrent_cached;
use cached::AsyncRedisCache;

/// The URL the `cached` crate's caches connect to (set by [`init`] before their first use).
static URL: OnceLock<String> = OnceLock::new();

/// The error type the `cached` crate's macro needs for its store failures.
#[derive(Debug, Clone)]
pub struct PeerError(#[allow(dead_code)] String);

/// A `cached` crate Redis store under `prefix`, with a 10 minute TTL, on the harness's server.
async fn redis_store(prefix: &str) -> AsyncRedisCache<u64, User> {
    AsyncRedisCache::builder(prefix)
        .ttl(Duration::from_secs(600))
        .connection_string(URL.get().expect("peers::init first"))
        .build()
        .await
        .expect("the cached crate's Redis cache")
}

/// The `cached` crate's Redis-backed memoized fn: the same row, a 10 minute TTL.
#[concurrent_cached(
    map_error = r##"|e| PeerError(format!("{e:?}"))"##,
    ty = "AsyncRedisCache<u64, User>",
    create = r##"{ redis_store("bench_user").await }"##
)]
pub async fn cached_crate_user(id: u64) -> Result<User, PeerError> {
    Ok(user(id))
}

/// How many times [`cached_crate_slow`]'s body ran.
pub static CACHED_CRATE_SLOW_RUNS: AtomicU64 = AtomicU64::new(0);

/// The `cached` crate's Redis-backed fn whose body sleeps 50 ms (the stampede scenario).
#[concurrent_cached(
    map_error = r##"|e| PeerError(format!("{e:?}"))"##,
    ty = "AsyncRedisCache<u64, User>",
    create = r##"{ redis_store("bench_slow").await }"##
)]
pub async fn cached_crate_slow(id: u64) -> Result<User, PeerError> {
    CACHED_CRATE_SLOW_RUNS.fetch_add(1, Relaxed);
    tokio::time::sleep(crate::stampede::BODY).await;
    Ok(user(id))
}

/// Points the `cached` crate's caches at `url` and stores its hot row.
pub async fn init(url: &str) {
    let _ = URL.set(url.to_owned());
    cached_crate_user(crate::env::HOT_ID)
        .await
        .expect("the cached crate stores the hot row");
}
