// A fn returning `Result`: `Ok` is cached, `Err` is returned but not stored; `?` works.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cached, Cache};
use serde::{Deserialize, Serialize};

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
}

#[derive(Debug)]
struct NotFound;

fn parse(id: u64) -> Result<u64, NotFound> {
    if id == 0 {
        Err(NotFound)
    } else {
        Ok(id)
    }
}

#[cached(ttl = "10m", namespace = "users")]
async fn get_user(id: u64) -> Result<User, NotFound> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    let id = parse(id)?;
    Ok(User {
        id,
        name: format!("user {id}"),
    })
}

#[cached]
async fn read_file(path: String) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    assert_eq!(get_user(7).await.unwrap().name, "user 7");
    assert_eq!(get_user(7).await.unwrap().name, "user 7");
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    assert!(get_user(0).await.is_err());
    assert!(get_user(0).await.is_err());
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
    assert!(read_file("/nonexistent/file".to_owned()).await.is_err());
}
