// A fn returning `Option`: `Some` is cached and `None` is not, unless `cache_none = true`.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);
static RUNS_NONE: AtomicUsize = AtomicUsize::new(0);

#[cached(version = 2)]
async fn find(name: String) -> Option<u64> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    name.strip_prefix("user").and_then(|id| id.parse().ok())
}

#[cached(cache_none = true, ttl = "500ms")]
async fn find_cache_none(name: String) -> Option<u64> {
    RUNS_NONE.fetch_add(1, Ordering::SeqCst);
    name.strip_prefix("user").and_then(|id| id.parse().ok())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    for _ in 0..2 {
        assert_eq!(find("user5".to_owned()).await, Some(5));
        assert_eq!(find("nobody".to_owned()).await, None);
    }
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
    for _ in 0..2 {
        assert_eq!(find_cache_none("user5".to_owned()).await, Some(5));
        assert_eq!(find_cache_none("nobody".to_owned()).await, None);
    }
    assert_eq!(RUNS_NONE.load(Ordering::SeqCst), 2);
}
