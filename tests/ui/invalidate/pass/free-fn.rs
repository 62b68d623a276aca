// `#[cache_invalidate(get_user(id))]` deletes the entry of that one call after the body runs;
// other entries stay.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cache_invalidate, cached, key_for, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[cached]
async fn get_user(id: u64) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    format!("user {id}")
}

#[cache_invalidate(get_user(id))]
async fn rename_user(id: u64, name: String) -> usize {
    name.len()
}

#[cached]
async fn by_email(email: String) -> usize {
    RUNS.fetch_add(1, Ordering::SeqCst);
    email.len()
}

// The body may move the arguments: the key was computed before it ran.
#[cache_invalidate(by_email(email))]
async fn forget(email: String) -> String {
    email
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let cache = cache_runtime::global();
    assert_eq!(get_user(1).await, "user 1");
    assert_eq!(get_user(1).await, "user 1");
    assert_eq!(get_user(2).await, "user 2");
    assert_eq!(RUNS.load(Ordering::SeqCst), 2);
    let key = key_for::<String>(concat!(module_path!(), "::get_user"), 1, &(1u64,)).unwrap();
    assert!(cache.exists(&key).await.unwrap());

    assert_eq!(rename_user(1, "ann".to_owned()).await, 3);
    assert!(!cache.exists(&key).await.unwrap());

    assert_eq!(get_user(1).await, "user 1"); // miss: invalidated
    assert_eq!(get_user(2).await, "user 2"); // hit: another entry
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.hits), (3, 2));

    assert_eq!(by_email("a@b".to_owned()).await, 3);
    assert_eq!(forget("a@b".to_owned()).await, "a@b");
    assert_eq!(by_email("a@b".to_owned()).await, 3);
    assert_eq!(RUNS.load(Ordering::SeqCst), 5);
}
