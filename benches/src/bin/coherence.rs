//! What L1 coherence through client tracking costs and gives, between OS processes on one
//! `redis-server` the bench starts on a free loopback port (never the system Redis):
//!
//! 1. Staleness: a reader process holds a value in L1; this process `DEL`s its key through
//!    a raw connection and takes the time when `DEL` returned; the reader reports when the
//!    first call that no longer served the old value started. p50/p99/max over 200 rounds.
//! 2. Write throughput of this process (64 `SET`s in flight on one connection, keys under the
//!    cache prefix) with no other client, with 8 processes tracking in BCAST mode (the cache),
//!    and with 8 processes tracking in the default mode, each having read every key once
//!    (then each key is invalidated to them once: the default mode sends one message per
//!    read-then-write, BCAST one per write). Round robin, 3 rounds, medians.
//! 3. Server memory (`INFO memory`, `used_memory`) for 100,000 keys held in L1 by one
//!    process: BCAST (the cache, `l1_capacity` 200,000) and default mode (a raw RESP3
//!    connection that read every key), against no tracking.
//!
//! 4. With `--hit-path` (only that): an L1 hit and a Redis hit with tracking and without
//!    (`l1_tracking(false)`), in the same run, 5 alternating rounds, medians; run it pinned
//!    (`taskset -c 0`).
//!
//! 5. With `--fill-path` (only that): a Redis hit that copies its value into L1 against one
//!    that does not (`l1 = false`), with tracking, on one node and on a 3-master cluster
//!    (where the copy waits for the key's master to answer a `TYPE` on its tracking
//!    connection), 5 alternating rounds, medians.
//!
//! `cargo run --release -p cache-bench --bin coherence [-- --rounds N --secs S --keys K]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cache_runtime::{cached, Cache, Coherence};
use cache_tests::cluster::RedisCluster;
use cache_tests::redis_server::RedisServer;

/// The prefix of the caches here (tracked as `bench.coherence:`).
const PREFIX: &str = "bench.coherence";

fn unix_nanos() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().unwrap())
}

/// The number of body runs so far.
static RUNS: AtomicU64 = AtomicU64::new(0);

/// An L1-resident value (the hit path of the comparison).
#[cached(namespace = "bench.hot", ttl = "600s", cache = cache)]
async fn hot(id: u64, cache: &Cache) -> u64 {
    id
}

/// A value read from Redis at every call (`l1 = false`).
#[cached(namespace = "bench.remote", ttl = "600s", l1 = false, cache = cache)]
async fn remote(id: u64, cache: &Cache) -> u64 {
    id
}

/// A Redis hit that goes into L1 at every call: its L1 copy lives 1 ms, and
/// [`after_pause`] waits 2 ms before each call.
#[cached(namespace = "bench.refill", ttl = "600s", l1_ttl = "1ms", cache = cache)]
async fn refill(id: u64, cache: &Cache) -> u64 {
    id
}

/// Nanoseconds per call of `call`, over `n` calls each made 2 ms after the last one ended
/// (only the calls are timed).
async fn after_pause<F: std::future::Future<Output = u64>>(n: u64, call: impl Fn() -> F) -> f64 {
    let mut spent = Duration::ZERO;
    for _ in 0..n {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let start = Instant::now();
        std::hint::black_box(call().await);
        spent += start.elapsed();
    }
    spent.as_nanos() as f64 / n as f64
}

/// The median of 5.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A Redis hit that fills L1 against one that does not, with tracking, on `cache`: 5
/// alternating rounds of 1,000 calls each, medians, in µs. Checks that every `refill` call
/// was a Redis hit.
async fn fill_path_on(cache: &Cache) -> (f64, f64) {
    for _ in 0..3 {
        refill(1, cache).await;
        remote(1, cache).await;
    }
    let (mut fills, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let before = cache.stats();
        fills.push(after_pause(1_000, || refill(1, cache)).await / 1000.0);
        let after = cache.stats();
        assert_eq!(after.l1_hits, before.l1_hits, "a refill call hit L1");
        assert_eq!(after.hits - before.hits, 1_000, "{after:?}");
        plain.push(after_pause(1_000, || remote(1, cache)).await / 1000.0);
    }
    (median(&mut fills), median(&mut plain))
}

/// `--fill-path`: [`fill_path_on`] on one node, then on a 3-master cluster.
async fn fill_path(server: &RedisServer) {
    let single = tracked_cache(&server.url(), 10_000).await;
    let (s_fill, s_plain) = fill_path_on(&single).await;
    let cluster = tokio::task::block_in_place(|| RedisCluster::start(3, 0));
    let on_cluster = Cache::builder()
        .cluster_nodes(cluster.nodes())
        .prefix(PREFIX)
        .build()
        .await
        .unwrap();
    assert!(on_cluster.wait_for_backplane(Duration::from_secs(10)).await);
    assert_eq!(on_cluster.stats().coherence, Some(Coherence::Tracking));
    let (c_fill, c_plain) = fill_path_on(&on_cluster).await;
    println!(
        "Redis hit, median of 5 alternating rounds of 1,000 calls: one node {s_fill:.1} µs \
         filling L1, {s_plain:.1} µs not ({:.3}x); 3-master cluster {c_fill:.1} µs filling \
         L1, {c_plain:.1} µs not ({:.3}x)",
        s_fill / s_plain,
        c_fill / c_plain
    );
}

/// Nanoseconds per call of `call`, over `n` calls.
async fn per_call<F: std::future::Future<Output = u64>>(n: u64, call: impl Fn() -> F) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        std::hint::black_box(call().await);
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

/// The hit path with tracking and without (`l1_tracking(false)`), in the same run: an L1
/// hit and a Redis hit, 5 rounds alternating, medians.
async fn hit_path(server: &RedisServer) {
    let tracked = tracked_cache(&server.url(), 10_000).await;
    let plain = Cache::builder()
        .redis_url(server.url())
        .prefix(PREFIX)
        .l1_tracking(false)
        .build()
        .await
        .unwrap();
    assert!(plain.wait_for_backplane(Duration::from_secs(5)).await);
    for c in [&tracked, &plain] {
        for _ in 0..3 {
            hot(1, c).await;
            remote(1, c).await;
        }
    }
    let (mut l1, mut redis) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
    for _ in 0..5 {
        for (i, c) in [&tracked, &plain].into_iter().enumerate() {
            l1[i].push(per_call(1_000_000, || hot(1, c)).await);
            redis[i].push(per_call(20_000, || remote(1, c)).await / 1000.0);
        }
    }
    let [mut l1_t, mut l1_p] = l1;
    let [mut r_t, mut r_p] = redis;
    let (l1_t, l1_p, r_t, r_p) = (
        median(&mut l1_t),
        median(&mut l1_p),
        median(&mut r_t),
        median(&mut r_p),
    );
    println!(
        "hit path, median of 5 alternating rounds: L1 hit {l1_t:.1} ns with tracking, \
         {l1_p:.1} ns without ({:.3}x); Redis hit {r_t:.1} µs with tracking, {r_p:.1} µs \
         without ({:.3}x)",
        l1_t / l1_p,
        r_t / r_p
    );
}

#[cached(namespace = "bench.row", ttl = "600s", cache = cache)]
async fn row(cache: &Cache) -> u64 {
    RUNS.fetch_add(1, Relaxed) + 1
}

async fn tracked_cache(url: &str, capacity: u64) -> Cache {
    let cache = Cache::builder()
        .redis_url(url)
        .prefix(PREFIX)
        .l1_capacity(capacity)
        .build()
        .await
        .unwrap();
    assert!(cache.wait_for_backplane(Duration::from_secs(5)).await);
    assert_eq!(cache.stats().coherence, Some(Coherence::Tracking));
    cache
}

/// Child: reads `row` until it is in L1, prints `ready {redis key}`, then calls it until it
/// returns another value and prints when that call started; once per line on stdin.
async fn reader(url: &str) {
    let cache = tracked_cache(url, 10_000).await;
    let key = format!(
        "{PREFIX}:{}",
        cache_runtime::key_for::<u64>("bench.row", 1, &()).unwrap()
    );
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    for _ in stdin.lock().lines() {
        let old = loop {
            let before = cache.stats().l1_hits;
            let v = row(&cache).await;
            if cache.stats().l1_hits > before {
                break v;
            }
        };
        writeln!(out, "ready {key}").unwrap();
        out.flush().unwrap();
        let seen = loop {
            let started = unix_nanos();
            if row(&cache).await != old {
                break started;
            }
            tokio::task::yield_now().await;
        };
        writeln!(out, "seen {seen}").unwrap();
        out.flush().unwrap();
    }
}

/// Child: a cache with tracking that holds `keys` entries in L1; prints `ready` and waits
/// for stdin to close.
async fn bcast_holder(url: &str, keys: u64) {
    let cache = tracked_cache(url, (keys * 2).max(1000)).await;
    for i in 0..keys {
        let _: Option<u64> = cache.get(format!("k{i}")).await.unwrap();
    }
    ready_then_wait();
}

/// Child: a raw RESP3 connection in the default tracking mode that read `keys` keys (so the
/// server tracks each of them for it); prints `ready` and waits for stdin to close.
async fn default_holder(url: &str, keys: u64) {
    let mut info = redis::IntoConnectionInfo::into_connection_info(url).unwrap();
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(redis::ProtocolVersion::RESP3);
    info = info.set_redis_settings(settings);
    let pushes = Arc::new(AtomicU64::new(0));
    let counted = pushes.clone();
    let config = redis::AsyncConnectionConfig::new().set_push_sender(move |_: redis::PushInfo| {
        counted.fetch_add(1, Relaxed);
        Ok::<(), std::convert::Infallible>(())
    });
    let mut conn = redis::Client::open(info)
        .unwrap()
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap();
    let () = redis::cmd("CLIENT")
        .arg("TRACKING")
        .arg("ON")
        .query_async(&mut conn)
        .await
        .unwrap();
    for chunk in (0..keys).collect::<Vec<_>>().chunks(1000) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.get(format!("{PREFIX}:k{i}")).ignore();
        }
        let () = pipe.query_async(&mut conn).await.unwrap();
    }
    ready_then_wait();
}

fn ready_then_wait() {
    println!("ready");
    std::io::stdout().flush().unwrap();
    for _ in std::io::stdin().lock().lines() {}
}

/// A child process of this binary, with its stdin and stdout.
struct Proc {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        Proc { child, out }
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.out.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "a child process ended early");
        line.trim().to_owned()
    }

    fn send(&mut self) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "go").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn staleness(server: &RedisServer, rounds: u64) {
    let mut reader = Proc::spawn(&["reader", &server.url()]);
    let mut raw = server.raw().await;
    let mut micros = Vec::new();
    for _ in 0..rounds {
        reader.send();
        let ready = reader.line();
        let key = ready.strip_prefix("ready ").unwrap().to_owned();
        // Let the reader spin on its L1 hits for a moment.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let n: u64 = redis::cmd("DEL")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .unwrap();
        let deleted = unix_nanos();
        assert_eq!(n, 1);
        let seen: i128 = reader
            .line()
            .strip_prefix("seen ")
            .unwrap()
            .parse()
            .unwrap();
        micros.push((seen - deleted) as f64 / 1000.0);
    }
    micros.sort_by(f64::total_cmp);
    println!(
        "staleness after another process's DEL, {rounds} rounds: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs \
         (negative: the reader's new call began before DEL's reply reached this process)",
        percentile(&micros, 0.5),
        percentile(&micros, 0.99),
        micros[micros.len() - 1],
    );
}

/// SETs per second over `secs`, 64 in flight on one connection, over `keys` keys.
async fn write_rate(server: &RedisServer, secs: u64, keys: u64) -> f64 {
    let raw = server.raw().await;
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for t in 0..64u64 {
        let (mut conn, done) = (raw.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = t;
            while Instant::now() < deadline {
                let () = redis::cmd("SET")
                    .arg(format!("{PREFIX}:k{}", i % keys))
                    .arg(i)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                i += 64;
                done.fetch_add(1, Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Relaxed) as f64 / secs as f64
}

async fn used_memory(server: &RedisServer) -> i64 {
    let mut raw = server.raw().await;
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(&mut raw)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Stores `keys` entries `k{i}` through a cache without L1.
async fn fill(server: &RedisServer, keys: u64) {
    let writer = Cache::builder()
        .redis_url(server.url())
        .prefix(PREFIX)
        .l1(false)
        .build()
        .await
        .unwrap();
    for chunk in (0..keys).collect::<Vec<_>>().chunks(1000) {
        let items: Vec<(String, u64)> = chunk.iter().map(|i| (format!("k{i}"), *i)).collect();
        writer.set_many(&items, None).await.unwrap();
    }
}

/// The write rate with `procs` (made ready first) tracking.
async fn rate_with(server: &RedisServer, secs: u64, keys: u64, procs: Vec<Proc>) -> f64 {
    let mut procs = procs;
    procs.iter_mut().for_each(|p| assert_eq!(p.line(), "ready"));
    write_rate(server, secs, keys).await
}

async fn throughput(server: &RedisServer, secs: u64, keys: u64) {
    let k = keys.to_string();
    let (mut none, mut bcast, mut default) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        none.push(write_rate(server, secs, keys).await);
        let procs = (0..8).map(|_| Proc::spawn(&["bcast", &server.url(), "0"]));
        bcast.push(rate_with(server, secs, keys, procs.collect()).await);
        let procs = (0..8).map(|_| Proc::spawn(&["default", &server.url(), &k]));
        default.push(rate_with(server, secs, keys, procs.collect()).await);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[1]
    };
    let (none, bcast, default) = (median(&mut none), median(&mut bcast), median(&mut default));
    println!(
        "SETs per second on {keys} keys, 64 in flight, {secs} s each, median of 3 rounds: \
         no tracking {none:.0}; 8 processes tracking BCAST {bcast:.0} ({:.2}x); 8 processes \
         tracking in the default mode, each having read every key once, {default:.0} ({:.2}x)",
        bcast / none,
        default / none
    );
}

async fn memory(server: &RedisServer, keys: u64) {
    let k = keys.to_string();
    let base = used_memory(server).await;
    let bcast = {
        let mut p = Proc::spawn(&["bcast", &server.url(), &k]);
        assert_eq!(p.line(), "ready");
        used_memory(server).await - base
    };
    let default = {
        let mut p = Proc::spawn(&["default", &server.url(), &k]);
        assert_eq!(p.line(), "ready");
        used_memory(server).await - base
    };
    println!(
        "server memory (used_memory) for {keys} keys in one process's L1, over no tracking: \
         BCAST {:.1} MiB; default mode {:.1} MiB ({:.0} bytes per key)",
        bcast as f64 / 1048576.0,
        default as f64 / 1048576.0,
        default as f64 / keys as f64
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("reader") => return reader(&args[2]).await,
        Some("bcast") => return bcast_holder(&args[2], args[3].parse().unwrap()).await,
        Some("default") => return default_holder(&args[2], args[3].parse().unwrap()).await,
        _ => {}
    }
    let (rounds, secs, keys) = (
        arg("--rounds", 200),
        arg("--secs", 3),
        arg("--keys", 100_000),
    );
    let server = RedisServer::start();
    if args.iter().any(|a| a == "--hit-path") {
        return hit_path(&server).await;
    }
    if args.iter().any(|a| a == "--fill-path") {
        return fill_path(&server).await;
    }
    staleness(&server, rounds).await;
    fill(&server, keys).await;
    memory(&server, keys).await;
    throughput(&server, secs, keys).await;
}
