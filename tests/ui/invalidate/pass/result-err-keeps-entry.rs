// A fn returning `Result` invalidates only on `Ok`: an `Err` (a failed write) leaves the
// entries in place. `?` in the body works.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cache_invalidate, cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, PartialEq)]
struct Rejected;

#[cached]
async fn price(item: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    item * 100
}

fn check(price: u64) -> Result<u64, Rejected> {
    if price == 0 {
        Err(Rejected)
    } else {
        Ok(price)
    }
}

#[cache_invalidate(price(item))]
async fn set_price(item: u64, new_price: u64) -> Result<u64, Rejected> {
    let accepted = check(new_price)?;
    Ok(accepted)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let runs = || RUNS.load(Ordering::SeqCst);
    assert_eq!(price(1).await, 100);
    assert_eq!(set_price(1, 0).await, Err(Rejected));
    assert_eq!(price(1).await, 100); // still cached
    assert_eq!(runs(), 1);
    assert_eq!(set_price(1, 5).await, Ok(5));
    assert_eq!(price(1).await, 100); // invalidated
    assert_eq!(runs(), 2);
}
