//! Failover behind Redis Sentinel: a master, a replica and three sentinels; the master is
//! killed and the sentinels promote the replica.
//!
//! Under load (16 tasks calling a `#[cached]` fn over 300 keys) every call keeps returning
//! the right value within its deadlines, the cache moves to the promoted replica, and hits
//! resume there with no body run. L1 coherence follows too (client tracking and the
//! backplane's subscription): an invalidation made after the failover reaches another
//! cache's in-process tier.
//!
//! The figures it prints (promotion time, the window from the first failed call to the first
//! hit on the new master, the slowest call) are the failover window reported in
//! docs/testing.md and docs/compatibility.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_runtime::{Cache, Stats};
use cache_tests::failover::{assert_all_hits, value, KEYS};
use cache_tests::sentinel::{SentinelGroup, MASTER_NAME};

async fn start(kind: cache_tests::kind::ServerKind) -> SentinelGroup {
    // Blocking: the group is ready when the sentinels know each other.
    tokio::task::spawn_blocking(move || SentinelGroup::start_kind(kind, &[]))
        .await
        .unwrap()
}

async fn dbsize(server: &cache_tests::redis_server::RedisServer) -> u64 {
    let mut conn = server.raw().await;
    redis::cmd("DBSIZE").query_async(&mut conn).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_master_under_load_keeps_values_right_and_hits_resume() {
    let group = start(crate::KIND).await;
    let cache = Arc::new(
        Cache::builder()
            .sentinel(group.nodes(), MASTER_NAME)
            .prefix("sf")
            .l1(false)
            .require_redis(true)
            .build()
            .await
            .unwrap(),
    );
    let runs = Arc::new(AtomicUsize::new(0));
    let mut running = cache_tests::failover::start(cache.clone(), runs.clone()).await;
    // The replica must hold every key before the kill.
    let old_port = group.master_port();
    let replica_port = group.replica().port();
    assert_eq!(dbsize(group.server(old_port)).await, KEYS);
    let deadline = Instant::now() + Duration::from_secs(5);
    while dbsize(group.server(replica_port)).await != KEYS {
        assert!(Instant::now() < deadline, "the replica never caught up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut group = group;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_kill = cache.stats();
    assert_eq!(before_kill.misses, KEYS, "all hits before the kill");
    assert_eq!(before_kill.errors, 0);

    assert_eq!(group.kill_master(), old_port);
    let killed_at = Instant::now();
    let runs_at_kill = runs.load(SeqCst);
    running.sample_from(killed_at);
    // The load runs on the other worker meanwhile.
    let new_port = tokio::task::block_in_place(|| {
        group.wait_for_new_master(old_port, Duration::from_secs(30))
    });
    let promoted_after = killed_at.elapsed();
    assert_eq!(new_port, replica_port);
    // Keep the load on until the cache has had a clean second: no error, no short circuit.
    let clean_since = running.clean_second(killed_at).await;
    let (load, samples) = running.stop().await;
    // A sample is in trouble when errors or short circuits grew since the one before.
    let troubled: Vec<Duration> = samples
        .windows(2)
        .filter(|w| {
            w[1].stats.errors > w[0].stats.errors
                || w[1].stats.short_circuited > w[0].stats.short_circuited
        })
        .map(|w| w[1].at)
        .collect();
    let first_trouble = troubled.first().copied();
    let last_trouble = troubled.last().copied();
    // The first hit on the new master: Redis hits (not callers served by another caller's
    // body) grow again after the trouble began.
    let redis_hits = |s: &Stats| s.hits - s.coalesced - s.l1_hits - s.fallback_hits;
    let hits_resumed = samples
        .windows(2)
        .filter(|w| first_trouble.is_some_and(|t| w[0].at >= t))
        .find(|w| redis_hits(&w[1].stats) > redis_hits(&w[0].stats))
        .map(|w| w[1].at);
    let stats = cache.stats();
    let body_runs = runs.load(SeqCst) - runs_at_kill;
    eprintln!(
        "{} sentinel failover under load: replica promoted after {promoted_after:?}; first \
         failed call {first_trouble:?} after the kill, first hit on the new master \
         {hits_resumed:?}, errors/short circuits until {last_trouble:?}; clean from \
         {clean_since:?}; {} calls, {body_runs} body runs instead of the cache, slowest call \
         {} ms, {} errors, {} short-circuited, circuit opened {} times",
        crate::KIND.name(),
        load.calls.load(SeqCst),
        load.slowest_us.load(SeqCst) / 1000,
        stats.errors,
        stats.short_circuited,
        stats.circuit_opened,
    );
    load.assert_right_and_bounded();
    assert!(stats.errors > 0, "the kill was never noticed: {stats:?}");
    assert!(
        hits_resumed.is_some(),
        "no hit after the failover: {stats:?}"
    );

    // Hits resume on every key: the promoted replica serves the entries, and no body runs.
    assert_all_hits(&cache, &runs).await;
}

/// How many subscribers the backplane channel of prefix `sf` has on the server on `port`.
async fn backplane_subscribers(group: &SentinelGroup, port: u16) -> u64 {
    let mut conn = group.server(port).raw().await;
    let counts: Vec<(String, u64)> = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg("sf:#backplane")
        .query_async(&mut conn)
        .await
        .unwrap();
    counts[0].1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backplane_follows_the_new_master() {
    let mut group = start(crate::KIND).await;
    let build = || async {
        let cache = Cache::builder()
            .sentinel(group.nodes(), MASTER_NAME)
            .prefix("sf")
            .require_redis(true)
            .build()
            .await
            .unwrap();
        assert!(cache.wait_for_backplane(Duration::from_secs(5)).await);
        cache
    };
    let (writer, reader) = (build().await, build().await);
    let old_port = group.master_port();
    assert_eq!(backplane_subscribers(&group, old_port).await, 2);

    group.kill_master();
    let new_port = tokio::task::block_in_place(|| {
        group.wait_for_new_master(old_port, Duration::from_secs(30))
    });
    // Both caches subscribe again, on the master the sentinels name now.
    let deadline = Instant::now() + Duration::from_secs(15);
    while backplane_subscribers(&group, new_port).await != 2 {
        assert!(
            Instant::now() < deadline,
            "the backplanes did not subscribe on the new master within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(writer.wait_for_backplane(Duration::from_secs(5)).await);
    assert!(reader.wait_for_backplane(Duration::from_secs(5)).await);
    // The reader holds the entry in its L1. With client tracking its own fill comes back as
    // an invalidation, so the copy the second call reads from Redis is the one that stays:
    // an L1 hit by the third call at the latest.
    let runs = AtomicUsize::new(0);
    let l1_hits = reader.stats().l1_hits;
    for _ in 0..3 {
        assert_eq!(value(5, &reader, &runs).await, 16);
    }
    assert!(
        reader.stats().l1_hits > l1_hits,
        "no L1 hit after the failover: {:?}",
        reader.stats()
    );
    assert_eq!(runs.load(SeqCst), 1);

    // The writer's invalidation reaches the reader's L1 through the new master (L1 would
    // keep the entry for 30 s otherwise): the reader's next call runs the body.
    writer.invalidate_namespace("fo.value").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while runs.load(SeqCst) == 1 {
        assert!(
            Instant::now() < deadline,
            "the invalidation never reached the other cache's L1"
        );
        assert_eq!(value(5, &reader, &runs).await, 16);
    }
    assert_eq!(writer.stats().errors, 0);
}
