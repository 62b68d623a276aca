//! The cache on a Redis Cluster (feature `cluster`): `#[cached]` misses then hits, batch
//! operations across slots keep request order, exact invalidation, namespace and pattern
//! clears that reach every master (SCAN on a cluster connection would see one node only),
//! tags whose entries and index lie in different slots (and the stale-write guard across
//! them), `lock = true` across caches, the backplane, and fail-open when no node answers.
//!
//! One 3-master cluster serves the whole binary; every test takes `CLEAN` and flushes it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cache_runtime::{cache_invalidate, cached, key_for, Cache, Error};
use cache_tests::cluster::{node_connection, node_query, RedisCluster};
use cache_tests::fixture::Counts;

/// Held by every test: each flushes the shared cluster and counts its keys.
static CLEAN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long any single build or call here may take before the test calls it a hang.
const NO_HANG: Duration = Duration::from_secs(20);

fn shared() -> &'static RedisCluster {
    RedisCluster::shared_kind(crate::KIND)
}

async fn bounded<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(NO_HANG, f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {NO_HANG:?}"))
}

/// A cache on `cluster`, its nodes given as `host:port` and as `redis://host:port`.
async fn cluster_cache(cluster: &RedisCluster, prefix: &str) -> Cache {
    let mut nodes = cluster.nodes();
    nodes[0] = format!("redis://{}", nodes[0]);
    bounded(
        "build",
        Cache::builder()
            .cluster_nodes(nodes)
            .prefix(prefix)
            .require_redis(true)
            .build(),
    )
    .await
    .unwrap()
}

/// Keys on `addr` matching `pattern`, by SCAN on that node alone.
fn count_on(addr: &str, pattern: &str) -> usize {
    let mut conn = node_connection(addr).unwrap();
    let mut cursor = 0u64;
    let mut n = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query(&mut conn)
            .unwrap();
        n += keys.len();
        if next == 0 {
            return n;
        }
        cursor = next;
    }
}

fn dbsize(addr: &str) -> u64 {
    node_query(addr, &["DBSIZE"]).unwrap()
}

#[cached(namespace = "cl.double", cache = cache, skip(cache, calls))]
async fn double(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id * 2
}

#[cache_invalidate(double(id), cache = cache)]
async fn double_changed(id: u64, cache: &Cache) {}

#[cached(namespace = "cl.tagged", cache = cache, skip(cache, calls), tags = ["group:{group}"])]
async fn tagged(id: u64, group: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id + group
}

/// A `#[cached]` fn misses, then hits, with exact counts; the entry sits in its slot's
/// master. `#[cache_invalidate]` of the exact key drops it, so the next call misses.
#[tokio::test(flavor = "multi_thread")]
async fn cached_misses_then_hits_and_invalidates() {
    let cluster = shared();
    let _clean = CLEAN.lock().await;
    cluster.flush_all();
    let cache = cluster_cache(cluster, "clc").await;
    assert_eq!(cache.backend(), "redis");
    let calls = AtomicUsize::new(0);
    for id in 0..30u64 {
        assert_eq!(bounded("miss", double(id, &cache, &calls)).await, id * 2);
    }
    for id in 0..30u64 {
        assert_eq!(bounded("hit", double(id, &cache, &calls)).await, id * 2);
    }
    assert_eq!(calls.load(SeqCst), 30);
    assert_eq!(Counts::of(&cache.stats()), Counts::calls(30, 30, 30));
    let total: u64 = cluster.masters().iter().map(|m| dbsize(m)).sum();
    assert_eq!(total, 30);
    assert!(
        cluster.masters().iter().all(|m| dbsize(m) > 0),
        "30 keys did not reach every master"
    );

    let before = Counts::of(&cache.stats());
    bounded("invalidate", double_changed(7, &cache)).await;
    let key = key_for::<u64>("cl.double", 1, &(7u64,)).unwrap();
    assert!(
        !cache.exists(&key).await.unwrap(),
        "the entry is still there"
    );
    assert_eq!(bounded("miss", double(7, &cache, &calls)).await, 14);
    assert_eq!(bounded("hit", double(8, &cache, &calls)).await, 16);
    assert_eq!(calls.load(SeqCst), 31);
    assert_eq!(
        Counts::of(&cache.stats()).since(before),
        Counts::calls(1, 1, 1)
    );
}

/// get_many / set_many / delete_many over keys in many slots keep request order.
#[tokio::test(flavor = "multi_thread")]
async fn batches_across_slots_keep_order() {
    let cluster = shared();
    let _clean = CLEAN.lock().await;
    cluster.flush_all();
    let cache = cluster_cache(cluster, "clb").await;
    let items: Vec<(String, u32)> = (0..200u32).map(|i| (format!("b:{i}"), i)).collect();
    bounded("set_many", cache.set_many(&items, None))
        .await
        .unwrap();
    assert!(
        cluster.masters().iter().all(|m| dbsize(m) > 0),
        "200 keys did not reach every master"
    );
    let mut keys: Vec<String> = (0..200u32).rev().map(|i| format!("b:{i}")).collect();
    keys.insert(50, "b:missing".to_owned());
    let got: Vec<Option<u32>> = bounded("get_many", cache.get_many(&keys)).await.unwrap();
    let mut want: Vec<Option<u32>> = (0..200u32).rev().map(Some).collect();
    want.insert(50, None);
    assert_eq!(got, want);

    let gone: Vec<String> = (0..200u32)
        .filter(|i| i % 2 == 0)
        .map(|i| format!("b:{i}"))
        .chain(["b:missing".to_owned()])
        .collect();
    assert_eq!(
        bounded("delete_many", cache.delete_many(&gone))
            .await
            .unwrap(),
        100
    );
    let got: Vec<Option<u32>> = bounded("get_many", cache.get_many(&keys)).await.unwrap();
    let want: Vec<Option<u32>> = keys
        .iter()
        .map(|k| {
            k.strip_prefix("b:")
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| n % 2 == 1)
        })
        .collect();
    assert_eq!(got, want);
}

/// 10,000 keys of one namespace over every master: `clear_namespace` removes all of them
/// (a SCAN through the cluster connection would find about a third), and nothing else.
#[tokio::test(flavor = "multi_thread")]
async fn clear_namespace_reaches_every_master() {
    let cluster = shared();
    let _clean = CLEAN.lock().await;
    cluster.flush_all();
    let cache = cluster_cache(cluster, "cln").await;
    for chunk in (0..10_000u32).collect::<Vec<_>>().chunks(100) {
        let items: Vec<(String, u32)> = chunk.iter().map(|i| (format!("ns:{i}"), *i)).collect();
        bounded("set_many", cache.set_many(&items, None))
            .await
            .unwrap();
    }
    cache.set("other:1", &1u32, None).await.unwrap();
    let masters = cluster.masters();
    assert_eq!(masters.len(), 3);
    let before: Vec<usize> = masters.iter().map(|m| count_on(m, "cln:ns:*")).collect();
    eprintln!("namespace keys per master: {before:?}");
    assert!(before.iter().all(|n| *n > 0), "{before:?}");
    assert_eq!(before.iter().sum::<usize>(), 10_000);

    assert_eq!(
        bounded("clear_namespace", cache.clear_namespace("ns"))
            .await
            .unwrap(),
        10_000
    );
    for m in &masters {
        assert_eq!(count_on(m, "cln:ns:*"), 0, "{m} still holds namespace keys");
    }
    assert_eq!(cache.get::<u32>("other:1").await.unwrap(), Some(1));
    assert_eq!(
        bounded("clear_namespace", cache.clear_namespace("ns"))
            .await
            .unwrap(),
        0
    );
}

/// A pattern clear likewise reaches every master, and only matching keys.
#[tokio::test(flavor = "multi_thread")]
async fn clear_pattern_reaches_every_master() {
    let cluster = shared();
    let _clean = CLEAN.lock().await;
    cluster.flush_all();
    let cache = cluster_cache(cluster, "clp").await;
    for chunk in (0..10_000u32).collect::<Vec<_>>().chunks(100) {
        let items: Vec<(String, u32)> = chunk
            .iter()
            .flat_map(|i| [(format!("u:{i}:name"), *i), (format!("u:{i}:age"), *i)])
            .collect();
        bounded("set_many", cache.set_many(&items, None))
            .await
            .unwrap();
    }
    let masters = cluster.masters();
    let before: Vec<usize> = masters
        .iter()
        .map(|m| count_on(m, "clp:u:*:name"))
        .collect();
    assert!(before.iter().all(|n| *n > 0), "{before:?}");
    assert_eq!(
        bounded("clear_pattern", cache.clear_pattern("u:*:name"))
            .await
            .unwrap(),
        10_000
    );
    for m in &masters {
        assert_eq!(count_on(m, "clp:u:*:name"), 0, "{m}");
        assert!(count_on(m, "clp:u:*:age") > 0, "{m} lost non-matching keys");
    }
    assert_eq!(
        masters.iter().map(|m| count_on(m, "clp:*")).sum::<usize>(),
        10_000
    );
}

/// Tags on a cluster: the entries of one tag live on every master, and the tag's index in
/// a slot of its own; invalidating the tag drops exactly its entries, wherever they are.
#[tokio::test(flavor = "multi_thread")]
async fn tags_span_every_master() {
    let cluster = shared();
    let _clean = CLEAN.lock().await;
    cluster.flush_all();
    let cache = cluster_cache(cluster, "clt").await;
    let calls = AtomicUsize::new(0);
    let ids = |group: u64| (0..if group == 1 { 200 } else { 50 }).map(move |i| (i, group));
    for (id, group) in ids(1).chain(ids(2)) {
        assert_eq!(
            bounded("miss", tagged(id, group, &cache, &calls)).await,
            id + group
        );
    }
    for (id, group) in ids(1).chain(ids(2)) {
        assert_eq!(
            bounded("hit", tagged(id, group, &cache, &calls)).await,
            id + group
        );
    }
    assert_eq!(calls.load(SeqCst), 250);
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.hits, stats.writes), (250, 250, 250));
    for master in cluster.masters() {
        assert!(dbsize(&master) > 0, "{master} holds no entry");
    }
    // A manual tagged write lands in the same index.
    cache
        .set_with_tags("extra", &1u8, None, &["group:1"])
        .await
        .unwrap();
    assert_eq!(
        bounded("invalidate", cache.invalidate_tag("group:1"))
            .await
            .unwrap(),
        201
    );
    assert_eq!(cache.get::<u8>("extra").await.unwrap(), None);
    for (id, group) in ids(1).chain(ids(2)) {
        assert_eq!(
            bounded("again", tagged(id, group, &cache, &calls)).await,
            id + group
        );
    }
    // Group 1 ran again; group 2 still hit.
    assert_eq!(calls.load(SeqCst), 450);
    assert_eq!(cache.stats().errors, 0);
}

#[cached(namespace = "cl.slow", cache = cache, skip(cache, calls, gate), tags = ["g:{group}"])]
async fn slow_tagged(
    id: u64,
    group: u64,
    cache: &Cache,
    calls: &AtomicUsize,
    gate: &tokio::sync::Notify,
) -> String {
    let n = calls.fetch_add(1, SeqCst) + 1;
    if n == 1 {
        gate.notified().await;
    }
    format!("{id}/{group} v{n}")
}

/// The stale-write guard across slots: a tag invalidated while a tagged miss's body runs
/// (the entry and the tag's index lie in different slots) refuses that body's fill, so
/// the next call computes again instead of reading the value from before the invalidation.
#[tokio::test(flavor = "multi_thread")]
async fn tag_invalidation_during_a_fill_refuses_it() {
    let cluster = shared();
    let _clean = CLEAN.lock().await;
    cluster.flush_all();
    let cache = cluster_cache(cluster, "cls").await;
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let first = {
        let (cache, calls, gate) = (cache.clone(), calls.clone(), gate.clone());
        tokio::spawn(async move { slow_tagged(5, 9, &cache, &calls, &gate).await })
    };
    while calls.load(SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // The body runs (it read the data): invalidate its tag, then let it finish.
    assert_eq!(
        bounded("invalidate", cache.invalidate_tag("g:9"))
            .await
            .unwrap(),
        1,
        "the miss's lease is recorded under its tag before the body runs"
    );
    gate.notify_one();
    assert_eq!(bounded("first", first).await.unwrap(), "5/9 v1");
    assert_eq!(cache.stats().stale_fills_refused, 1);
    let gate = tokio::sync::Notify::new();
    assert_eq!(
        bounded("again", slow_tagged(5, 9, &cache, &calls, &gate)).await,
        "5/9 v2"
    );
    assert_eq!(
        bounded("hit", slow_tagged(5, 9, &cache, &calls, &gate)).await,
        "5/9 v2"
    );
    assert_eq!(calls.load(SeqCst), 2);
    assert_eq!(cache.stats().errors, 0);
}

/// Nodes on unused ports: the cache is built (fail-open by default) and a `#[cached]` call
/// returns its body's value, quickly.
#[tokio::test(flavor = "multi_thread")]
async fn unreachable_cluster_fails_open() {
    let ports: Vec<u16> = (0..3)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .unwrap()
        })
        .collect();
    let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let cache = bounded(
        "build",
        Cache::builder().cluster_nodes(nodes).prefix("clf").build(),
    )
    .await
    .unwrap();
    let calls = AtomicUsize::new(0);
    let started = Instant::now();
    for id in 0..3u64 {
        assert_eq!(bounded("call", double(id, &cache, &calls)).await, id * 2);
    }
    assert_eq!(calls.load(SeqCst), 3);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "fail-open took {:?}",
        started.elapsed()
    );
    assert!(matches!(
        bounded("get", cache.get::<u64>("k")).await,
        Err(Error::Store(_))
    ));
}

/// A malformed node in the builder is a configuration error.
#[tokio::test]
async fn malformed_builder_node_is_a_config_error() {
    let err = Cache::builder()
        .cluster_nodes(["127.0.0.1:7000", "localhost"])
        .build_lazy()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "invalid cache configuration: cluster_nodes: `localhost` is not a cluster node; expected host:port, redis://host:port or rediss://host:port"
    );
    let err = Cache::builder()
        .redis_url("redis://127.0.0.1:1")
        .cluster_nodes(["127.0.0.1:7000"])
        .build_lazy()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid cache configuration: redis_url and cluster_nodes are both set; pick one: redis_url for a single Redis, cluster_nodes for a Redis Cluster"
    );
}

/// The backplane on a cluster: an invalidation by one cache drops the entry from another
/// cache's L1 (its subscriber listens on one node; the cluster broadcasts every PUBLISH).
#[tokio::test(flavor = "multi_thread")]
async fn backplane_reaches_other_caches() {
    let cluster = shared();
    let _clean = CLEAN.lock().await;
    cluster.flush_all();
    let a = cluster_cache(cluster, "clbp").await;
    let b = cluster_cache(cluster, "clbp").await;
    let calls = AtomicUsize::new(0);
    // Wait until `a` serves from L1 (its subscriber is live).
    let deadline = Instant::now() + Duration::from_secs(5);
    while a.stats().l1_hits == 0 {
        assert_eq!(double(5, &a, &calls).await, 10);
        assert!(Instant::now() < deadline, "L1 never served a hit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(calls.load(SeqCst), 1);
    bounded("invalidate", double_changed(5, &b)).await;
    // `a`'s L1 would serve the entry for its L1 TTL (30 s) if the message did not arrive.
    let deadline = Instant::now() + Duration::from_secs(5);
    while calls.load(SeqCst) == 1 {
        assert_eq!(double(5, &a, &calls).await, 10);
        assert!(
            Instant::now() < deadline,
            "a's L1 still serves the invalidated entry"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(calls.load(SeqCst), 2);
}

#[cached(namespace = "cl.locked", cache = cache, skip(cache, calls), lock = true)]
async fn locked_report(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    let run = calls.fetch_add(1, SeqCst) as u64 + 1;
    tokio::time::sleep(Duration::from_millis(300)).await;
    id * 100 + run
}

/// `lock = true` across caches (two processes in one): 4 caches × 25 concurrent callers on
/// one cold key; the lease lives in the key's slot, so the body runs once in all of them and
/// every caller gets its value.
#[tokio::test(flavor = "multi_thread")]
async fn lock_true_runs_one_body_across_caches() {
    let cluster = shared();
    let _clean = CLEAN.lock().await;
    cluster.flush_all();
    let mut caches = Vec::new();
    for _ in 0..4 {
        caches.push(std::sync::Arc::new(cluster_cache(cluster, "cll").await));
    }
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let mut callers = Vec::new();
    for cache in &caches {
        for _ in 0..25 {
            let (cache, calls) = (cache.clone(), calls.clone());
            callers.push(tokio::spawn(async move {
                locked_report(5, &cache, &calls).await
            }));
        }
    }
    let mut values = Vec::new();
    for caller in callers {
        values.push(bounded("locked call", caller).await.unwrap());
    }
    values.dedup();
    assert_eq!(values, [501], "every caller got the one body's value");
    assert_eq!(calls.load(SeqCst), 1, "one body across four caches");
    // The cache whose caller took the lease missed once and wrote once; every other caller,
    // waiting on its own cache's flight or on the lease, got the value as a hit.
    let mut counts: Vec<Counts> = caches.iter().map(|c| Counts::of(&c.stats())).collect();
    counts.sort_by_key(|c| c.misses);
    assert_eq!(
        counts,
        [
            Counts::reads(25, 0),
            Counts::reads(25, 0),
            Counts::reads(25, 0),
            Counts::calls(24, 1, 1)
        ]
    );
}
