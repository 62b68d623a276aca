//! `#[cached]` return shapes (plain, `Result`, `Option`), methods, generic fns, and
//! parameter names that could clash with generated code.

use std::fmt::Display;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cached, key_for, Cache, CacheValue};
use serde::{Deserialize, Serialize};

use crate::fixture::{Counts, Fixture};

fn runs(calls: &AtomicUsize) -> usize {
    calls.load(SeqCst)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    id: u64,
    emails: Vec<String>,
    score: Option<f32>,
}

#[cached(namespace = "shape.plain", cache = cache, skip(cache, calls))]
async fn plain(id: u64, cache: &Cache, calls: &AtomicUsize) -> Profile {
    calls.fetch_add(1, SeqCst);
    Profile {
        id,
        emails: vec![format!("{id}@example.com")],
        score: Some(0.5),
    }
}

/// A plain return value is cached: the second call is a hit and the body runs once.
pub async fn plain_value_cached(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    let before = fx.counts();
    let first = plain(4, c, &calls).await;
    assert_eq!(plain(4, c, &calls).await, first);
    assert_eq!(first.emails, ["4@example.com"]);
    assert_eq!(runs(&calls), 1);
    assert_eq!(fx.counts().since(before), Counts::calls(1, 1, 1));
    let key = key_for::<Profile>("shape.plain", 1, &(4u64,)).unwrap();
    fx.assert_stored(key.as_str()).await;
    assert_eq!(c.get::<Profile>(&key).await.unwrap(), Some(first));
}

#[derive(Debug, Clone, PartialEq)]
struct NotFound(u64);

#[cached(namespace = "shape.result", cache = cache, skip(cache, calls))]
async fn fallible(id: u64, cache: &Cache, calls: &AtomicUsize) -> Result<String, NotFound> {
    calls.fetch_add(1, SeqCst);
    if id == 0 {
        Err(NotFound(id))
    } else {
        Ok(format!("found {id}"))
    }
}

#[cached(namespace = "shape.io_result", cache = cache, skip(cache, calls))]
async fn io_fallible(id: u64, cache: &Cache, calls: &AtomicUsize) -> std::io::Result<u64> {
    calls.fetch_add(1, SeqCst);
    if id == 0 {
        Err(std::io::Error::other("zero"))
    } else {
        Ok(id)
    }
}

/// `Result`: `Ok` is cached (as the `Ok` type); `Err` is returned, not cached, and the body
/// runs again. A `Result` alias (`io::Result`) behaves the same.
pub async fn result_caches_only_ok(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    let before = fx.counts();
    assert_eq!(fallible(0, c, &calls).await, Err(NotFound(0)));
    assert_eq!(fallible(0, c, &calls).await, Err(NotFound(0)));
    assert_eq!(runs(&calls), 2);
    assert_eq!(fallible(1, c, &calls).await, Ok("found 1".to_owned()));
    assert_eq!(fallible(1, c, &calls).await, Ok("found 1".to_owned()));
    assert_eq!(runs(&calls), 3);
    assert_eq!(fx.counts().since(before), Counts::calls(1, 3, 1));
    fx.assert_not_stored(
        key_for::<String>("shape.result", 1, &(0u64,))
            .unwrap()
            .as_str(),
    )
    .await;
    fx.assert_stored(
        key_for::<String>("shape.result", 1, &(1u64,))
            .unwrap()
            .as_str(),
    )
    .await;

    assert!(io_fallible(0, c, &calls).await.is_err());
    assert!(io_fallible(0, c, &calls).await.is_err());
    assert_eq!(io_fallible(9, c, &calls).await.unwrap(), 9);
    assert_eq!(io_fallible(9, c, &calls).await.unwrap(), 9);
    assert_eq!(runs(&calls), 6);
}

#[cached(namespace = "shape.option", cache = cache, skip(cache, calls))]
async fn maybe(id: u64, cache: &Cache, calls: &AtomicUsize) -> Option<Vec<u64>> {
    calls.fetch_add(1, SeqCst);
    (id > 0).then(|| vec![id; 3])
}

/// `Option`: `Some` is cached (as the inner type), `None` is not.
pub async fn option_caches_only_some(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(maybe(2, c, &calls).await, Some(vec![2, 2, 2]));
    assert_eq!(maybe(2, c, &calls).await, Some(vec![2, 2, 2]));
    assert_eq!(maybe(0, c, &calls).await, None);
    assert_eq!(maybe(0, c, &calls).await, None);
    assert_eq!(runs(&calls), 3);
    let key = key_for::<Vec<u64>>("shape.option", 1, &(2u64,)).unwrap();
    assert_eq!(c.get::<Vec<u64>>(&key).await.unwrap(), Some(vec![2, 2, 2]));
}

struct Repo {
    cache: Cache,
    calls: AtomicUsize,
    label: String,
}

impl Repo {
    #[cached(namespace = "shape.repo", cache = self.cache)]
    async fn load(&self, id: u64) -> String {
        self.calls.fetch_add(1, SeqCst);
        format!("{} {id}", self.label)
    }

    #[cached(namespace = "shape.repo.opt", cache = self.cache, ttl = "1m")]
    async fn find(&self, id: u64) -> Option<u64> {
        self.calls.fetch_add(1, SeqCst);
        (id != 0).then_some(id)
    }
}

/// An async method on `&self` with `cache = self.cache`: `self` is not in the key, so two
/// instances sharing a cache share entries.
pub async fn method_with_self_cache(fx: &Fixture) {
    let repo = Repo {
        cache: fx.cache.clone(),
        calls: AtomicUsize::new(0),
        label: "first".into(),
    };
    let before = fx.counts();
    assert_eq!(repo.load(1).await, "first 1");
    assert_eq!(repo.load(1).await, "first 1");
    assert_eq!(repo.find(0).await, None);
    assert_eq!(repo.find(3).await, Some(3));
    assert_eq!(repo.find(3).await, Some(3));
    assert_eq!(runs(&repo.calls), 3);
    assert_eq!(fx.counts().since(before), Counts::calls(2, 3, 2));

    let other = Repo {
        cache: fx.cache.clone(),
        calls: AtomicUsize::new(0),
        label: "second".into(),
    };
    assert_eq!(other.load(1).await, "first 1");
    assert_eq!(runs(&other.calls), 0);
    let key = key_for::<String>("shape.repo", 1, &(1u64,)).unwrap();
    fx.assert_stored(key.as_str()).await;
}

/// A value type the generic fn can build from an id.
trait FromId {
    fn from_id(id: u64) -> Self;
}

impl FromId for u64 {
    fn from_id(id: u64) -> Self {
        id
    }
}

impl FromId for String {
    fn from_id(id: u64) -> Self {
        format!("#{id}")
    }
}

#[cached(namespace = "shape.generic", cache = cache, skip(cache, calls))]
async fn load_as<T, L>(id: u64, label: L, cache: &Cache, calls: &AtomicUsize) -> T
where
    T: FromId + CacheValue,
    L: Display + Serialize + Send,
{
    calls.fetch_add(1, SeqCst);
    let _ = label.to_string();
    T::from_id(id)
}

/// A generic fn with a where clause: instantiations with different value types do not
/// collide (the value type is part of the key).
pub async fn generic_fn_instantiations_separate(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    let before = fx.counts();
    assert_eq!(load_as::<u64, _>(7, "x", c, &calls).await, 7);
    assert_eq!(load_as::<String, _>(7, "x", c, &calls).await, "#7");
    assert_eq!(load_as::<u64, _>(7, "x", c, &calls).await, 7);
    assert_eq!(load_as::<String, _>(7, "x", c, &calls).await, "#7");
    assert_eq!(load_as::<u64, _>(7, 5u8, c, &calls).await, 7);
    assert_eq!(runs(&calls), 3);
    assert_eq!(fx.counts().since(before), Counts::calls(2, 3, 3));
    assert_eq!(fx.counts().decode_errors, 0);
    for key in [
        key_for::<String>("shape.generic", 1, &(7u64, "x")).unwrap(),
        key_for::<u64>("shape.generic", 1, &(7u64, "x")).unwrap(),
        key_for::<u64>("shape.generic", 1, &(7u64, 5u8)).unwrap(),
    ] {
        fx.assert_stored(key.as_str()).await;
    }
}

#[cached(namespace = "shape.names", cache = cache, skip(cache, calls))]
async fn clashing_names(
    key: String,
    value: u32,
    result: bool,
    cache: &Cache,
    calls: &AtomicUsize,
) -> String {
    calls.fetch_add(1, SeqCst);
    format!("{key}={value}:{result}")
}

/// Parameters named `key`, `value` and `result` work and are all part of the key.
pub async fn parameters_named_like_internals(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    let k = || "k".to_owned();
    assert_eq!(clashing_names(k(), 1, true, c, &calls).await, "k=1:true");
    assert_eq!(clashing_names(k(), 1, true, c, &calls).await, "k=1:true");
    assert_eq!(clashing_names(k(), 2, true, c, &calls).await, "k=2:true");
    assert_eq!(clashing_names(k(), 2, false, c, &calls).await, "k=2:false");
    assert_eq!(runs(&calls), 3);
    let key = key_for::<String>("shape.names", 1, &("k", 1u32, true)).unwrap();
    fx.assert_stored(key.as_str()).await;
}
