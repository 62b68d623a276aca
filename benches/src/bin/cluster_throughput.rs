//! Hit throughput of `#[cached]` on a 3-master Redis Cluster against a single Redis node,
//! with raw redis-rs GETs of the same keys as a reference, at 8, 32, 64 and 128 concurrent
//! tasks. L1 is off, so every hit is a GET to Redis. The bench starts its own redis-server
//! and cluster on free loopback ports (never the system Redis) and kills them at the end.
//!
//! `cargo run --release -p cache-bench --bin cluster_throughput [-- --quick | --secs N]`
//!
//! Single-node and cluster cells are measured round robin, 3 rounds, and the median of each
//! cell is printed, because a shared machine is noisy. On a 2-core machine the 3 cluster
//! servers and the client share the same cores, so the cluster can be slower than one node.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cache_bench::{get_user, User};
use cache_runtime::Cache;
use cache_tests::cluster::RedisCluster;
use cache_tests::raw::RawConn;
use cache_tests::redis_server::RedisServer;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many distinct ids are pre-filled and read.
const KEYS: u64 = 1_000;
/// Concurrent tasks per cell.
const CONCURRENCY: [usize; 4] = [8, 32, 64, 128];
/// Round-robin rounds; each cell reports the median.
const ROUNDS: usize = 3;
/// Column names of the four targets, in measurement order.
const TARGETS: [&str; 4] = ["single", "cluster", "raw single", "raw cluster"];

/// What one task calls in its loop.
#[derive(Clone)]
enum Target {
    /// `get_user` through a cache (L1 off).
    Cached(Cache),
    /// A raw GET of the entry's precomputed Redis key.
    Raw(RawConn, Arc<Vec<String>>),
}

impl Target {
    /// One call for `id`; `true` when the answer is the right one.
    async fn call(&mut self, id: u64) -> bool {
        match self {
            Target::Cached(cache) => get_user(cache, id).await.id == id,
            Target::Raw(conn, keys) => {
                let got: redis::RedisResult<Option<Vec<u8>>> = redis::cmd("GET")
                    .arg(&keys[id as usize])
                    .query_async(conn)
                    .await;
                matches!(got, Ok(Some(bytes)) if !bytes.is_empty())
            }
        }
    }
}

/// Runs `tasks` tasks calling `target` for `run`; returns ops/s and the wrong answers.
async fn measure(target: &Target, tasks: usize, run: Duration) -> (f64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let mut target = target.clone();
            let stop = stop.clone();
            // Each task starts at its own offset and walks all ids with a stride of 7.
            let mut id = t as u64 * KEYS / tasks as u64;
            tokio::spawn(async move {
                let (mut ops, mut wrong) = (0u64, 0u64);
                while !stop.load(Relaxed) {
                    if !target.call(id).await {
                        wrong += 1;
                    }
                    ops += 1;
                    id = (id + 7) % KEYS;
                }
                (ops, wrong)
            })
        })
        .collect();
    tokio::time::sleep(run).await;
    stop.store(true, Relaxed);
    let (mut ops, mut wrong) = (0, 0);
    for handle in handles {
        let (o, w) = handle.await.expect("bench task panicked");
        ops += o;
        wrong += w;
    }
    (ops as f64 / started.elapsed().as_secs_f64(), wrong)
}

/// Fills every id, then reads each once more and checks that all were hits.
async fn prefill(cache: &Cache, name: &str) {
    for id in 0..KEYS {
        get_user(cache, id).await;
    }
    let before = cache.stats();
    for id in 0..KEYS {
        assert_eq!(get_user(cache, id).await.id, id);
    }
    let after = cache.stats();
    assert_eq!(
        after.misses, before.misses,
        "{name}: a pre-filled id missed"
    );
    assert_eq!(after.hits - before.hits, KEYS, "{name}: not every read hit");
    assert_eq!(after.errors, 0, "{name}: store errors while filling");
}

/// The Redis key of every id's entry, checked to exist through `conn`.
async fn redis_keys(cache: &Cache, conn: &mut RawConn) -> Arc<Vec<String>> {
    let mut keys = Vec::new();
    for id in 0..KEYS {
        let key = cache_runtime::key_for::<User>("bench.user", 1, &(id,)).expect("key");
        let key = format!("{}:{}", cache.prefix(), key.as_str());
        let found: Option<Vec<u8>> = redis::cmd("GET")
            .arg(&key)
            .query_async(conn)
            .await
            .expect("raw GET");
        assert!(found.is_some(), "raw GET of {key} found nothing");
        keys.push(key);
    }
    Arc::new(keys)
}

/// The CPU model from /proc/cpuinfo.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The median of `values` (not empty).
fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Measures every cell and prints the table; `false` when a call missed or was wrong.
async fn run(server: &RedisServer, cluster: &RedisCluster, secs: f64) -> bool {
    let build = |b: cache_runtime::CacheBuilder| async move {
        b.l1(false)
            .require_redis(true)
            .build()
            .await
            .expect("cache")
    };
    let single = build(Cache::builder().redis_url(server.url())).await;
    let clustered = build(Cache::builder().cluster_nodes(cluster.nodes())).await;
    prefill(&single, "single").await;
    prefill(&clustered, "cluster").await;

    let mut raw_single = RawConn::Single(server.raw().await);
    let client = redis::cluster::ClusterClient::new(cluster.urls()).expect("cluster client");
    let mut raw_cluster = RawConn::Cluster(client.get_async_connection().await.expect("cluster"));
    let single_keys = redis_keys(&single, &mut raw_single).await;
    let cluster_keys = redis_keys(&clustered, &mut raw_cluster).await;
    let targets = [
        Target::Cached(single.clone()),
        Target::Cached(clustered.clone()),
        Target::Raw(raw_single, single_keys),
        Target::Raw(raw_cluster, cluster_keys),
    ];

    let (single_before, cluster_before) = (single.stats(), clustered.stats());
    let run = Duration::from_secs_f64(secs);
    // results[concurrency][target] = ops/s of each round.
    let mut results = vec![vec![Vec::new(); TARGETS.len()]; CONCURRENCY.len()];
    let mut wrong = 0;
    for round in 1..=ROUNDS {
        eprintln!("round {round}/{ROUNDS}");
        for (c, &tasks) in CONCURRENCY.iter().enumerate() {
            for (t, target) in targets.iter().enumerate() {
                let (ops, w) = measure(target, tasks, run).await;
                eprintln!("  {tasks:>3} tasks {:<11} {ops:>9.0} ops/s", TARGETS[t]);
                results[c][t].push(ops);
                wrong += w;
            }
        }
    }
    let (single_after, cluster_after) = (single.stats(), clustered.stats());
    let misses = (single_after.misses - single_before.misses)
        + (cluster_after.misses - cluster_before.misses);
    let errors = (single_after.errors - single_before.errors)
        + (cluster_after.errors - cluster_before.errors);

    println!(
        "\n{KEYS} pre-filled keys, L1 off, {secs} s per cell, median of {ROUNDS} interleaved rounds \
         (ratios: median of the per-round ratios)\n"
    );
    println!("| tasks | single node ops/s | cluster ops/s | cluster/single | raw single | raw cluster | single cache/raw | cluster cache/raw |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut ratio_64 = 0.0;
    for (c, &tasks) in CONCURRENCY.iter().enumerate() {
        let r = &results[c];
        let m: Vec<f64> = r.iter().map(|cell| median(cell)).collect();
        // A ratio is the median of the per-round ratios: each pairs two neighbouring runs.
        let ratio_of = |a: usize, b: usize| {
            let per_round: Vec<f64> = (0..ROUNDS).map(|i| r[a][i] / r[b][i]).collect();
            median(&per_round)
        };
        let ratio = ratio_of(1, 0);
        if tasks == 64 {
            ratio_64 = ratio;
        }
        println!(
            "| {tasks} | {:.0} | {:.0} | {ratio:.2} | {:.0} | {:.0} | {:.2} | {:.2} |",
            m[0],
            m[1],
            m[2],
            m[3],
            ratio_of(0, 2),
            ratio_of(1, 3)
        );
    }
    println!(
        "\nwrong values: {wrong}; misses during measurement: {misses}; store errors: {errors}"
    );
    println!("cluster_ratio_64={ratio_64:.2}");
    wrong == 0 && misses == 0
}

fn main() {
    let mut secs = 3.0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => secs = 1.0,
            "--secs" => {
                secs = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s: &f64| *s > 0.0)
                    .expect("--secs takes a positive number of seconds");
            }
            other => panic!("unknown argument {other:?}; expected --quick or --secs N"),
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {cores} cores, {}", cpu_model());
    let server = RedisServer::start();
    let cluster = RedisCluster::start(3, 0);
    println!(
        "single node {}, cluster masters {:?}",
        server.url(),
        cluster.masters()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let ok = rt.block_on(run(&server, &cluster, secs));
    drop(rt);
    drop(cluster);
    drop(server);
    if !ok {
        eprintln!("FAILED: every measured call must be a hit with the right value");
        std::process::exit(1);
    }
}
