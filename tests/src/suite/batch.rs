//! `#[cached(batch)]`: one call for many ids, cached item by item.

use std::collections::HashMap;
use std::sync::Mutex;

use cache_runtime::{cached, key_for, Cache};

use crate::fixture::Fixture;

/// Records the ids each body call was given.
#[derive(Default)]
pub struct Calls(Mutex<Vec<Vec<u64>>>);

impl Calls {
    fn record(&self, ids: &[u64]) {
        self.0.lock().unwrap().push(ids.to_vec());
    }
    fn taken(&self) -> Vec<Vec<u64>> {
        self.0.lock().unwrap().clone()
    }
}

#[cached(namespace = "batch.user", cache = cache, skip(calls))]
async fn user(id: u64, cache: &Cache, calls: &Calls) -> String {
    calls.record(&[id]);
    format!("user {id}")
}

#[cached(batch, namespace = "batch.user", cache = cache)]
async fn users(ids: Vec<u64>, cache: &Cache, calls: &Calls) -> HashMap<u64, String> {
    calls.record(&ids);
    ids.iter().map(|id| (*id, format!("user {id}"))).collect()
}

#[cached(batch, namespace = "batch.user", cache = cache)]
async fn user_list(ids: &[u64], cache: &Cache, calls: &Calls) -> Vec<String> {
    calls.record(ids);
    ids.iter().map(|id| format!("user {id}")).collect()
}

#[cached(batch, namespace = "batch.fallible", cache = cache)]
async fn fallible(ids: Vec<u64>, cache: &Cache, fail: bool) -> Result<HashMap<u64, u64>, String> {
    if fail {
        Err("db down".into())
    } else {
        Ok(ids.iter().map(|id| (*id, id * 10)).collect())
    }
}

/// Ids 1..=100 with 1..=50 cached by the single-id fn: the body sees exactly 51..=100, the
/// reads are one MGET, and every item lands under the single-id fn's key.
pub async fn body_sees_only_missing_ids(fx: &Fixture) {
    let (c, calls) = (&fx.cache, Calls::default());
    for id in 1..=50 {
        user(id, c, &calls).await;
    }
    let before = fx.command_calls("mget").await;
    let ids: Vec<u64> = (1..=100).collect();
    let got = users(ids.clone(), c, &calls).await;
    assert_eq!(got.len(), 100);
    assert_eq!(got[&7], "user 7");
    assert_eq!(got[&77], "user 77");
    assert_eq!(
        calls.taken().last().unwrap(),
        &(51..=100).collect::<Vec<u64>>()
    );
    if let (Some(before), Some(after)) = (before, fx.command_calls("mget").await) {
        // One MGET on one server; on a cluster redis-rs sends one per slot of the keys
        // read from Redis: all 100, or with L1 on the backplane only 51..=100 (1..=50 are
        // L1 hits). With tracking, a value goes into L1 at its first read after the write.
        let backplane = c.stats().coherence == Some(cache_runtime::Coherence::Backplane);
        let first_read = if c.l1_active() && backplane { 51 } else { 1 };
        let keys: Vec<String> = (first_read..=100u64)
            .map(|id| fx.redis_key(key_for::<String>("batch.user", 1, &(id,)).unwrap().as_str()))
            .collect();
        assert_eq!(
            after - before,
            fx.commands_for_keys(&keys).await,
            "one MGET per slot"
        );
    }
    // Every item is now cached under the key the single-id fn uses.
    let key = key_for::<String>("batch.user", 1, &(77u64,)).unwrap();
    assert!(c.exists(&key).await.unwrap());
    let n = calls.taken().len();
    assert_eq!(users(ids, c, &calls).await.len(), 100);
    assert_eq!(user(99, c, &calls).await, "user 99");
    assert_eq!(calls.taken().len(), n, "all hits: no body ran");
}

/// A `Vec` output keeps the requested order, with found and computed items merged.
pub async fn vec_output_keeps_order(fx: &Fixture) {
    let (c, calls) = (&fx.cache, Calls::default());
    user(3, c, &calls).await;
    let got = user_list(&[5, 3, 9], c, &calls).await;
    assert_eq!(got, ["user 5", "user 3", "user 9"]);
    assert_eq!(calls.taken().last().unwrap(), &vec![5, 9]);
    // One item invalidated: only it is computed next time.
    let key = key_for::<String>("batch.user", 1, &(9u64,)).unwrap();
    c.invalidate_key(&key).await.unwrap();
    assert_eq!(user_list(&[9, 5], c, &calls).await, ["user 9", "user 5"]);
    assert_eq!(calls.taken().last().unwrap(), &vec![9]);
}

/// An `Err` stores nothing and is returned.
pub async fn errors_store_nothing(fx: &Fixture) {
    let c = &fx.cache;
    assert_eq!(fallible(vec![1, 2], c, true).await, Err("db down".into()));
    let key = key_for::<u64>("batch.fallible", 1, &(1u64,)).unwrap();
    assert!(!c.exists(&key).await.unwrap());
    let got = fallible(vec![1, 2], c, false).await.unwrap();
    assert_eq!((got[&1], got[&2]), (10, 20));
    assert!(c.exists(&key).await.unwrap());
}
