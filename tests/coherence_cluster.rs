//! L1 follows a Redis Cluster: a key deleted on any master by another OS process
//! (`redis-cli -c`) drops this process's L1 copy, and so does a write after a failover or
//! after its slot moved (to another master, or to one that joined later). On Redis and on
//! Valkey.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cache_runtime::{Cache, Coherence};
use cache_tests::cluster::{node_query, RedisCluster};
use cache_tests::coherence::{cli, into_l1, item, until_not};
use cache_tests::kind::ServerKind;

/// `host:port` → port.
fn port(addr: &str) -> u16 {
    addr.rsplit_once(':').unwrap().1.parse().unwrap()
}

/// The Redis key of `item(id)` under `prefix`.
fn key(prefix: &str, id: u64) -> String {
    let key = cache_runtime::key_for::<String>("coherence.item", 1, &(id,)).unwrap();
    format!("{prefix}:{key}")
}

/// The master that holds `key` now.
fn holder(cluster: &RedisCluster, key: &str) -> String {
    cluster
        .masters()
        .into_iter()
        .find(|addr| node_query::<u64>(addr, &["EXISTS", key]).is_ok_and(|n| n == 1))
        .unwrap_or_else(|| panic!("no master holds {key}"))
}

/// Waits (at most 15 s) until `cache` serves L1 again, through tracking.
async fn tracking_again(cache: &Cache) {
    let start = Instant::now();
    while !cache.l1_active() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "L1 not back 15 s after the failover: {:?}",
            cache.stats()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(cache.stats().coherence, Some(Coherence::Tracking));
}

/// Reads `item(id)` until it is served from L1 (at most 15 s); returns the value.
async fn until_l1(cache: &Cache, id: u64, calls: &AtomicUsize) -> String {
    let start = Instant::now();
    loop {
        let before = cache.stats().l1_hits;
        let value = item(id, cache, calls).await;
        if cache.stats().l1_hits > before {
            return value;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "item {id} not served from L1 within 15 s: {:?}",
            cache.stats()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The clients of the node at `addr` with broadcast tracking on (flag `B` in `CLIENT LIST`).
fn broadcast_trackers(kind: ServerKind, addr: &str) -> usize {
    let list = cli(kind, port(addr), &["CLIENT", "LIST"]);
    list.lines()
        .filter(|line| {
            line.split(' ').any(|field| {
                field
                    .strip_prefix("flags=")
                    .is_some_and(|f| f.contains('B'))
            })
        })
        .count()
}

async fn cache_on(cluster: &RedisCluster, prefix: &str) -> Cache {
    let cache = Cache::builder()
        .cluster_nodes(cluster.nodes())
        .prefix(prefix)
        .build()
        .await
        .unwrap();
    assert!(cache.wait_for_backplane(Duration::from_secs(10)).await);
    assert_eq!(cache.stats().coherence, Some(Coherence::Tracking));
    cache
}

/// 3 masters with a replica each. Keys on every master, deleted by `redis-cli -c`: each L1
/// copy goes. Then the master of one of them is killed; once its replica serves, a write
/// by another client to that key reaches L1 too.
async fn every_master_and_a_failover(kind: ServerKind) {
    let mut cluster = tokio::task::block_in_place(|| {
        RedisCluster::start_kind(kind, 3, 1, &["--cluster-node-timeout", "2000"])
    });
    let cache = cache_on(&cluster, "coh").await;
    let calls = AtomicUsize::new(0);
    let ids: Vec<u64> = (1..=12).collect();
    let mut holders = std::collections::BTreeSet::new();
    for &id in &ids {
        into_l1(&cache, id, &calls).await;
        holders.insert(holder(&cluster, &key("coh", id)));
    }
    assert_eq!(holders.len(), 3, "the keys lie on every master");
    let any = port(&cluster.nodes()[0]);
    for &id in &ids {
        let old = into_l1(&cache, id, &calls).await;
        assert_eq!(cli(kind, any, &["-c", "DEL", &key("coh", id)]), "1");
        until_not(&cache, id, &calls, &old, "DEL on its master").await;
    }

    // The failover: item 1's master dies, its replica takes over.
    into_l1(&cache, 1, &calls).await;
    let victim = holder(&cluster, &key("coh", 1));
    let (_, replica) = cluster
        .topology()
        .into_iter()
        .filter(|n| n.addr == victim)
        .map(|m| {
            let r = cluster
                .topology()
                .into_iter()
                .find(|n| n.master_id.as_deref() == Some(m.id.as_str()))
                .unwrap();
            (m, r)
        })
        .next()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let dbsize = |addr: &str| node_query::<u64>(addr, &["DBSIZE"]).unwrap();
    while dbsize(&replica.addr) != dbsize(&victim) {
        assert!(Instant::now() < deadline, "the replica never caught up");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cluster.kill_node(&victim);
    let start = Instant::now();
    while !cluster.masters().contains(&replica.addr) {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "no failover within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tracking_again(&cache).await;
    // The cluster client may fail a read or two while it learns the new topology: the body
    // runs then, and its value is stored.
    let old = until_l1(&cache, 1, &calls).await;
    // Another client deletes it on the promoted replica.
    let alive = port(&replica.addr);
    assert_eq!(cli(kind, alive, &["-c", "DEL", &key("coh", 1)]), "1");
    let after = until_not(&cache, 1, &calls, &old, "DEL on the promoted replica").await;
    assert_eq!(item(1, &cache, &calls).await, after);
    assert!(calls.load(SeqCst) > ids.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_every_master_and_a_failover() {
    every_master_and_a_failover(ServerKind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_every_master_and_a_failover() {
    every_master_and_a_failover(ServerKind::Valkey).await;
}

/// A slot moved between two masters the cache tracks: the copy in L1 follows the key to its
/// new master (no body run), and a `DEL` there by another client drops it.
async fn slot_moved_between_masters(kind: ServerKind) {
    let cluster = tokio::task::block_in_place(|| RedisCluster::start_kind(kind, 3, 0, &[]));
    let cache = cache_on(&cluster, "coh").await;
    let calls = AtomicUsize::new(0);
    let k = key("coh", 1);
    assert_eq!(into_l1(&cache, 1, &calls).await, "item 1 v1");
    let from = holder(&cluster, &k);
    let to = cluster.masters().into_iter().find(|a| *a != from).unwrap();
    let slot = cluster.slot_of(&k);
    tokio::task::block_in_place(|| cluster.move_slot(slot, &to));
    assert_eq!(holder(&cluster, &k), to);
    assert_eq!(until_l1(&cache, 1, &calls).await, "item 1 v1");
    assert_eq!(calls.load(SeqCst), 1, "the value moved with its key");
    // Another client, sent from the old master to the new one by MOVED.
    assert_eq!(cli(kind, port(&from), &["-c", "DEL", &k]), "1");
    let now = until_not(&cache, 1, &calls, "item 1 v1", "DEL on its new master").await;
    assert_eq!(now, "item 1 v2");
    assert_eq!(calls.load(SeqCst), 2);
    assert_eq!(cache.stats().coherence, Some(Coherence::Tracking));
}

/// A slot moved to a master that joined after the cache connected: L1 serves the key
/// again only once that master is tracked, and a write there by another client drops the
/// copy.
async fn slot_moved_to_a_new_master(kind: ServerKind) {
    let mut cluster = tokio::task::block_in_place(|| RedisCluster::start_kind(kind, 3, 0, &[]));
    let cache = cache_on(&cluster, "coh").await;
    let calls = AtomicUsize::new(0);
    let k = key("coh", 1);
    assert_eq!(into_l1(&cache, 1, &calls).await, "item 1 v1");
    let new = tokio::task::block_in_place(|| cluster.add_master(&[]));
    assert_eq!(broadcast_trackers(kind, &new), 0, "it serves no slot yet");
    let slot = cluster.slot_of(&k);
    tokio::task::block_in_place(|| cluster.move_slot(slot, &new));
    assert_eq!(holder(&cluster, &k), new);
    assert_eq!(until_l1(&cache, 1, &calls).await, "item 1 v1");
    assert_eq!(
        broadcast_trackers(kind, &new),
        1,
        "L1 served item 1 while its master {new} was not tracked: {:?}",
        cache.stats()
    );
    assert_eq!(calls.load(SeqCst), 1, "the value moved with its key");
    // Another client writes a value of its own there.
    assert_eq!(cli(kind, port(&new), &["-c", "SET", &k, "not ours"]), "OK");
    let now = until_not(&cache, 1, &calls, "item 1 v1", "SET on the new master").await;
    assert_eq!(now, "item 1 v2");
    assert_eq!(calls.load(SeqCst), 2);
    assert_eq!(cache.stats().decode_errors, 1, "{:?}", cache.stats());
    assert_eq!(cache.stats().coherence, Some(Coherence::Tracking));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_slot_moved_between_masters() {
    slot_moved_between_masters(ServerKind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_slot_moved_between_masters() {
    slot_moved_between_masters(ServerKind::Valkey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_slot_moved_to_a_new_master() {
    slot_moved_to_a_new_master(ServerKind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_slot_moved_to_a_new_master() {
    slot_moved_to_a_new_master(ServerKind::Valkey).await;
}
