//! Redis killed under load: how many bodies (database queries) run while it is down, with the
//! outage fallback off and on.
//!
//! ```text
//! cargo run --release -p cache-examples --bin outage            # 10 s per mode
//! cargo run --release -p cache-examples --bin outage -- 3       # 3 s per mode
//! ```
//!
//! For each mode (`fallback_ttl(Duration::ZERO)`, then the default 5 s), it starts its own
//! `redis-server` on a free loopback port, builds a cache without L1 (so that only the
//! fallback can serve while Redis is down), calls each of 100 keys once (all stored in
//! Redis), kills the server, and runs 64 tasks calling the 100 keys in turn for the given
//! time. The body sleeps 1 ms, standing in for a database query. It prints the calls, the
//! body runs, their ratio and the fallback hits of each mode. Not a test: it measures.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use cache_runtime::{cached, Cache};
use cache_tests::redis_server::RedisServer;

const TASKS: u64 = 64;
const KEYS: u64 = 100;

#[cached(namespace = "outage.row", cache = cache, skip(cache, runs), ttl = "1h")]
async fn row(id: u64, cache: &Cache, runs: &AtomicU64) -> String {
    runs.fetch_add(1, Relaxed);
    tokio::time::sleep(Duration::from_millis(1)).await;
    format!("row {id}")
}

/// Calls and body runs of one mode.
struct Outcome {
    calls: u64,
    runs: u64,
    fallback_hits: u64,
    /// Calls that returned another value than their body's (there must be none).
    wrong: u64,
}

async fn run(fallback_ttl: Duration, seconds: u64) -> Result<Outcome, String> {
    let mut server = RedisServer::start();
    let cache = Cache::builder()
        .redis_url(server.url())
        .prefix("outage")
        .l1(false)
        .fallback_ttl(fallback_ttl)
        .build()
        .await
        .map_err(|e| format!("connecting to the server it started: {e}"))?;
    let runs = Arc::new(AtomicU64::new(0));
    for id in 0..KEYS {
        row(id, &cache, &runs).await;
    }
    tokio::task::block_in_place(|| server.kill());
    let (before, hits_before) = (runs.load(Relaxed), cache.stats().fallback_hits);
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let wrong = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let (cache, runs, stop, calls, wrong) = (
                cache.clone(),
                runs.clone(),
                stop.clone(),
                calls.clone(),
                wrong.clone(),
            );
            tokio::spawn(async move {
                let mut id = task % KEYS;
                while !stop.load(Relaxed) {
                    if row(id, &cache, &runs).await != format!("row {id}") {
                        wrong.fetch_add(1, Relaxed);
                    }
                    calls.fetch_add(1, Relaxed);
                    id = (id + 1) % KEYS;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Relaxed);
    for task in tasks {
        task.await.map_err(|e| format!("a caller panicked: {e}"))?;
    }
    Ok(Outcome {
        calls: calls.load(Relaxed),
        runs: runs.load(Relaxed) - before,
        fallback_hits: cache.stats().fallback_hits - hits_before,
        wrong: wrong.load(Relaxed),
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), String> {
    let seconds: u64 = match std::env::args().nth(1) {
        Some(s) => s
            .parse()
            .map_err(|_| "usage: outage [SECONDS]".to_owned())?,
        None => 10,
    };
    println!("Redis killed; {TASKS} tasks over {KEYS} keys for {seconds} s; body: 1 ms sleep");
    println!("| fallback | calls | body runs | runs per call | fallback hits |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, ttl) in [
        ("off", Duration::ZERO),
        ("on (5 s)", Duration::from_secs(5)),
    ] {
        let o = run(ttl, seconds).await?;
        if o.wrong > 0 {
            return Err(format!("{name}: {} calls returned a wrong value", o.wrong));
        }
        println!(
            "| {name} | {} | {} | {:.4} | {} |",
            o.calls,
            o.runs,
            o.runs as f64 / o.calls.max(1) as f64,
            o.fallback_hits
        );
    }
    Ok(())
}
