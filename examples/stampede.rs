//! A stampede on one cold key, across processes: run it several times at once and the slow
//! body runs once in all of them.
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6379 cargo run -p cache-examples --bin stampede -- 50
//! ```
//!
//! Each process starts `callers` concurrent calls (default 50) of `report()`, a
//! `#[cached(lock = true)]` fn whose body takes 300 ms and counts its runs in Redis. In one
//! process the callers share one body (single flight); across processes the first to miss
//! holds a lease on the key and the others wait for its value (`lock = true`).

use std::time::{Duration, Instant};

use cache_runtime::{cached, Cache};
use redis::AsyncCommands;

/// Where the bodies count themselves.
const RUNS: &str = "stampede-example:runs";

#[cached(namespace = "stampede.report", ttl = "10m", lock = true)]
async fn report() -> Result<u64, String> {
    let url = std::env::var("REDIS_URL").unwrap_or_default();
    let mut db = redis::Client::open(url)
        .and_then(|c| c.get_connection())
        .map_err(|e| e.to_string())?;
    let runs: u64 = redis::Commands::incr(&mut db, RUNS, 1).map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(runs)
}

async fn run(callers: usize) -> Result<(), String> {
    if std::env::var("REDIS_URL").unwrap_or_default().is_empty() {
        return Err("set REDIS_URL: the processes share their cache through Redis".to_owned());
    }
    let cache = Cache::from_env().await.map_err(|e| e.to_string())?;
    cache_runtime::init(cache).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let calls: Vec<_> = (0..callers).map(|_| tokio::spawn(report())).collect();
    let mut values = Vec::with_capacity(callers);
    for call in calls {
        values.push(call.await.map_err(|e| e.to_string())??);
    }
    values.dedup();
    let stats = cache_runtime::global().stats();
    println!(
        "{callers} callers got {values:?} in {:.0?}: {} misses, {} coalesced",
        start.elapsed(),
        stats.misses,
        stats.coalesced
    );
    let url = std::env::var("REDIS_URL").unwrap_or_default();
    let mut db = redis::Client::open(url)
        .map_err(|e| e.to_string())?
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    let runs: u64 = db.get(RUNS).await.map_err(|e| e.to_string())?;
    println!("bodies run so far, in all processes: {runs}");
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let callers = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);
    match run(callers).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
