// `before = true` also invalidates before the body, so the body reads fresh values;
// `after = false` then leaves the entry the body re-filled.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cache_invalidate, cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[cached]
async fn balance(account: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst) as u64 + account
}

#[cache_invalidate(balance(account), before = true, after = false)]
async fn refresh(account: u64) -> u64 {
    balance(account).await
}

#[cache_invalidate(balance(account), before = true)]
async fn refresh_twice(account: u64) -> u64 {
    balance(account).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let runs = || RUNS.load(Ordering::SeqCst);
    assert_eq!(balance(100).await, 100);
    assert_eq!(balance(100).await, 100);
    assert_eq!(runs(), 1);

    assert_eq!(refresh(100).await, 101); // invalidated first: the body reloads
    assert_eq!(balance(100).await, 101); // not invalidated after: a hit
    assert_eq!(runs(), 2);

    assert_eq!(refresh_twice(100).await, 102);
    assert_eq!(balance(100).await, 103); // invalidated after as well
    assert_eq!(runs(), 4);
}
