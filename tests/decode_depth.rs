//! Forged deep values against a real `redis-server`: an entry of a recursive type nested
//! 300,000 generations deep is a miss (counted in `decode_errors`, the body's value
//! returned), never a stack overflow, on every read path: `#[cached]`, `get`, `get_many`, a
//! batch, L1's fallback to the bytes, an lz4 body that expands to the deep one, and the
//! session store. Legitimate recursive values up to the bound round-trip.
//!
//! Every test runs on a multi-thread runtime, so decoding happens on a tokio worker with its
//! default 2 MiB stack: without the bound, bincode recurses once per level and the process
//! aborts (`thread 'tokio-runtime-worker' has overflowed its stack`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cached, key_for, Cache, CacheBuilder, ComputeOptions, Error};
use cache_tests::fixture::{Counts, Fixture};
use serde::{Deserialize, Serialize, Serializer};

/// A recursive value type: each generation is 2 levels (the struct and its `Vec`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tree {
    kids: Vec<Tree>,
}

impl Tree {
    /// `generations` trees, each the only kid of the one above.
    fn chain(generations: usize) -> Tree {
        let mut tree = Tree { kids: Vec::new() };
        for _ in 1..generations {
            tree = Tree { kids: vec![tree] };
        }
        tree
    }
}

/// The bincode of `Tree::chain(300_000)`: a kid count of 1 per generation, then 0.
fn deep_body() -> Vec<u8> {
    let mut body = vec![1u8; 299_999];
    body.push(0);
    body
}

/// An envelope (format 1, no flags, created now) around a bincode body written by hand.
fn envelope(body: &[u8]) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut bytes = vec![0xCA, 1, 0, 0];
    bytes.extend_from_slice(&now.to_le_bytes());
    bytes.extend_from_slice(body);
    bytes
}

/// Bytes serialized as they are (a tuple: bincode writes no length), so the cache's own
/// encoder stores any bincode body, compressed as it would compress a real one.
struct Body(Vec<u8>);

impl Serialize for Body {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut tuple = s.serialize_tuple(self.0.len())?;
        for b in &self.0 {
            tuple.serialize_element(b)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(serde::de::Error::custom("only ever written"))
    }
}

impl Clone for Body {
    fn clone(&self) -> Self {
        Body(self.0.clone())
    }
}

async fn raw_set(fx: &Fixture, key: &str, bytes: &[u8]) {
    fx.raw_set(&fx.redis_key(key), bytes).await;
}

#[cached(namespace = "deep.tree", cache = cache, skip(runs))]
async fn tree(id: u64, cache: &Cache, runs: &AtomicUsize) -> Tree {
    runs.fetch_add(1, SeqCst);
    Tree::chain(id as usize)
}

#[cached(batch, namespace = "deep.tree", cache = cache)]
async fn trees(ids: Vec<u64>, cache: &Cache) -> HashMap<u64, Tree> {
    ids.iter()
        .map(|id| (*id, Tree::chain(*id as usize)))
        .collect()
}

/// `#[cached]`: the forged entry is a miss, counted once, replaced by the body's value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_fn_treats_a_forged_deep_entry_as_a_miss() {
    let fx = Fixture::redis().await;
    let key = key_for::<Tree>("deep.tree", 1, &(3u64,)).unwrap();
    raw_set(&fx, key.as_str(), &envelope(&deep_body())).await;
    let runs = AtomicUsize::new(0);
    assert_eq!(tree(3, &fx.cache, &runs).await, Tree::chain(3));
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(
        fx.counts(),
        Counts {
            misses: 1,
            writes: 1,
            decode_errors: 1,
            ..Counts::default()
        }
    );
    // The body's value replaced the forged entry: the next call is a hit.
    assert_eq!(tree(3, &fx.cache, &runs).await, Tree::chain(3));
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(fx.counts().hits, 1);
}

/// `get` and `get_many`: misses, counted, the forged entries deleted, the good one read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_reads_treat_forged_deep_entries_as_misses() {
    let fx = Fixture::redis().await;
    raw_set(&fx, "deep:1", &envelope(&deep_body())).await;
    raw_set(&fx, "deep:2", &envelope(&deep_body())).await;
    fx.cache.set("deep:3", &Tree::chain(5), None).await.unwrap();
    assert_eq!(fx.cache.get::<Tree>("deep:1").await.unwrap(), None);
    assert_eq!(
        fx.cache
            .get_many::<Tree, _>(&["deep:2", "deep:3"])
            .await
            .unwrap(),
        vec![None, Some(Tree::chain(5))]
    );
    assert_eq!(
        fx.counts(),
        Counts {
            hits: 1,
            misses: 2,
            writes: 1,
            decode_errors: 2,
            ..Counts::default()
        }
    );
    fx.assert_not_stored("deep:1").await;
    fx.assert_not_stored("deep:2").await;
}

/// A batch: the forged item is computed by the body with the missing ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_treats_a_forged_deep_item_as_a_miss() {
    let fx = Fixture::redis().await;
    tree(2, &fx.cache, &AtomicUsize::new(0)).await;
    let forged = key_for::<Tree>("deep.tree", 1, &(4u64,)).unwrap();
    raw_set(&fx, forged.as_str(), &envelope(&deep_body())).await;
    let got = trees(vec![2, 4, 6], &fx.cache).await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[&4], Tree::chain(4));
    assert_eq!(fx.counts().decode_errors, 1);
    assert_eq!(
        fx.cache.get::<Tree>(forged.as_str()).await.unwrap(),
        Some(Tree::chain(4))
    );
}

/// lz4: 300,000 bytes of forged body stored as a compressed entry of about a kilobyte (the
/// cache's own encoder compresses it), which a read expands and refuses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_entry_expanding_to_a_deep_value_is_a_miss() {
    let fx = Fixture::redis().await;
    fx.cache.set("zip", &Body(deep_body()), None).await.unwrap();
    let stored = fx.raw_get(&fx.redis_key("zip")).await.unwrap();
    assert_eq!(stored[2], 0x01, "stored compressed");
    assert!(stored.len() < 2_000, "{} bytes", stored.len());
    assert_eq!(fx.cache.get::<Tree>("zip").await.unwrap(), None);
    assert_eq!(fx.counts().decode_errors, 1);
    fx.assert_not_stored("zip").await;
}

/// L1 keeps the bytes of what it holds as a fallback for reads of another type: a
/// `Vec<u8>` of 300,000 bytes whose bytes, read as a `Tree`, are a root with 300,000 kids
/// of which the first is 299,999 generations deep. Both L1 and Redis refuse it; the body
/// runs once and its value is returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_bytes_fallback_refuses_a_deep_value() {
    let fx = Fixture::tiered().await;
    let mut body = vec![252u8];
    body.extend_from_slice(&300_000u32.to_le_bytes());
    body.extend_from_slice(&deep_body());
    raw_set(&fx, "both", &envelope(&body)).await;
    let options = ComputeOptions::new();
    // Read until served from L1 as a `Vec<u8>`, with its bytes (with tracking, a Redis hit
    // that overlaps the invalidation of the write above is not copied into L1).
    let bytes: Vec<u8> = cache_tests::suite::tier::in_l1(&fx.cache, || {
        fx.cache
            .get_or_compute("both", &options, || async { unreachable!("a Redis hit") })
    })
    .await;
    assert_eq!(bytes.len(), 300_000);
    let before = fx.cache.stats();
    let ran = AtomicUsize::new(0);
    let got: Tree = fx
        .cache
        .get_or_compute("both", &options, || async {
            ran.fetch_add(1, SeqCst);
            Tree::chain(2)
        })
        .await;
    assert_eq!(got, Tree::chain(2));
    assert_eq!(ran.load(SeqCst), 1);
    let stats = fx.cache.stats();
    assert_eq!(
        (
            stats.decode_errors - before.decode_errors,
            stats.l1_hits - before.l1_hits
        ),
        (2, 0)
    );
    assert_eq!(
        fx.cache.get::<Tree>("both").await.unwrap(),
        Some(Tree::chain(2))
    );
}

/// The session store: a record whose data nests 300,000 arrays deep is no session (serde_json
/// refuses it at its own limit of 128), deleted, never an overflow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_forged_deep_record_is_no_session() {
    use tower_sessions::session::Id;
    use tower_sessions::session_store::SessionStore;
    let fx = Fixture::redis().await;
    let store = cache_runtime::sessions::CacheSessionStore::new(fx.cache.clone());
    let id = Id::default();
    let deep = format!("{}{}", "[".repeat(300_000), "]".repeat(300_000));
    let json =
        format!(r#"{{"id":"{id}","data":{{"x":{deep}}},"expiry_date":[2099,1,0,0,0,0,0,0,0]}}"#);
    fx.cache.set(store.key(&id), &json, None).await.unwrap();
    assert_eq!(store.load(&id).await.unwrap(), None);
    fx.assert_not_stored(&store.key(&id)).await;
}

/// Legitimate recursive values: 64 generations (128 levels) round-trip with the default
/// bound, 65 do not; `max_depth(200)` reads 100 generations, and `CACHE_MAX_DEPTH` sets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legitimate_values_up_to_the_bound_round_trip() {
    let fx = Fixture::redis().await;
    let runs = AtomicUsize::new(0);
    assert_eq!(tree(64, &fx.cache, &runs).await, Tree::chain(64));
    assert_eq!(tree(64, &fx.cache, &runs).await, Tree::chain(64));
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!((fx.counts().hits, fx.counts().decode_errors), (1, 0));
    fx.cache.set("g65", &Tree::chain(65), None).await.unwrap();
    assert_eq!(fx.cache.get::<Tree>("g65").await.unwrap(), None);
    assert_eq!(fx.counts().decode_errors, 1);

    let deeper = fx.another(|b| b.max_depth(200)).await;
    deeper.set("g100", &Tree::chain(100), None).await.unwrap();
    assert_eq!(
        deeper.get::<Tree>("g100").await.unwrap(),
        Some(Tree::chain(100))
    );
    deeper.set("g101", &Tree::chain(101), None).await.unwrap();
    assert_eq!(deeper.get::<Tree>("g101").await.unwrap(), None);

    let from_env = |value: &str| {
        let value = value.to_owned();
        CacheBuilder::from_lookup(move |name| (name == "CACHE_MAX_DEPTH").then(|| value.clone()))
    };
    assert!(format!("{:?}", from_env("200").unwrap()).contains("max_depth: 200"));
    for bad in ["0", "-1", "deep"] {
        match from_env(bad) {
            Err(e @ Error::Config(_)) => assert_eq!(
                e.to_string(),
                format!(
                    "invalid cache configuration: CACHE_MAX_DEPTH={bad:?} is not valid; \
                     expected a whole number of levels, at least 1 (e.g. 128)"
                )
            ),
            other => panic!("CACHE_MAX_DEPTH={bad} must be refused, got {other:?}"),
        }
    }
    let zero = Cache::builder().max_depth(0).build().await.unwrap_err();
    assert_eq!(
        zero.to_string(),
        "invalid cache configuration: max_depth must be at least 1 (a struct is one level deep)"
    );
}
