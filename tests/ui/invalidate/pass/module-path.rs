// Targets are paths: a fn in another module (`users::get(id)`, `crate::users::get(id)`) and a
// generic fn with its turbofish (`users::load::<u64>(id)`).
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cache_invalidate, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

mod users {
    use super::{Ordering, RUNS};
    use cache_runtime::{cached, CacheValue};

    #[cached]
    pub async fn get(id: u64) -> Option<String> {
        RUNS.fetch_add(1, Ordering::SeqCst);
        Some(format!("user {id}"))
    }

    #[cached]
    pub async fn load<T: Default + CacheValue>(id: u64) -> T {
        RUNS.fetch_add(1, Ordering::SeqCst);
        let _ = id;
        T::default()
    }
}

#[cache_invalidate(users::get(id))]
async fn rename(id: u64) {}

#[cache_invalidate(crate::users::get(id), users::load::<u64>(id))]
async fn delete(id: u64) -> bool {
    true
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let runs = || RUNS.load(Ordering::SeqCst);
    assert_eq!(users::get(1).await.as_deref(), Some("user 1"));
    assert_eq!(users::get(1).await.as_deref(), Some("user 1"));
    assert_eq!(runs(), 1);
    rename(1).await;
    assert_eq!(users::get(1).await.as_deref(), Some("user 1"));
    assert_eq!(runs(), 2);

    assert_eq!(users::load::<u64>(1).await, 0);
    assert_eq!(users::load::<String>(1).await, "");
    assert_eq!(runs(), 4);
    assert!(delete(1).await);
    assert_eq!(users::get(1).await.as_deref(), Some("user 1")); // invalidated
    assert_eq!(users::load::<u64>(1).await, 0); // invalidated
    assert_eq!(users::load::<String>(1).await, ""); // another value type: kept
    assert_eq!(runs(), 6);
}
