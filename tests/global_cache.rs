//! The global cache, built from the environment on first use (one process, one scenario).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cached, Cache};
use cache_tests::redis_server::RedisServer;
use redis::AsyncCommands;

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[cached(namespace = "global.square")]
async fn square(x: u64) -> u64 {
    CALLS.fetch_add(1, Ordering::SeqCst);
    x * x
}

#[tokio::test]
async fn global_cache_follows_redis_url() {
    let server = RedisServer::start();
    // The only test in this binary: nothing else reads the environment concurrently.
    std::env::set_var("REDIS_URL", server.url());
    std::env::set_var("CACHE_PREFIX", "globaltest");

    assert_eq!(square(12).await, 144);
    assert_eq!(square(12).await, 144);
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);

    let global = cache_runtime::global();
    assert_eq!(global.backend(), "redis");
    let stats = global.stats();
    assert_eq!((stats.misses, stats.hits, stats.writes), (1, 1, 1));

    let key = cache_runtime::key_for::<u64>("global.square", 1, &(12u64,)).unwrap();
    let mut raw = server.raw().await;
    let stored: bool = raw.exists(format!("globaltest:{key}")).await.unwrap();
    assert!(stored, "globaltest:{key} not in Redis");

    let err = cache_runtime::init(Cache::memory()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid cache configuration: the global cache is already set (by an earlier `init`, or by a `#[cached]` call made before `init`); call `cache_runtime::init` once, before the first cached call"
    );
}
