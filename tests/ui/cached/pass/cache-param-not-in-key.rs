// `cache = cache` naming a parameter uses that cache and leaves the parameter out of the key
// (a `Cache` is not `Serialize`), with no `skip(cache)` needed.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[cached(cache = cache)]
async fn lookup(cache: &Cache, id: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    id + 1
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (a, b) = (Cache::memory(), Cache::memory());
    assert_eq!(lookup(&a, 1).await, 2);
    assert_eq!(lookup(&a, 1).await, 2);
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    // Another cache holds its own entries: the body runs again.
    assert_eq!(lookup(&b, 1).await, 2);
    assert_eq!(RUNS.load(Ordering::SeqCst), 2);
    let key = cache_runtime::key_for::<u64>(
        concat!(module_path!(), "::lookup"),
        1,
        &(1u64,),
    )
    .unwrap();
    assert!(a.exists(&key).await.unwrap());
}
