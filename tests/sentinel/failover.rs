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

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_runtime::{cached, Cache, Stats};
use cache_tests::sentinel::{SentinelGroup, MASTER_NAME};

const KEYS: u64 = 300;
const TASKS: usize = 16;

#[cached(namespace = "sf.value", cache = cache, skip(cache, runs))]
async fn value(id: u64, cache: &Cache, runs: &AtomicUsize) -> u64 {
    runs.fetch_add(1, SeqCst);
    id * 3 + 1
}

/// What the load tasks saw.
#[derive(Default)]
struct Load {
    calls: AtomicU64,
    wrong: AtomicU64,
    slowest_us: AtomicU64,
    stop: AtomicBool,
}

/// One sample of the cache's counters, `at` after the kill.
struct Sample {
    at: Duration,
    stats: Stats,
}

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
    for id in 0..KEYS {
        assert_eq!(value(id, &cache, &runs).await, id * 3 + 1);
    }
    assert_eq!(runs.load(SeqCst), KEYS as usize);
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

    let load = Arc::new(Load::default());
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let (cache, runs, load) = (cache.clone(), runs.clone(), load.clone());
        tasks.push(tokio::spawn(async move {
            let mut id = t as u64 * 17;
            while !load.stop.load(SeqCst) {
                id = (id + 7) % KEYS;
                let started = Instant::now();
                let got = value(id, &cache, &runs).await;
                let took = started.elapsed().as_micros() as u64;
                load.slowest_us.fetch_max(took, SeqCst);
                load.calls.fetch_add(1, SeqCst);
                if got != id * 3 + 1 {
                    load.wrong.fetch_add(1, SeqCst);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_kill = cache.stats();
    assert_eq!(before_kill.misses, KEYS, "all hits before the kill");
    assert_eq!(before_kill.errors, 0);

    assert_eq!(group.kill_master(), old_port);
    let killed_at = Instant::now();
    let runs_at_kill = runs.load(SeqCst);
    let sampler = {
        let (cache, load) = (cache.clone(), load.clone());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            while !load.stop.load(SeqCst) {
                samples.push(Sample {
                    at: killed_at.elapsed(),
                    stats: cache.stats(),
                });
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            samples
        })
    };
    // The load runs on the other worker meanwhile.
    let new_port = tokio::task::block_in_place(|| {
        group.wait_for_new_master(old_port, Duration::from_secs(30))
    });
    let promoted_after = killed_at.elapsed();
    assert_eq!(new_port, replica_port);
    // Keep the load on until the cache has had a clean second: no error, no short circuit.
    let clean_since = loop {
        let s = cache.stats();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let t = cache.stats();
        if t.errors == s.errors && t.short_circuited == s.short_circuited && t.hits > s.hits {
            break killed_at.elapsed() - Duration::from_secs(1);
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(30),
            "calls still fail 30 s after the kill: {t:?}"
        );
    };
    load.stop.store(true, SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    let samples = sampler.await.unwrap();
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
    assert_eq!(load.wrong.load(SeqCst), 0, "a call returned a wrong value");
    assert!(stats.errors > 0, "the kill was never noticed: {stats:?}");
    assert!(
        hits_resumed.is_some(),
        "no hit after the failover: {stats:?}"
    );
    // A miss makes up to three operations (read, lease, fill), each bounded by the 250 ms
    // deadline, and a single-flight waiter whose leader's fill was refused makes its own
    // three: 6 x 250 ms, plus scheduling on a loaded 2-core machine. Never unbounded.
    assert!(
        load.slowest_us.load(SeqCst) < 3_000_000,
        "a call took {} ms: the operation deadlines do not hold",
        load.slowest_us.load(SeqCst) / 1000
    );

    // Hits resume on every key: the promoted replica serves the entries, and no body runs.
    let before = cache.stats();
    let runs_before = runs.load(SeqCst);
    for id in 0..KEYS {
        assert_eq!(value(id, &cache, &runs).await, id * 3 + 1);
    }
    let after = cache.stats();
    assert_eq!(
        (after.hits - before.hits, after.misses - before.misses),
        (KEYS, 0),
        "every key is a hit after the failover"
    );
    assert_eq!(runs.load(SeqCst), runs_before);
    assert_eq!(after.errors, before.errors);
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
    writer.invalidate_namespace("sf.value").await.unwrap();
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
