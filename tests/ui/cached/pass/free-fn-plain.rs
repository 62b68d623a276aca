// A free fn returning a plain value: the body runs once per distinct argument.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[cached(ttl = 60)]
async fn square(n: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    n * n
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    assert_eq!(square(3).await, 9);
    assert_eq!(square(3).await, 9);
    assert_eq!(square(4).await, 16);
    assert_eq!(RUNS.load(Ordering::SeqCst), 2);
}
