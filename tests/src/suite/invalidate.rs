//! `#[cache_invalidate]` and `#[cache_put]` in every form, with exact hit/miss counts before
//! and after each invalidation.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cache_invalidate, cache_put, cached, Cache};
use serde::{Deserialize, Serialize};

use crate::fixture::{Counts, Fixture};

fn runs(calls: &AtomicUsize) -> usize {
    calls.load(SeqCst)
}

#[cached(namespace = "inv.user", cache = cache, skip(calls))]
async fn user(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("user {id}")
}

#[cache_invalidate(user(id), cache = cache)]
async fn touch_user(id: u64, cache: &Cache, fail: bool) -> Result<(), String> {
    if fail {
        Err("write failed".into())
    } else {
        Ok(())
    }
}

/// The exact entry is dropped after a successful write, and only that entry; a failed write
/// (`Err`) invalidates nothing.
pub async fn exact_entry_after_success(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    user(1, c, &calls).await;
    user(2, c, &calls).await;
    let before = fx.counts();
    assert_eq!(touch_user(1, c, true).await, Err("write failed".into()));
    user(1, c, &calls).await;
    assert_eq!(
        fx.counts().since(before),
        Counts::reads(1, 0),
        "Err must not invalidate"
    );
    touch_user(1, c, false).await.unwrap();
    let before = fx.counts();
    user(1, c, &calls).await;
    user(2, c, &calls).await;
    assert_eq!(fx.counts().since(before), Counts::calls(1, 1, 1));
    assert_eq!(runs(&calls), 3);
}

#[cached(namespace = "inv.custom", cache = cache, key = id, version = 3)]
async fn localized(id: u64, lang: String, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("{id} in {lang}")
}

#[cache_invalidate(localized(id), cache = cache)]
async fn touch_localized(id: u64, cache: &Cache) {}

/// A target with a custom `key`, a `version` and skipped parameters takes exactly the key's
/// arguments and hits the entry the cached fn wrote.
pub async fn custom_key_version_and_skip(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    localized(5, "en".into(), c, &calls).await;
    localized(5, "fr".into(), c, &calls).await; // same key: `lang` is not in it
    assert_eq!(runs(&calls), 1);
    touch_localized(5, c).await;
    let before = fx.counts();
    localized(5, "de".into(), c, &calls).await;
    assert_eq!(fx.counts().since(before), Counts::calls(0, 1, 1));
    assert_eq!(runs(&calls), 2);
}

/// A team member, formatted into tags by field.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Member {
    id: u64,
    org_id: u64,
}

#[cached(namespace = "inv.role", cache = cache, skip(calls), tags = ["org:{member.org_id}", "member:{member.id}"])]
async fn role(member: Member, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("role of {} in {}", member.id, member.org_id)
}

#[cache_invalidate(tags = ["org:{org_id}"], cache = cache)]
async fn reorganize(org_id: u64, cache: &Cache) -> Result<u64, String> {
    Ok(org_id)
}

/// Tags formatted from struct fields: invalidating one org drops its members' entries only.
pub async fn tags_from_struct_fields(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    for (id, org_id) in [(1, 10), (2, 10), (3, 20)] {
        role(Member { id, org_id }, c, &calls).await;
    }
    assert_eq!(reorganize(10, c).await, Ok(10));
    let before = fx.counts();
    for (id, org_id) in [(1, 10), (2, 10), (3, 20)] {
        role(Member { id, org_id }, c, &calls).await;
    }
    assert_eq!(fx.counts().since(before), Counts::calls(1, 2, 2));
    assert_eq!(c.invalidate_tag("member:3").await.unwrap(), 1);
    assert_eq!(runs(&calls), 5);
}

#[cache_invalidate(all(user), cache = cache)]
async fn touch_all_users(cache: &Cache) {}

#[cache_invalidate(namespace = "inv.user", pattern = "inv.custom:*", cache = cache)]
async fn touch_namespace_and_pattern(cache: &Cache) {}

/// `all(f)` drops every entry of one cached fn; `namespace` and `pattern` drop theirs.
pub async fn all_namespace_and_pattern(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    user(1, c, &calls).await;
    user(2, c, &calls).await;
    touch_all_users(c).await;
    let before = fx.counts();
    user(1, c, &calls).await;
    user(2, c, &calls).await;
    assert_eq!(fx.counts().since(before), Counts::calls(0, 2, 2));

    let other = AtomicUsize::new(0);
    localized(9, "en".into(), c, &other).await;
    touch_namespace_and_pattern(c).await;
    let before = fx.counts();
    user(1, c, &calls).await;
    localized(9, "en".into(), c, &other).await;
    assert_eq!(fx.counts().since(before), Counts::calls(0, 2, 2));
    assert_eq!((runs(&calls), runs(&other)), (5, 2));
}

/// A service whose cache lives in the struct; `pub` methods have key fns.
pub struct Users {
    cache: Cache,
    calls: AtomicUsize,
}

impl Users {
    /// The cached read.
    #[cached(namespace = "inv.method", cache = self.cache)]
    pub async fn name(&self, id: u64) -> String {
        self.calls.fetch_add(1, SeqCst);
        format!("name {id}")
    }

    /// A write invalidating before and after its body.
    #[cache_invalidate(Self::name(self, id), cache = self.cache, before = true)]
    pub async fn rename(&self, id: u64) -> Result<(), String> {
        // `before = true` dropped the entry already: a read here misses and re-caches...
        let _ = self.name(id).await;
        Ok(())
        // ...and the invalidation after the body drops that copy too.
    }

    /// A write storing its result as the new cached read.
    #[cache_put(Self::name(self, id), cache = self.cache)]
    pub async fn set_name(&self, id: u64, name: &str) -> String {
        name.to_owned()
    }
}

/// Methods as targets, `before = true` plus the usual invalidation after, and `#[cache_put]`
/// writing the returned value so the next read is a hit with it.
pub async fn methods_before_and_put(fx: &Fixture) {
    let users = Users {
        cache: fx.cache.clone(),
        calls: AtomicUsize::new(0),
    };
    assert_eq!(users.name(1).await, "name 1");
    users.rename(1).await.unwrap();
    assert_eq!(
        users.calls.load(SeqCst),
        2,
        "the read inside the write missed"
    );
    let before = fx.counts();
    assert_eq!(users.name(1).await, "name 1");
    assert_eq!(
        fx.counts().since(before),
        Counts::calls(0, 1, 1),
        "after: dropped again"
    );

    assert_eq!(users.set_name(1, "Ada").await, "Ada");
    let before = fx.counts();
    assert_eq!(users.name(1).await, "Ada");
    assert_eq!(fx.counts().since(before), Counts::reads(1, 0));
    assert_eq!(users.calls.load(SeqCst), 3);
}

#[cache_put(user(id), cache = cache)]
async fn rename_and_return(id: u64, cache: &Cache, fail: bool) -> Result<String, String> {
    if fail {
        Err("no".into())
    } else {
        Ok(format!("renamed {id}"))
    }
}

/// `#[cache_put]` on a `Result` fn stores the `Ok` value and leaves the entry alone on `Err`.
pub async fn put_stores_only_ok(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(user(4, c, &calls).await, "user 4");
    assert!(rename_and_return(4, c, true).await.is_err());
    assert_eq!(user(4, c, &calls).await, "user 4");
    assert_eq!(rename_and_return(4, c, false).await.unwrap(), "renamed 4");
    assert_eq!(user(4, c, &calls).await, "renamed 4");
    assert_eq!(runs(&calls), 1);
}
