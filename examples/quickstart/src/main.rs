//! Quickstart: a slow async function, cached with one attribute.
//!
//! Runs on the embedded default (process memory) with no set-up. Built with the `redis`
//! feature, it caches in Redis when `REDIS_URL` is set:
//!
//! ```text
//! cargo run -p cache-quickstart
//! REDIS_URL=redis://127.0.0.1:6379 cargo run -p cache-quickstart --features redis
//! ```

use std::time::{Duration, Instant};

use cache_runtime::{cached, Cache};

/// Stands for a slow database query or HTTP call.
#[cached(ttl = "10m", namespace = "quickstart.greeting")]
async fn greeting(name: String) -> String {
    tokio::time::sleep(Duration::from_millis(300)).await;
    format!("Hello, {name}!")
}

async fn timed_call(name: &str) -> String {
    let before = cache_runtime::global().stats();
    let start = Instant::now();
    let value = greeting(name.to_owned()).await;
    let elapsed = start.elapsed();
    let after = cache_runtime::global().stats();
    let outcome = if after.hits > before.hits {
        "hit "
    } else {
        "miss"
    };
    println!("greeting({name:?}) -> {value:?}: {outcome} in {elapsed:.2?}");
    value
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> cache_runtime::Result<()> {
    // Build the cache from REDIS_URL / CACHE_* (memory when REDIS_URL is unset), so a bad
    // setting or an unreachable Redis is reported here instead of on first use.
    let cache = Cache::from_env().await?;
    println!("cache backend: {}", cache.backend());
    cache_runtime::init(cache)?;
    // Start clean so the first call is a miss even against a shared Redis.
    cache_runtime::global()
        .clear_namespace("quickstart.greeting")
        .await?;

    timed_call("Ada").await;
    timed_call("Ada").await;
    timed_call("Grace").await;

    let stats = cache_runtime::global().stats();
    println!(
        "stats: {} hits, {} misses, {} errors, hit rate {:.0}%",
        stats.hits,
        stats.misses,
        stats.errors,
        stats.hit_rate() * 100.0
    );
    Ok(())
}
