//! The outage fallback: while the circuit breaker skips a Redis that was killed, `#[cached]`
//! values are kept in process memory for the fallback TTL, and never served once Redis is
//! back.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use cache_runtime::{cached, key_for, Cache, CircuitState, Stats};
use cache_tests::redis_server::RedisServer;

#[cached(namespace = "faults.fallback", cache = cache, skip(cache, runs), ttl = "1h")]
async fn report(id: u64, cache: &Cache, runs: &AtomicU64) -> String {
    runs.fetch_add(1, SeqCst);
    format!("report {id}")
}

/// A cache without L1 (so only the fallback can serve while Redis is down), whose breaker
/// opens on the first failure and probes every 200 ms.
async fn cache_on(server: &RedisServer, fallback_ttl: Duration) -> Cache {
    Cache::builder()
        .redis_url(server.url())
        .prefix("faults.fallback")
        .operation_timeout(Duration::from_millis(250))
        .circuit_threshold(1)
        .circuit_cool_down(Duration::from_millis(200))
        .fallback_ttl(fallback_ttl)
        .l1(false)
        .build()
        .await
        .unwrap()
}

/// Calls `report(id)` and returns how many bodies it ran.
async fn runs_of(id: u64, cache: &Cache, runs: &AtomicU64) -> u64 {
    let before = runs.load(SeqCst);
    assert_eq!(report(id, cache, runs).await, format!("report {id}"));
    runs.load(SeqCst) - before
}

/// Kills `server` and calls `report(0)` until the breaker is open.
async fn kill_and_open(server: &mut RedisServer, cache: &Cache, runs: &AtomicU64) {
    tokio::task::block_in_place(|| server.kill());
    for _ in 0..100 {
        report(0, cache, runs).await;
        if cache.stats().circuit != CircuitState::Closed {
            return;
        }
    }
    panic!("the breaker did not open: {:?}", cache.stats());
}

/// Restarts `server` and calls `report(0)` until the breaker closes again.
async fn restart_and_close(server: &mut RedisServer, cache: &Cache, runs: &AtomicU64) {
    tokio::task::block_in_place(|| server.restart());
    for _ in 0..200 {
        report(0, cache, runs).await;
        if cache.stats().circuit == CircuitState::Closed {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the breaker did not close: {:?}", cache.stats());
}

fn since(before: &Stats, after: &Stats) -> (u64, u64) {
    (
        after.fallback_hits - before.fallback_hits,
        after.fallback_writes - before.fallback_writes,
    )
}

/// Redis killed: the first call of a key runs its body, the next ones are served from the
/// fallback (exact body counts); an invalidation through the cache drops the entry; after
/// Redis is back (empty) the body runs again rather than the kept value being served; and
/// a value kept in one outage is not served in the next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fills_go_to_memory_while_redis_is_down() {
    let mut server = RedisServer::start_kind(crate::KIND, &[]);
    let cache = cache_on(&server, Duration::from_secs(60)).await;
    let runs = AtomicU64::new(0);
    assert_eq!(runs_of(1, &cache, &runs).await, 1);
    assert_eq!(runs_of(1, &cache, &runs).await, 0, "a Redis hit");
    assert_eq!(cache.health().await.fallback_entries, Some(0));

    kill_and_open(&mut server, &cache, &runs).await;
    let before = cache.stats();
    assert_eq!(runs_of(7, &cache, &runs).await, 1, "the first call runs");
    for _ in 0..5 {
        assert_eq!(runs_of(7, &cache, &runs).await, 0, "kept in the fallback");
    }
    assert_eq!(
        runs_of(1, &cache, &runs).await,
        1,
        "Redis's copy is out of reach"
    );
    assert_eq!(runs_of(1, &cache, &runs).await, 0);
    assert_eq!(runs_of(8, &cache, &runs).await, 1);
    let after = cache.stats();
    assert_eq!(since(&before, &after), (6, 3), "{after:?}");
    assert_eq!(after.fallback_entries, 4, "report 0, 1, 7 and 8");
    assert_eq!(cache.health().await.fallback_entries, Some(4));

    // An invalidation while Redis is down (the delete itself fails) drops the entry.
    let key = key_for::<String>("faults.fallback", 1, &(7u64,)).unwrap();
    assert!(cache.invalidate_key(&key).await.is_err());
    assert_eq!(cache.stats().fallback_entries, 3);
    assert_eq!(
        runs_of(7, &cache, &runs).await,
        1,
        "invalidated: the body runs"
    );
    assert_eq!(runs_of(7, &cache, &runs).await, 0);

    // Redis is back, empty: nothing kept while it was away is served.
    restart_and_close(&mut server, &cache, &runs).await;
    assert_eq!(
        cache.stats().fallback_entries,
        0,
        "dropped when Redis is back"
    );
    let before = cache.stats();
    assert_eq!(
        runs_of(7, &cache, &runs).await,
        1,
        "Redis misses: the body runs"
    );
    assert_eq!(runs_of(7, &cache, &runs).await, 0, "a Redis hit");
    assert_eq!(since(&before, &cache.stats()), (0, 0));

    // The next outage starts empty: `report 8`, kept in the last one, runs again.
    kill_and_open(&mut server, &cache, &runs).await;
    assert_eq!(runs_of(8, &cache, &runs).await, 1);
    assert_eq!(runs_of(8, &cache, &runs).await, 0);
}

/// With the fallback off (`fallback_ttl(Duration::ZERO)`), every call of a key runs its
/// body while Redis is down, and nothing is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_every_call_runs_while_redis_is_down() {
    let mut server = RedisServer::start_kind(crate::KIND, &[]);
    let cache = cache_on(&server, Duration::ZERO).await;
    let runs = AtomicU64::new(0);
    kill_and_open(&mut server, &cache, &runs).await;
    for _ in 0..3 {
        assert_eq!(runs_of(7, &cache, &runs).await, 1);
    }
    let stats = cache.stats();
    assert_eq!((stats.fallback_hits, stats.fallback_entries), (0, 0));
    assert_eq!(cache.health().await.fallback_entries, None);
}
