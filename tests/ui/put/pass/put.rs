// `#[cache_put(get_user(id))]` writes the fn's return value to that entry, so the next read
// is a hit with the new value. A `Result` writes only `Ok`, an `Option` only `Some`, a plain
// value always; the target's return shape may differ as long as the value type matches.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cache_put, cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, PartialEq)]
struct Invalid;

#[cached]
async fn get_user(id: u64) -> Option<String> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    Some(format!("user {id}"))
}

#[cached]
async fn square(n: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    n * n
}

#[cache_put(get_user(id))]
async fn rename(id: u64, name: String) -> Result<String, Invalid> {
    if name.is_empty() {
        return Err(Invalid);
    }
    Ok(name)
}

#[cache_put(square(n))]
async fn set_square(n: u64, value: u64) -> u64 {
    value
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let cache = cache_runtime::global();
    let runs = || RUNS.load(Ordering::SeqCst);
    assert_eq!(get_user(1).await.as_deref(), Some("user 1"));
    assert_eq!(rename(1, "ann".to_owned()).await, Ok("ann".to_owned()));
    assert_eq!(get_user(1).await.as_deref(), Some("ann")); // a hit with the new value
    assert_eq!(rename(1, String::new()).await, Err(Invalid));
    assert_eq!(get_user(1).await.as_deref(), Some("ann")); // `Err` wrote nothing
    assert_eq!(rename(2, "bob".to_owned()).await, Ok("bob".to_owned()));
    assert_eq!(get_user(2).await.as_deref(), Some("bob")); // never ran the body
    assert_eq!(runs(), 1);
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.hits), (1, 3));

    assert_eq!(set_square(3, 10).await, 10);
    assert_eq!(square(3).await, 10);
    assert_eq!(runs(), 1);
}
