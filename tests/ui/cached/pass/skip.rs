// `skip(...)` leaves parameters out of the key, so they need not be `Serialize`.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

struct Pool {
    name: &'static str,
}

#[cached(skip(pool, verbose))]
async fn load(id: u64, pool: &Pool, verbose: bool) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    if verbose {
        format!("{id} from {}", pool.name)
    } else {
        id.to_string()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let pool = Pool { name: "db" };
    assert_eq!(load(1, &pool, false).await, "1");
    assert_eq!(load(1, &pool, true).await, "1");
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
}
