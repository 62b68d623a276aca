// The hidden key fn computes exactly the key the cached fn uses, whatever shapes the key:
// `skip`, `key = expr`, `version`, tags, `mut` and destructured parameters. Each
// invalidation below hits the entry (checked against `key_for`).
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cache_invalidate, cached, key_for, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

struct Db;

struct User {
    id: u64,
}

struct Wrapper<T>(T);

#[cached(skip(db), version = 3, tags = ["org:{org}"])]
async fn profile(mut id: u64, org: u32, db: &Db) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    let _ = db;
    id += 1;
    format!("{org}/{id}")
}

#[cached(key = (user.id, page), version = 2)]
async fn feed(user: &User, page: u32, trace: String) -> Vec<u64> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    let _ = trace;
    vec![user.id, u64::from(page)]
}

#[cached]
async fn wrapped(Wrapper(id): Wrapper<u64>, _: Db) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    id
}

// `profile`'s key fn takes `id` and `org` (`db` is skipped and not in a tag), `feed`'s takes
// `user` and `page` (what `key` reads), `wrapped`'s the wrapper.
#[cache_invalidate(profile(id, org), feed(user, 3), wrapped(Wrapper(id)))]
async fn touch(id: u64, org: u32, user: &User) {}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let cache = cache_runtime::global();
    let user = User { id: 5 };
    assert_eq!(profile(5, 9, &Db).await, "9/6");
    assert_eq!(feed(&user, 3, "a".to_owned()).await, vec![5, 3]);
    assert_eq!(wrapped(Wrapper(5), Db).await, 5);
    let keys = [
        key_for::<String>(concat!(module_path!(), "::profile"), 3, &(5u64, 9u32)).unwrap(),
        key_for::<Vec<u64>>(concat!(module_path!(), "::feed"), 2, &((5u64, 3u32),)).unwrap(),
        key_for::<u64>(concat!(module_path!(), "::wrapped"), 1, &(5u64,)).unwrap(),
    ];
    for key in &keys {
        assert!(cache.exists(key).await.unwrap(), "{key}");
    }

    touch(5, 9, &user).await;
    for key in &keys {
        assert!(!cache.exists(key).await.unwrap(), "{key}");
    }
    assert_eq!(profile(5, 9, &Db).await, "9/6");
    assert_eq!(feed(&user, 3, "b".to_owned()).await, vec![5, 3]);
    assert_eq!(wrapped(Wrapper(5), Db).await, 5);
    assert_eq!(RUNS.load(Ordering::SeqCst), 6);
}
