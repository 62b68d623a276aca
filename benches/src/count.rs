//! The set-up the callgrind counters (`hit_count`, `conc_count`) share: one current-thread
//! runtime, and on it a cache without L1 and a raw redis-rs connection to the same server.

#![allow(clippy::expect_used)] // A counter that cannot connect can only stop.

use std::future::Future;

use cache_runtime::Cache;
use redis::aio::ConnectionManager;

/// Runs `count` on a current-thread runtime with a cache on `url` (`l1(false)`, so every
/// hit reads Redis) and a raw `ConnectionManager` to the same server.
///
/// # Panics
/// If the runtime cannot be built or either connection fails.
pub fn on_redis<F, Fut>(url: &str, count: F)
where
    F: FnOnce(Cache, ConnectionManager) -> Fut,
    Fut: Future<Output = ()>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let cache = Cache::builder()
            .redis_url(url)
            .l1(false)
            .build()
            .await
            .expect("a cache on the bench server");
        let conn = redis::Client::open(url)
            .expect("a redis URL")
            .get_connection_manager()
            .await
            .expect("a raw connection");
        count(cache, conn).await;
    });
}
