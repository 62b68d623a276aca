// A target is found the way Rust finds the fn: through `use` (also renamed), by a module
// path, or by the name it has where it is defined. `all(..)` and `#[cache_put]` too.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cache_invalidate, cache_put, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

mod users {
    use super::{Ordering, RUNS};
    use cache_runtime::{cache_invalidate, cached, CacheValue};

    #[cached]
    pub async fn get_user(id: u64) -> Option<String> {
        RUNS.fetch_add(1, Ordering::SeqCst);
        Some(format!("user {id}"))
    }

    #[cached]
    pub(crate) async fn load<T: Default + CacheValue>(id: u64) -> T {
        RUNS.fetch_add(1, Ordering::SeqCst);
        let _ = id;
        T::default()
    }

    // Where it is defined.
    #[cache_invalidate(get_user(id))]
    pub async fn touch(id: u64) {}
}

mod handlers {
    use cache_runtime::cache_invalidate;

    use crate::users::get_user;
    use crate::users::load as load_any;

    #[cache_invalidate(get_user(id), load_any::<u64>(id))]
    pub async fn rename(id: u64, name: String) -> Result<(), String> {
        let _ = name;
        Ok(())
    }

    #[cache_invalidate(all(get_user))]
    pub async fn import_users() {}
}

use users::get_user;

#[cache_put(get_user(id))]
async fn save(id: u64, name: String) -> Option<String> {
    Some(name)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let runs = || RUNS.load(Ordering::SeqCst);
    assert_eq!(get_user(1).await.as_deref(), Some("user 1"));
    assert_eq!(users::load::<u64>(1).await, 0);
    assert_eq!(runs(), 2);
    handlers::rename(1, "ada".into()).await.unwrap();
    assert_eq!(get_user(1).await.as_deref(), Some("user 1"));
    assert_eq!(users::load::<u64>(1).await, 0);
    assert_eq!(runs(), 4);
    users::touch(1).await;
    handlers::import_users().await;
    assert_eq!(save(1, "ada".into()).await.as_deref(), Some("ada"));
    assert_eq!(get_user(1).await.as_deref(), Some("ada"));
    assert_eq!(runs(), 4);
}
