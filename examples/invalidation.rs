//! Invalidation: read → update → read, with the invalidation checked by the compiler.
//!
//! Runs on the embedded default (process memory); set `REDIS_URL` to run it on Redis.
//!
//! ```text
//! cargo run -p cache-examples --bin invalidation
//! ```

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use cache_runtime::{cache_invalidate, cache_put, cached, Cache};
use serde::{Deserialize, Serialize};

/// A user row.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct User {
    id: u64,
    name: String,
}

/// Stands for the database: a table of users behind a slow connection.
static USERS: LazyLock<Mutex<HashMap<u64, User>>> = LazyLock::new(|| {
    Mutex::new(HashMap::from([(
        1,
        User {
            id: 1,
            name: "Ada".into(),
        },
    )]))
});

async fn slow_query<T>(f: impl FnOnce(&mut HashMap<u64, User>) -> T) -> T {
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut users = USERS.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut users)
}

/// The read: cached for ten minutes, recorded under the user's tag.
#[cached(ttl = "10m", namespace = "example.user", tags = ["user:{id}"])]
async fn get_user(id: u64) -> Option<User> {
    slow_query(|users| users.get(&id).cloned()).await
}

/// A write that drops the cached read of the same user once it succeeded.
#[cache_invalidate(get_user(id))]
async fn rename_user(id: u64, name: String) -> Result<(), String> {
    slow_query(|users| match users.get_mut(&id) {
        Some(user) => {
            user.name = name;
            Ok(())
        }
        None => Err(format!("no user {id}")),
    })
    .await
}

/// A write that stores its result as the new cached read: the next read is a hit.
#[cache_put(get_user(id))]
async fn set_name(id: u64, name: String) -> Option<User> {
    slow_query(|users| {
        let user = users.get_mut(&id)?;
        user.name = name;
        Some(user.clone())
    })
    .await
}

async fn read(label: &str) -> Option<User> {
    let before = cache_runtime::global().stats();
    let start = Instant::now();
    let user = get_user(1).await;
    let outcome = if cache_runtime::global().stats().hits > before.hits {
        "hit "
    } else {
        "miss"
    };
    let name = user.as_ref().map_or("-", |u| u.name.as_str());
    println!(
        "{label:<24} get_user(1) -> {name:<6} {outcome} in {:.2?}",
        start.elapsed()
    );
    user
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

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let cache = Cache::from_env().await?;
    println!("cache backend: {}", cache.backend());
    cache_runtime::init(cache)?;
    cache_runtime::global()
        .invalidate_namespace("example.user")
        .await?;

    read("first read").await;
    read("second read").await;
    rename_user(1, "Grace".into()).await?;
    read("after rename_user").await;
    read("again").await;
    set_name(1, "Hedy".into()).await;
    read("after set_name (put)").await;
    cache_runtime::global().invalidate_tag("user:1").await?;
    read("after invalidate_tag").await;

    let stats = cache_runtime::global().stats();
    println!(
        "stats: {} hits, {} misses, {} writes, {} errors",
        stats.hits, stats.misses, stats.writes, stats.errors
    );
    Ok(())
}
