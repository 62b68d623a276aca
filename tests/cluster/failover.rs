//! Failover under load: 3 masters with a replica each, 16 tasks calling a `#[cached]` fn over
//! 300 keys, and one master killed mid-load. Every call keeps returning the right value (the
//! body runs while the slots move), the cache follows the promoted replica, and hits resume:
//! the entries the replica had are hits again, with no miss.
//!
//! The figures it prints (promotion time, how long calls ran their body instead of the
//! cache, the slowest call) are the failover window reported in docs/testing.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_runtime::Cache;
use cache_tests::cluster::{node_query, topology_seen_by, RedisCluster};
use cache_tests::failover::{assert_all_hits, value, KEYS};

fn dbsize(addr: &str) -> u64 {
    node_query(addr, &["DBSIZE"]).unwrap()
}

/// Polls until every running node sees `replica_id` as a healthy master and the cluster ok.
/// The polls are blocking calls, made off the runtime so the load tasks are not held up.
async fn wait_for_promotion(cluster: &RedisCluster, replica_id: &str, since: Instant) -> Duration {
    let (nodes, replica_id) = (cluster.nodes(), replica_id.to_owned());
    loop {
        let (nodes_, id) = (nodes.clone(), replica_id.clone());
        let done = tokio::task::spawn_blocking(move || {
            nodes_.iter().all(|addr| {
                let ok = node_query::<String>(addr, &["CLUSTER", "INFO"])
                    .is_ok_and(|i| i.lines().any(|l| l.trim() == "cluster_state:ok"));
                ok && topology_seen_by(addr)
                    .is_ok_and(|t| t.iter().any(|n| n.id == id && n.is_serving_master()))
            })
        })
        .await
        .unwrap();
        if done {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(15),
            "no failover within 15 s: {:#?}",
            cluster.topology()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_master_under_load_keeps_values_right_and_hits_resume() {
    let mut cluster = tokio::task::block_in_place(|| {
        RedisCluster::start_kind(crate::KIND, 3, 1, &["--cluster-node-timeout", "2000"])
    });
    let cache = Arc::new(
        Cache::builder()
            .cluster_nodes(cluster.nodes())
            .prefix("fo")
            .l1(false)
            .require_redis(true)
            .build()
            .await
            .unwrap(),
    );
    let runs = Arc::new(AtomicUsize::new(0));
    let mut running = cache_tests::failover::start(cache.clone(), runs.clone()).await;

    // The victim: the first master; its replica must hold all of its keys before the kill.
    let (victim, replica) = cluster.first_master_and_replica();
    let on_victim = dbsize(&victim.addr);
    assert!(on_victim > 0, "no key on the victim");
    let deadline = Instant::now() + Duration::from_secs(5);
    while dbsize(&replica.addr) != on_victim {
        assert!(Instant::now() < deadline, "the replica never caught up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_kill = cache.stats();
    assert_eq!(before_kill.misses, KEYS, "all hits before the kill");
    assert_eq!(before_kill.errors, 0);

    cluster.kill_node(&victim.addr);
    let killed_at = Instant::now();
    let runs_at_kill = runs.load(SeqCst);
    running.sample_from(killed_at);
    let promoted = wait_for_promotion(&cluster, &replica.id, killed_at).await;
    // Keep the load on until the cache has had a clean second: no error, no short circuit.
    let clean_since = running.clean_second(killed_at).await;
    let (load, samples) = running.stop().await;
    let first = &samples[0].stats;
    let last_trouble = samples
        .iter()
        .filter(|s| {
            s.stats.errors > first.errors || s.stats.short_circuited > first.short_circuited
        })
        .map(|s| s.at)
        .max();
    let stats = cache.stats();
    let body_runs = runs.load(SeqCst) - runs_at_kill;
    eprintln!(
        "failover under load: replica promoted after {promoted:?}; errors/short circuits until \
         {last_trouble:?} after the kill; clean from {clean_since:?}; {} calls, {body_runs} body \
         runs instead of the cache, slowest call {} ms, {} errors, {} short-circuited, circuit \
         opened {} times",
        load.calls.load(SeqCst),
        load.slowest_us.load(SeqCst) / 1000,
        stats.errors,
        stats.short_circuited,
        stats.circuit_opened,
    );
    load.assert_right_and_bounded();
    assert!(stats.errors > 0, "the kill was never noticed: {stats:?}");

    // Hits resume on every key: the promoted replica serves the victim's entries, and no body
    // runs (entries that failed to store during the window were stored since, or are here).
    let masters = cluster.masters();
    assert_eq!(masters.len(), 3);
    assert!(masters.contains(&replica.addr));
    assert_all_hits(&cache, &runs).await;
}

/// The breakers are per part of the slot space: with one of three masters dead (no replica
/// to take over), the keys of the dead master's slots skip Redis once their breakers open,
/// and the keys of every part of the slot space the dead master served none of keep hitting.
/// The dead keys, computed once their breaker was open, are then served from the outage
/// fallback, without running their body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_master_opens_only_the_breakers_of_its_slots() {
    let mut cluster =
        tokio::task::block_in_place(|| RedisCluster::start_kind(crate::KIND, 3, 0, &[]));
    let cache = Cache::builder()
        .cluster_nodes(cluster.nodes())
        .prefix("fo")
        .l1(false)
        .circuit_threshold(3)
        .circuit_cool_down(Duration::from_secs(60))
        .fallback_ttl(Duration::from_secs(600))
        .require_redis(true)
        .build()
        .await
        .unwrap();
    let runs = AtomicUsize::new(0);
    for id in 0..KEYS {
        assert_eq!(value(id, &cache, &runs).await, id * 3 + 1);
    }
    let victim = cluster.first_master();
    let witness = cluster.masters()[1].clone();
    let slot_of = |id: u64| -> u16 {
        let key = cache_runtime::key_for::<u64>("fo.value", 1, &(id,)).unwrap();
        let full = format!("fo:{}", key.as_str());
        node_query(&witness, &["CLUSTER", "KEYSLOT", &full]).unwrap()
    };
    let on_victim = |slot: u16| victim.slots.iter().any(|&(a, b)| (a..=b).contains(&slot));
    // A part (1,024 slots) is tainted when the victim serves any slot of it.
    let tainted = |slot: u16| {
        let first = slot / 1024 * 1024;
        (first..first + 1024).any(on_victim)
    };
    let (mut dead, mut clean) = (Vec::new(), Vec::new());
    for id in 0..KEYS {
        let slot = slot_of(id);
        if on_victim(slot) {
            dead.push(id);
        } else if !tainted(slot) {
            clean.push(id);
        }
    }
    assert!(
        dead.len() > 50 && clean.len() > 100,
        "{} {}",
        dead.len(),
        clean.len()
    );

    cluster.kill_node(&victim.addr);
    // Until the breakers of the victim's parts open, its keys fail (and run their body).
    for _ in 0..20 {
        for &id in &dead {
            assert_eq!(value(id, &cache, &runs).await, id * 3 + 1);
        }
    }
    let opened = cache.stats().circuit_opened;
    assert!((1..=16).contains(&opened), "{opened} breakers opened");
    assert_eq!(cache.stats().circuit, cache_runtime::CircuitState::Open);

    // The keys in parts the victim never served still hit Redis: exact hits, no error.
    let before = cache.stats();
    for &id in &clean {
        assert_eq!(value(id, &cache, &runs).await, id * 3 + 1);
    }
    let after = cache.stats();
    assert_eq!(
        (
            after.hits - before.hits,
            after.misses - before.misses,
            after.errors - before.errors,
            after.short_circuited - before.short_circuited
        ),
        (clean.len() as u64, 0, 0, 0),
        "keys on the live masters keep their cache"
    );

    // The victim's keys skip Redis at once: one short circuit each, the right value, from
    // the outage fallback (each was kept there by a call made while its breaker was open).
    let before = cache.stats();
    let runs_before = runs.load(SeqCst);
    let started = Instant::now();
    for &id in &dead {
        assert_eq!(value(id, &cache, &runs).await, id * 3 + 1);
    }
    let took = started.elapsed();
    let after = cache.stats();
    assert_eq!(runs.load(SeqCst) - runs_before, 0);
    assert_eq!(
        (
            after.errors - before.errors,
            after.short_circuited - before.short_circuited,
            after.fallback_hits - before.fallback_hits,
        ),
        (0, dead.len() as u64, dead.len() as u64)
    );
    eprintln!(
        "one dead master of 3: {} breakers opened; {} keys on live parts hit, {} dead keys \
         short-circuited in {took:?}",
        opened,
        clean.len(),
        dead.len()
    );
}
