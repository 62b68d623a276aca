//! Writers whose targets come from another module by `use`, as Rust finds fns: imported,
//! imported under another name, or by the module's path.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cache_invalidate, cache_put, Cache};
use cache_tests::fixture::{Counts, Fixture};

use crate::users;
use crate::users::get_profile as profile;
use crate::users::get_user;

#[cache_invalidate(get_user(id), profile(id), cache = cache)]
async fn rename(id: u64, cache: &Cache) -> Result<(), String> {
    Ok(())
}

#[cache_put(users::get_user(id), cache = cache)]
async fn save(id: u64, name: String, cache: &Cache) -> Option<String> {
    Some(name)
}

#[cache_invalidate(all(get_user), cache = cache)]
async fn forget_users(cache: &Cache) {}

/// Read both, invalidate through the imports, read again; put through the module path.
pub(crate) async fn imported_targets(fx: &Fixture) {
    let (c, counter) = (&fx.cache, &AtomicUsize::new(0));
    let reads = || counter.load(SeqCst);
    assert_eq!(get_user(1, c, counter).await.as_deref(), Some("user 1"));
    assert_eq!(profile(1, c, counter).await, "profile 1");
    assert_eq!(get_user(1, c, counter).await.as_deref(), Some("user 1"));
    assert_eq!(reads(), 2);
    rename(1, c).await.unwrap();
    let before = fx.counts();
    assert_eq!(get_user(1, c, counter).await.as_deref(), Some("user 1"));
    assert_eq!(profile(1, c, counter).await, "profile 1");
    assert_eq!(reads(), 4);
    assert_eq!(fx.counts().since(before), Counts::calls(0, 2, 2));
    save(1, "ada".into(), c).await;
    assert_eq!(get_user(1, c, counter).await.as_deref(), Some("ada"));
    forget_users(c).await;
    assert_eq!(get_user(1, c, counter).await.as_deref(), Some("user 1"));
    assert_eq!(reads(), 5);
}
