//! How `#[cached]` arguments become keys: order-independent maps and sets, canonical floats,
//! unambiguous string boundaries, and [`key_for`] computing the exact key the macro uses.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cached, key_for, Cache};
use serde::Serialize;

use crate::fixture::{Counts, Fixture};

fn runs(calls: &AtomicUsize) -> usize {
    calls.load(SeqCst)
}

#[cached(namespace = "keys.map", cache = cache, skip(cache, calls))]
async fn by_map(filter: HashMap<String, u32>, cache: &Cache, calls: &AtomicUsize) -> u32 {
    calls.fetch_add(1, SeqCst);
    filter.values().sum()
}

#[cached(namespace = "keys.set", cache = cache, skip(cache, calls))]
async fn by_set(ids: HashSet<u64>, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    ids.iter().sum()
}

/// `HashMap` and `HashSet` arguments with the same contents, inserted in different orders
/// (and so iterated in different orders), hit the same entry; other contents miss.
pub async fn maps_and_sets_ignore_order(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    let forward: HashMap<String, u32> = (0..64).map(|i| (format!("k{i}"), i)).collect();
    let mut backward = HashMap::with_capacity(1024);
    for i in (0..64).rev() {
        backward.insert(format!("k{i}"), i);
    }
    let order = |m: &HashMap<String, u32>| m.keys().cloned().collect::<Vec<_>>();
    // Not a precondition of the cache, but what makes this test mean something.
    assert_ne!(order(&forward), order(&backward), "both maps iterate alike");

    let before = fx.counts();
    assert_eq!(by_map(forward.clone(), c, &calls).await, 2016);
    assert_eq!(by_map(backward, c, &calls).await, 2016);
    let mut changed = forward.clone();
    changed.insert("k0".into(), 1);
    assert_eq!(by_map(changed, c, &calls).await, 2017);
    assert_eq!(runs(&calls), 2);
    assert_eq!(fx.counts().since(before), Counts::calls(1, 2, 2));
    fx.assert_stored(
        key_for::<u32>("keys.map", 1, &(&forward,))
            .unwrap()
            .as_str(),
    )
    .await;

    let a: HashSet<u64> = (0..100).collect();
    let mut b = HashSet::with_capacity(4096);
    b.extend((0..100).rev());
    assert_eq!(by_set(a.clone(), c, &calls).await, 4950);
    assert_eq!(by_set(b, c, &calls).await, 4950);
    assert_eq!(by_set((1..100).collect(), c, &calls).await, 4950);
    assert_eq!(runs(&calls), 4);
    fx.assert_stored(key_for::<u64>("keys.set", 1, &(&a,)).unwrap().as_str())
        .await;
}

#[cached(namespace = "keys.float", cache = cache, skip(cache, calls))]
async fn by_float(x: f64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("{x}")
}

/// `-0.0` and `0.0` hit the same entry (so do NaNs); other values do not.
pub async fn floats_are_canonical(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(by_float(0.0, c, &calls).await, "0");
    assert_eq!(by_float(-0.0, c, &calls).await, "0");
    assert_eq!(runs(&calls), 1);
    assert_eq!(by_float(f64::NAN, c, &calls).await, "NaN");
    assert_eq!(by_float(-f64::NAN, c, &calls).await, "NaN");
    assert_eq!(runs(&calls), 2);
    assert_eq!(by_float(1.5, c, &calls).await, "1.5");
    assert_eq!(runs(&calls), 3);
    assert_eq!(
        key_for::<String>("keys.float", 1, &(-0.0f64,)).unwrap(),
        key_for::<String>("keys.float", 1, &(0.0f64,)).unwrap()
    );
}

#[cached(namespace = "keys.pair", cache = cache, skip(cache, calls))]
async fn by_pair(a: &str, b: &str, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("{a}|{b}")
}

#[derive(Serialize)]
struct Query<'a> {
    words: Vec<&'a str>,
}

#[cached(namespace = "keys.words", cache = cache, skip(cache, calls))]
async fn by_words(query: Query<'_>, tail: &str, cache: &Cache, calls: &AtomicUsize) -> usize {
    calls.fetch_add(1, SeqCst);
    query.words.len() + tail.len()
}

/// Strings and sequences are delimited: `("ab", "c")` and `("a", "bc")` are different
/// entries, and so are `(["a", "b"], "")` and `(["a"], "b")`.
pub async fn argument_boundaries_are_kept(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(by_pair("ab", "c", c, &calls).await, "ab|c");
    assert_eq!(by_pair("a", "bc", c, &calls).await, "a|bc");
    assert_eq!(by_pair("", "abc", c, &calls).await, "|abc");
    assert_eq!(by_pair("abc", "", c, &calls).await, "abc|");
    assert_eq!(runs(&calls), 4);
    assert_eq!(by_pair("ab", "c", c, &calls).await, "ab|c");
    assert_eq!(runs(&calls), 4);

    let q = |words: &[&'static str]| Query {
        words: words.to_vec(),
    };
    assert_eq!(by_words(q(&["a", "b"]), "", c, &calls).await, 2);
    assert_eq!(by_words(q(&["a"]), "b", c, &calls).await, 2);
    assert_eq!(by_words(q(&["a", "b"]), "", c, &calls).await, 2);
    assert_eq!(runs(&calls), 6);
}

#[cached(namespace = "keys.exact", version = 4, cache = cache, skip(cache, calls))]
async fn exact(
    user: u64,
    lang: String,
    page: Option<u32>,
    cache: &Cache,
    calls: &AtomicUsize,
) -> Vec<String> {
    calls.fetch_add(1, SeqCst);
    vec![format!("{user}/{lang}/{page:?}")]
}

#[cached(namespace = "keys.none", cache = cache, skip(cache))]
async fn no_arguments(cache: &Cache) -> u8 {
    42
}

/// `key_for::<V>(namespace, version, &(args,))` is the exact key `#[cached]` wrote (the
/// only key it wrote, on Redis as the raw key `{prefix}:{key}`), and a manual `delete` of it
/// makes the next call a miss.
pub async fn key_for_matches_cached(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(
        exact(9, "en".into(), Some(2), c, &calls).await,
        ["9/en/Some(2)"]
    );
    let key = key_for::<Vec<String>>("keys.exact", 4, &(9u64, "en", Some(2u32))).unwrap();
    fx.assert_stored(key.as_str()).await;
    let near_misses = [
        key_for::<Vec<String>>("keys.exact", 4, &(9u64, "en", 2u32)).unwrap(),
        key_for::<Vec<String>>("keys.exact", 3, &(9u64, "en", Some(2u32))).unwrap(),
        key_for::<Vec<String>>("keys.exact", 4, &(9u64, "en")).unwrap(),
        key_for::<Vec<&'static str>>("keys.exact", 4, &(9u64, "en", Some(2u32))).unwrap(),
        key_for::<String>("keys.exact", 4, &(9u64, "en", Some(2u32))).unwrap(),
    ];
    for other in &near_misses {
        assert_ne!(other, &key);
        fx.assert_not_stored(other.as_str()).await;
    }
    if fx.on_redis() {
        assert_eq!(fx.stored_keys().await, [key.as_str()]);
    }
    assert_eq!(
        c.get::<Vec<String>>(&key).await.unwrap(),
        Some(vec!["9/en/Some(2)".to_owned()])
    );
    assert!(c.delete(&key).await.unwrap());
    let before = fx.counts();
    exact(9, "en".into(), Some(2), c, &calls).await;
    assert_eq!(runs(&calls), 2);
    assert_eq!(fx.counts().since(before), Counts::calls(0, 1, 1));

    assert_eq!(no_arguments(c).await, 42);
    fx.assert_stored(key_for::<u8>("keys.none", 1, &()).unwrap().as_str())
        .await;
}

/// An argument whose `Serialize` fails on purpose.
struct Unhashable;

impl Serialize for Unhashable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "this argument refuses to be serialized",
        ))
    }
}

#[cached(namespace = "keys.unhashable", cache = cache, skip(cache, calls))]
async fn with_unhashable(id: u64, _arg: Unhashable, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id
}

/// An argument that cannot be serialized for the key: the body runs every call (nothing is
/// read or stored) and each call counts one error; `key_for` reports a codec error.
pub async fn unserializable_argument_fails_open(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(with_unhashable(5, Unhashable, c, &calls).await, 5);
    assert_eq!(with_unhashable(5, Unhashable, c, &calls).await, 5);
    assert_eq!(runs(&calls), 2);
    assert_eq!(
        fx.counts(),
        Counts {
            errors: 2,
            ..Counts::default()
        }
    );
    let err = key_for::<u64>("keys.unhashable", 1, &(5u64, Unhashable)).unwrap_err();
    assert!(matches!(err, cache_runtime::Error::Codec(_)), "{err:?}");
    assert!(err.to_string().contains("refuses"), "{err}");
}
