//! Every `#[cached]` argument, against the fixture's cache given with `cache = cache`.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use cache_runtime::{cached, key_for, Cache};

use crate::fixture::{Counts, Fixture};

/// How many times a body ran.
fn runs(calls: &AtomicUsize) -> usize {
    calls.load(SeqCst)
}

#[cached(ttl = 120, namespace = "attr.ttl_int", cache = cache, skip(cache, calls))]
async fn ttl_int(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id * 2
}

#[cached(ttl = "300ms", namespace = "attr.ttl_str", cache = cache, skip(cache, calls))]
async fn ttl_str(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id + 1
}

#[cached(namespace = "attr.default_ttl", cache = cache, skip(cache, calls))]
async fn default_ttl(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id
}

/// `ttl = 120` (seconds) and `ttl = "300ms"` set the entry's TTL; without `ttl` the cache's
/// default applies; a 300 ms entry is gone (the body runs again) after it expires.
pub async fn ttl_argument(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(ttl_int(1, c, &calls).await, 2);
    let key = key_for::<u64>("attr.ttl_int", 1, &(1u64,)).unwrap();
    let ttl = c.ttl(&key).await.unwrap().unwrap();
    assert!(
        ttl > Duration::from_secs(110) && ttl <= Duration::from_secs(120),
        "{ttl:?}"
    );

    assert_eq!(default_ttl(1, c, &calls).await, 1);
    let key = key_for::<u64>("attr.default_ttl", 1, &(1u64,)).unwrap();
    let ttl = c.ttl(&key).await.unwrap().unwrap();
    assert!(
        // The default 5 % TTL jitter may shorten it to 285 s.
        ttl > Duration::from_secs(280) && ttl <= Duration::from_secs(300),
        "{ttl:?}"
    );

    let before = fx.counts();
    assert_eq!(ttl_str(5, c, &calls).await, 6);
    assert_eq!(ttl_str(5, c, &calls).await, 6);
    assert_eq!(runs(&calls), 3);
    let key = key_for::<u64>("attr.ttl_str", 1, &(5u64,)).unwrap();
    let ttl = c.ttl(&key).await.unwrap().unwrap();
    assert!(ttl <= Duration::from_millis(300), "{ttl:?}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    fx.assert_not_stored(key.as_str()).await;
    assert_eq!(ttl_str(5, c, &calls).await, 6);
    assert_eq!(runs(&calls), 4);
    assert_eq!(fx.counts().since(before), Counts::calls(1, 2, 2));
}

#[cached(namespace = "attr.ns", cache = cache, skip(cache, calls))]
async fn in_namespace(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("ns {id}")
}

#[cached(namespace = "attr.ns.other", cache = cache, skip(cache, calls))]
async fn in_other_namespace(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("other {id}")
}

/// Entries land in `namespace`: clearing it makes the next call a miss, and clears nothing
/// of another namespace.
pub async fn namespace_argument(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(in_namespace(1, c, &calls).await, "ns 1");
    assert_eq!(in_namespace(2, c, &calls).await, "ns 2");
    assert_eq!(in_other_namespace(1, c, &calls).await, "other 1");
    fx.assert_stored(key_for::<String>("attr.ns", 1, &(1u64,)).unwrap().as_str())
        .await;
    assert_eq!(c.clear_namespace("attr.ns").await.unwrap(), 2);
    let before = (fx.counts(), runs(&calls));
    assert_eq!(in_namespace(1, c, &calls).await, "ns 1");
    assert_eq!(in_other_namespace(1, c, &calls).await, "other 1");
    assert_eq!(fx.counts().since(before.0), Counts::calls(1, 1, 1));
    assert_eq!(runs(&calls) - before.1, 1);
}

#[cached(cache = cache, skip(cache))]
async fn default_namespace(id: u64, cache: &Cache) -> u64 {
    id
}

/// Without `namespace`, the namespace is the fn's path (`module_path!()::name`).
pub async fn default_namespace_is_fn_path(fx: &Fixture) {
    let c = &fx.cache;
    assert_eq!(default_namespace(3, c).await, 3);
    let ns = concat!(module_path!(), "::default_namespace");
    fx.assert_stored(key_for::<u64>(ns, 1, &(3u64,)).unwrap().as_str())
        .await;
    assert_eq!(c.clear_namespace(ns).await.unwrap(), 1);
}

#[cached(namespace = "attr.key", key = id, cache = cache)]
async fn custom_key(id: u64, lang: &str, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("{id} in {lang}")
}

/// `key = expr` is the whole key: calls differing only outside it share one entry, stored
/// under the key of `(expr,)`.
pub async fn key_argument(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    let before = fx.counts();
    assert_eq!(custom_key(1, "en", c, &calls).await, "1 in en");
    assert_eq!(custom_key(1, "fr", c, &calls).await, "1 in en");
    assert_eq!(custom_key(2, "fr", c, &calls).await, "2 in fr");
    assert_eq!(runs(&calls), 2);
    assert_eq!(fx.counts().since(before), Counts::calls(1, 2, 2));
    fx.assert_stored(key_for::<String>("attr.key", 1, &(1u64,)).unwrap().as_str())
        .await;
}

#[cached(namespace = "attr.skip", cache = cache, skip(trace, cache, calls))]
async fn key_without_trace(id: u64, trace: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id * 1000 + trace
}

/// `skip(..)` leaves parameters out of the key: calls differing only in them share an entry.
pub async fn skip_argument(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(key_without_trace(1, 7, c, &calls).await, 1007);
    assert_eq!(key_without_trace(1, 8, c, &calls).await, 1007);
    assert_eq!(key_without_trace(2, 8, c, &calls).await, 2008);
    assert_eq!(runs(&calls), 2);
    fx.assert_stored(key_for::<u64>("attr.skip", 1, &(1u64,)).unwrap().as_str())
        .await;
    fx.assert_not_stored(
        key_for::<u64>("attr.skip", 1, &(1u64, 7u64))
            .unwrap()
            .as_str(),
    )
    .await;
}

#[cached(namespace = "attr.version", cache = cache, skip(cache, calls))]
async fn version_one(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("v1 {id}")
}

#[cached(namespace = "attr.version", version = 2, cache = cache, skip(cache, calls))]
async fn version_two(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("v2 {id}")
}

/// `version = 2` and the default version 1 of one namespace do not share entries.
pub async fn version_argument(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(version_one(1, c, &calls).await, "v1 1");
    assert_eq!(version_two(1, c, &calls).await, "v2 1");
    assert_eq!(version_one(1, c, &calls).await, "v1 1");
    assert_eq!(version_two(1, c, &calls).await, "v2 1");
    assert_eq!(runs(&calls), 2);
    for version in [1, 2] {
        let key = key_for::<String>("attr.version", version, &(1u64,)).unwrap();
        fx.assert_stored(key.as_str()).await;
    }
    // Clearing the namespace clears every version.
    assert_eq!(c.clear_namespace("attr.version").await.unwrap(), 2);
}

#[cached(namespace = "attr.none", cache_none = true, cache = cache, skip(cache, calls))]
async fn find_caching_none(id: u64, cache: &Cache, calls: &AtomicUsize) -> Option<u64> {
    calls.fetch_add(1, SeqCst);
    id.is_multiple_of(2).then_some(id)
}

#[cached(namespace = "attr.no_none", cache = cache, skip(cache, calls))]
async fn find(id: u64, cache: &Cache, calls: &AtomicUsize) -> Option<u64> {
    calls.fetch_add(1, SeqCst);
    id.is_multiple_of(2).then_some(id)
}

#[cached(namespace = "attr.none_false", cache_none = false, cache = cache, skip(cache, calls))]
async fn find_none_false(id: u64, cache: &Cache, calls: &AtomicUsize) -> Option<u64> {
    calls.fetch_add(1, SeqCst);
    id.is_multiple_of(2).then_some(id)
}

/// `cache_none = true` caches `None`; without it (or with `false`) `None` is not stored and
/// the body runs again, while `Some` is cached either way.
pub async fn cache_none_argument(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    let before = fx.counts();
    assert_eq!(find_caching_none(1, c, &calls).await, None);
    assert_eq!(find_caching_none(1, c, &calls).await, None);
    assert_eq!(find_caching_none(2, c, &calls).await, Some(2));
    assert_eq!(find_caching_none(2, c, &calls).await, Some(2));
    assert_eq!(runs(&calls), 2);
    assert_eq!(fx.counts().since(before), Counts::calls(2, 2, 2));
    fx.assert_stored(
        key_for::<Option<u64>>("attr.none", 1, &(1u64,))
            .unwrap()
            .as_str(),
    )
    .await;

    let before = (fx.counts(), runs(&calls));
    assert_eq!(find(1, c, &calls).await, None);
    assert_eq!(find(1, c, &calls).await, None);
    assert_eq!(find(2, c, &calls).await, Some(2));
    assert_eq!(find(2, c, &calls).await, Some(2));
    assert_eq!(find_none_false(1, c, &calls).await, None);
    assert_eq!(find_none_false(1, c, &calls).await, None);
    assert_eq!(runs(&calls) - before.1, 5);
    assert_eq!(fx.counts().since(before.0), Counts::calls(1, 5, 1));
    fx.assert_not_stored(
        key_for::<u64>("attr.no_none", 1, &(1u64,))
            .unwrap()
            .as_str(),
    )
    .await;
    fx.assert_stored(
        key_for::<u64>("attr.no_none", 1, &(2u64,))
            .unwrap()
            .as_str(),
    )
    .await;
}

mod renamed {
    pub(super) use cache_runtime as rt;
}

#[renamed::rt::cached(crate = renamed::rt, namespace = "attr.crate", cache = cache, skip(cache, calls))]
async fn through_renamed_crate(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id + 100
}

/// `crate = path` makes the generated code use the runtime at that path.
pub async fn crate_argument(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(through_renamed_crate(1, c, &calls).await, 101);
    assert_eq!(through_renamed_crate(1, c, &calls).await, 101);
    assert_eq!(runs(&calls), 1);
    fx.assert_stored(key_for::<u64>("attr.crate", 1, &(1u64,)).unwrap().as_str())
        .await;
}

#[cached(namespace = "attr.jitter", ttl = 100, ttl_jitter = 0.5, cache = cache)]
async fn jittered(id: u64, cache: &Cache) -> u64 {
    id
}

#[cached(namespace = "attr.no_jitter", ttl = 100, ttl_jitter = 0.0, cache = cache)]
async fn unjittered(id: u64, cache: &Cache) -> u64 {
    id
}

/// `ttl_jitter = 0.5` spreads 50 entries' TTLs over 50..100 s (never above the TTL);
/// `ttl_jitter = 0.0` keeps every TTL exact.
pub async fn ttl_jitter_argument(fx: &Fixture) {
    let c = &fx.cache;
    let mut ttls = Vec::new();
    for id in 0..50u64 {
        jittered(id, c).await;
        unjittered(id, c).await;
        let key = key_for::<u64>("attr.jitter", 1, &(id,)).unwrap();
        ttls.push(c.ttl(&key).await.unwrap().unwrap());
        let exact = key_for::<u64>("attr.no_jitter", 1, &(id,)).unwrap();
        let ttl = c.ttl(&exact).await.unwrap().unwrap();
        assert!(ttl > Duration::from_secs(99), "{ttl:?}");
    }
    let (min, max) = (ttls.iter().min().unwrap(), ttls.iter().max().unwrap());
    assert!(*max <= Duration::from_secs(100), "{max:?}");
    assert!(*min >= Duration::from_millis(49_000), "{min:?}");
    assert!(*min < Duration::from_secs(80), "not spread: min {min:?}");
    assert!(
        *max - *min > Duration::from_secs(10),
        "not spread: {min:?}..{max:?}"
    );
}
