//! The in-process tier (L1) on a real redis-server where the shared tier suite
//! (`src/suite/tier.rs`) cannot go: the memory store, and Redis killed under a tiered cache.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

cache_tests::tier_suite!(cache_tests::fixture::Fixture::tiered().await);

use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use cache_tests::fixture::Fixture;
use cache_tests::suite::tier::{in_l1, runs, user};

/// Without Redis the memory store is the only tier: nothing is stored twice.
#[tokio::test]
async fn memory_store_has_no_second_tier() {
    let fx = Fixture::memory();
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    user(1, c, &calls).await;
    user(1, c, &calls).await;
    assert!(!c.l1_active());
    let stats = c.stats();
    assert_eq!((stats.hits, stats.l1_hits), (1, 0));
}

/// Redis killed under a tiered cache: while L1 has lost coherence and the circuit is still
/// closed, L1 is skipped (every call runs its body); once the breaker has opened, L1 entries
/// are served again (nobody can invalidate through a dead Redis), and keys that were not in
/// L1 run their body without waiting on Redis.
#[tokio::test]
async fn l1_serves_while_the_circuit_is_open() {
    let mut fx = Fixture::redis_with(|b| {
        b.circuit_threshold(3)
            .circuit_cool_down(Duration::from_secs(30))
    })
    .await;
    assert!(fx.cache.wait_for_backplane(Duration::from_secs(5)).await);
    let calls = AtomicUsize::new(0);
    let c = &fx.cache;
    assert_eq!(in_l1(c, || user(1, c, &calls)).await, "user 1 v1");
    let l1_hits = c.stats().l1_hits;
    drop(fx.server.take());
    // Wait for the cache to notice the dead connection (tracking's, or the backplane's).
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.l1_active() {
        assert!(
            Instant::now() < deadline,
            "the dead connection went unnoticed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Coherence lost, circuit closed: L1 skipped, Redis tried and failing, the body runs.
    for i in 0..3 {
        assert_eq!(user(2, c, &calls).await, format!("user 2 v{}", i + 2));
    }
    let stats = c.stats();
    assert_eq!(stats.circuit, cache_runtime::CircuitState::Open);
    assert_eq!(stats.circuit_opened, 1);
    // Open circuit: the L1 entry of user 1 is served; user 3 runs its body at once.
    let started = Instant::now();
    assert_eq!(user(1, c, &calls).await, "user 1 v1");
    assert_eq!(user(3, c, &calls).await, "user 3 v5");
    assert!(started.elapsed() < Duration::from_millis(200));
    let after = c.stats();
    assert_eq!(after.l1_hits, l1_hits + 1);
    assert_eq!(runs(&calls), 5);
    assert!(after.short_circuited >= 1, "{after:?}");
}
