// `all(get_orders)` deletes every entry of that fn, whatever the arguments; other fns keep
// theirs.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cache_invalidate, cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[cached]
async fn get_orders(user: u64) -> Vec<u64> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    vec![user]
}

#[cached(namespace = "totals")]
async fn total(user: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    user * 10
}

#[cache_invalidate(all(get_orders))]
async fn import_orders() -> Result<usize, String> {
    Ok(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let runs = || RUNS.load(Ordering::SeqCst);
    for _ in 0..2 {
        assert_eq!(get_orders(1).await, vec![1]);
        assert_eq!(get_orders(2).await, vec![2]);
        assert_eq!(total(1).await, 10);
    }
    assert_eq!(runs(), 3);
    assert_eq!(import_orders().await, Ok(2));
    assert_eq!(get_orders(1).await, vec![1]);
    assert_eq!(get_orders(2).await, vec![2]);
    assert_eq!(total(1).await, 10);
    assert_eq!(runs(), 5);
}
