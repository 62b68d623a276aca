//! A service with its own cache (`#[cached(cache = self.cache)]`) and writers that name only
//! the target: each writer acts on the cache the target reads from, never on the global one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

use cache_runtime::{cache_invalidate, cache_put, cached, Cache};
use cache_tests::fixture::{Counts, Fixture};

/// Users in a map standing for a database, cached in the service's own cache.
pub(crate) struct Users {
    cache: Cache,
    db: Mutex<HashMap<u64, String>>,
    /// How many times `get` ran its body.
    reads: AtomicUsize,
}

impl Users {
    fn new(cache: Cache) -> Users {
        let db = HashMap::from([(1, "ada".to_owned()), (2, "bob".to_owned())]);
        Users {
            cache,
            db: Mutex::new(db),
            reads: AtomicUsize::new(0),
        }
    }

    fn reads(&self) -> usize {
        self.reads.load(SeqCst)
    }

    #[cached(cache = self.cache, namespace = "svc.users")]
    pub(crate) async fn get(&self, id: u64) -> Option<String> {
        self.reads.fetch_add(1, SeqCst);
        self.db.lock().unwrap().get(&id).cloned()
    }

    /// No `cache = ...`: the target's cache is `self.cache`.
    #[cache_invalidate(Self::get(self, id))]
    pub(crate) async fn rename(&self, id: u64, name: &str) -> Result<(), String> {
        self.db.lock().unwrap().insert(id, name.to_owned());
        Ok(())
    }

    /// No `cache = ...`: the new value is written where `get` reads.
    #[cache_put(Self::get(self, id))]
    pub(crate) async fn save(&self, id: u64, name: String) -> Option<String> {
        self.db.lock().unwrap().insert(id, name.clone());
        Some(name)
    }
}

/// Read, rename, read again: the second read runs the body and returns the new name.
pub(crate) async fn invalidate_acts_on_the_targets_cache(fx: &Fixture) {
    let users = Users::new(fx.cache.clone());
    assert_eq!(users.get(1).await.as_deref(), Some("ada"));
    assert_eq!(users.get(1).await.as_deref(), Some("ada"));
    assert_eq!(users.get(2).await.as_deref(), Some("bob"));
    assert_eq!(users.reads(), 2);
    users.rename(1, "eve").await.unwrap();
    let before = fx.counts();
    assert_eq!(users.get(1).await.as_deref(), Some("eve"));
    assert_eq!(users.get(2).await.as_deref(), Some("bob"));
    assert_eq!(users.reads(), 3);
    assert_eq!(fx.counts().since(before), Counts::calls(1, 1, 1));
}

/// Read, save, read again: the read after the put is a hit with the saved name.
pub(crate) async fn put_writes_to_the_targets_cache(fx: &Fixture) {
    let users = Users::new(fx.cache.clone());
    assert_eq!(users.get(1).await.as_deref(), Some("ada"));
    assert_eq!(users.reads(), 1);
    let before = fx.counts();
    assert_eq!(users.save(1, "eve".into()).await.as_deref(), Some("eve"));
    assert_eq!(users.get(1).await.as_deref(), Some("eve"));
    assert_eq!(users.reads(), 1);
    assert_eq!(fx.counts().since(before), Counts::calls(1, 0, 1));
}

/// Two instances on two caches, and one writer outside both: each target is invalidated in its
/// own instance's cache, and only there.
pub(crate) async fn targets_on_two_caches(fx: &Fixture) {
    let first = Users::new(fx.cache.clone());
    let second = Users::new(fx.another(|builder| builder.prefix("second")).await);
    assert_eq!(first.get(1).await.as_deref(), Some("ada"));
    assert_eq!(second.get(1).await.as_deref(), Some("ada"));
    assert_eq!(second.get(2).await.as_deref(), Some("bob"));
    first.db.lock().unwrap().insert(1, "eve".into());
    second.db.lock().unwrap().insert(1, "fay".into());
    second.db.lock().unwrap().insert(2, "gus".into());
    forget_both(&first, &second, 1).await;
    assert_eq!(first.get(1).await.as_deref(), Some("eve"));
    assert_eq!(second.get(1).await.as_deref(), Some("fay"));
    // Not a target: still cached in the second cache.
    assert_eq!(second.get(2).await.as_deref(), Some("bob"));
    assert_eq!((first.reads(), second.reads()), (2, 3));
}

#[cache_invalidate(Users::get(first, id), Users::get(second, id))]
async fn forget_both(first: &Users, second: &Users, id: u64) {}
