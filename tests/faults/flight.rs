//! Single flight while Redis fails: the callers waiting on a miss get its value only if no
//! invalidation of that key came after the value's body started. Without Redis there is no
//! fill lease to tell, so this is what the cache's invalidation marks are for.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use cache_runtime::{cached, key_for, Cache};
use tokio::sync::Notify;

/// The body waits for `release`, then returns `row v{n}` where n counts the body runs.
#[cached(namespace = "faults.flight", cache = cache, skip(cache, runs, release))]
async fn row(id: u64, cache: &Cache, runs: &AtomicU64, release: &Notify) -> String {
    let n = runs.fetch_add(1, SeqCst) + 1;
    if n == 1 {
        release.notified().await;
    }
    format!("row {id} v{n}")
}

/// A cache on a port nobody listens on, whose breaker opens at the first failure (the PING
/// of `build`) and stays open: every Redis operation fails at once, without a reconnect.
async fn dead_cache() -> Cache {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let cache = Cache::builder()
        .redis_url(format!("redis://127.0.0.1:{port}"))
        .circuit_threshold(1)
        .circuit_cool_down(Duration::from_secs(600))
        .build()
        .await
        .unwrap();
    assert_eq!(cache.stats().circuit, cache_runtime::CircuitState::Open);
    cache
}

/// Waits until `runs` reaches `n` (the leader's body is running).
async fn until(runs: &AtomicU64, n: u64) {
    for _ in 0..2_000 {
        if runs.load(SeqCst) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("the body did not start");
}

/// A caller that joins the flight *after* the key was invalidated must not get the value
/// the leader computed before the invalidation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_value_from_before_an_invalidation_is_shared() {
    let cache = dead_cache().await;
    let (runs, release) = (Arc::new(AtomicU64::new(0)), Arc::new(Notify::new()));
    let leader = {
        let (cache, runs, release) = (cache.clone(), runs.clone(), release.clone());
        tokio::spawn(async move { row(7, &cache, &runs, &release).await })
    };
    until(&runs, 1).await;
    // The row changes: invalidate it (Redis is down: the delete fails, but this process
    // knows the key was invalidated).
    let key = key_for::<String>("faults.flight", 1, &(7u64,)).unwrap();
    assert!(cache.delete(&key).await.is_err());
    let late = {
        let (cache, runs, release) = (cache.clone(), runs.clone(), release.clone());
        tokio::spawn(async move { row(7, &cache, &runs, &release).await })
    };
    // Let the late caller join the flight, then let the leader finish.
    tokio::time::sleep(Duration::from_millis(50)).await;
    release.notify_one();
    assert_eq!(leader.await.unwrap(), "row 7 v1");
    assert_eq!(late.await.unwrap(), "row 7 v2");
    assert_eq!(runs.load(SeqCst), 2);
    assert_eq!(cache.stats().coalesced, 0);
}

/// Without an invalidation, the waiting callers do get the leader's value: one body for
/// all of them even though Redis is down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_invalidation_the_value_is_shared() {
    let cache = dead_cache().await;
    let (runs, release) = (Arc::new(AtomicU64::new(0)), Arc::new(Notify::new()));
    let spawn = || {
        let (cache, runs, release) = (cache.clone(), runs.clone(), release.clone());
        tokio::spawn(async move { row(8, &cache, &runs, &release).await })
    };
    let leader = spawn();
    until(&runs, 1).await;
    let waiters: Vec<_> = (0..10).map(|_| spawn()).collect();
    tokio::time::sleep(Duration::from_millis(50)).await;
    release.notify_one();
    assert_eq!(leader.await.unwrap(), "row 8 v1");
    for w in waiters {
        assert_eq!(w.await.unwrap(), "row 8 v1");
    }
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(cache.stats().coalesced, 10);
}
