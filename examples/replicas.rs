//! Two replicas of a service sharing one Redis: a write on one drops the other's in-process
//! copy (L1) through the backplane.
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6379 cargo run -p cache-examples --bin replicas
//! ```
//!
//! Without arguments it starts two worker processes (itself, as `replicas reader` and
//! `replicas writer`). The reader serves `price()` from its L1 in a tight loop and reports
//! each new value it sees; the writer changes the price in the "database" (a plain Redis
//! key standing in for one) and invalidates the cached read. `replicas reader` alone is what
//! the backplane latency test drives.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cache_runtime::{cache_invalidate, cached, Cache};
use redis::AsyncCommands;

/// The "database" row: a plain Redis key, outside the cache's prefix.
const ROW: &str = "replicas-example:price";

fn unix_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// One connection to the "database", opened on first use.
async fn database() -> Result<redis::aio::MultiplexedConnection, redis::RedisError> {
    static DB: tokio::sync::OnceCell<redis::aio::MultiplexedConnection> =
        tokio::sync::OnceCell::const_new();
    DB.get_or_try_init(|| async {
        let url = std::env::var("REDIS_URL").unwrap_or_default();
        redis::Client::open(url)?
            .get_multiplexed_async_connection()
            .await
    })
    .await
    .cloned()
}

/// The cached read: from L1 on every call but the first after each invalidation.
#[cached(namespace = "replicas.price", ttl = "10m")]
async fn price() -> Option<u64> {
    let mut db = database().await.ok()?;
    db.get::<_, Option<u64>>(ROW).await.ok().flatten()
}

/// The write: updates the row, then invalidates the cached read in every replica.
#[cache_invalidate(price())]
async fn set_price(value: u64) -> Result<(), String> {
    let mut db = database().await.map_err(|e| e.to_string())?;
    db.set::<_, _, ()>(ROW, value)
        .await
        .map_err(|e| e.to_string())
}

/// Prints `ready`, then `seen <value> <unix nanos>` each time `price()` changes, until
/// standard input closes or `rounds` values were seen.
async fn reader(rounds: usize) -> Result<(), String> {
    let mut last = price().await;
    println!("ready");
    let mut seen = 0;
    while seen < rounds {
        let now = price().await;
        if now != last {
            println!("seen {} {}", now.unwrap_or(0), unix_nanos());
            last = now;
            seen += 1;
        }
        tokio::task::yield_now().await;
    }
    Ok(())
}

/// Changes the price `rounds` times, 200 ms apart.
async fn writer(rounds: u64) -> Result<(), String> {
    for value in 1..=rounds {
        tokio::time::sleep(Duration::from_millis(200)).await;
        set_price(value).await?;
        println!("writer: price is now {value}");
    }
    Ok(())
}

/// Starts a reader and a writer process and relays their output.
fn demo() -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut reader = std::process::Command::new(&me)
        .args(["reader", "5"])
        .spawn()
        .map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(500));
    let writer = std::process::Command::new(&me)
        .args(["writer", "5"])
        .status()
        .map_err(|e| e.to_string())?;
    let reader_status = reader.wait().map_err(|e| e.to_string())?;
    if writer.success() && reader_status.success() {
        Ok(())
    } else {
        Err(format!("writer {writer}, reader {reader_status}"))
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let rounds = |i: usize| args.get(i).and_then(|n| n.parse().ok()).unwrap_or(5);
    let result = async {
        if std::env::var("REDIS_URL").unwrap_or_default().is_empty() {
            return Err("set REDIS_URL: replicas share their cache through Redis".to_owned());
        }
        let cache = Cache::from_env().await.map_err(|e| e.to_string())?;
        cache.wait_for_backplane(Duration::from_secs(5)).await;
        cache_runtime::init(cache).map_err(|e| e.to_string())?;
        match args.get(1).map(String::as_str) {
            Some("reader") => reader(rounds(2)).await,
            Some("writer") => writer(rounds(2) as u64).await,
            _ => tokio::task::block_in_place(demo),
        }
    }
    .await;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
