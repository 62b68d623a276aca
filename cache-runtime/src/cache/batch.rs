//! `#[cached(batch)]`: a fn taking many ids, cached item by item.
//!
//! Each id is stored under the key a single-id `#[cached]` fn of the same namespace and
//! version would use (`{namespace}:v{version}.{type}:{digest of the id}`), so one item can be
//! read or invalidated on its own. A call reads every id at once (L1, then one MGET), runs
//! the body with the missing ids only, stores each computed item, and merges.
//!
//! Batch fills take no fill lease: an invalidation of an item while the body runs is not
//! detected (its TTL bounds the staleness), unlike single-id `#[cached]` fns.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};

use serde::Serialize;

use crate::cache::Cache;
use crate::codec;
use crate::error::Error;
use crate::key::{CacheKey, KeyBuilder, SiteKey};
use crate::observe::stats::Counters;
use crate::CacheValue;

/// The ids of one batch call: which were found, which the body must compute.
pub struct Batch<K, V> {
    ids: Vec<K>,
    found: Vec<Option<V>>,
    missing: Vec<K>,
}

impl<K: Clone, V> Batch<K, V> {
    /// Whether every id was found (the body need not run).
    pub fn is_complete(&self) -> bool {
        self.found.iter().all(Option::is_some)
    }

    /// The ids the body must compute, in request order.
    pub fn take_missing(&mut self) -> Vec<K> {
        self.missing.clone()
    }
}

/// What a batch fn may return: a map by id, a `Vec` in id order, or a `Result` of either.
pub trait BatchOutput<K>: Sized {
    /// The cached item type.
    type Value: CacheValue;
    /// The output for an empty list of ids.
    fn empty() -> Self;
    /// The computed items to store, by id (`missing` are the ids the body was given).
    fn computed<'a>(&'a self, missing: &'a [K]) -> Vec<(&'a K, &'a Self::Value)>;
    /// The output with the found items merged in.
    fn merge(self, found: Vec<(K, Self::Value)>, ids: &[K], missing: &[K]) -> Self;
}

impl<K, V, S> BatchOutput<K> for HashMap<K, V, S>
where
    K: Eq + Hash,
    V: CacheValue,
    S: BuildHasher + Default,
{
    type Value = V;
    fn empty() -> Self {
        HashMap::default()
    }
    fn computed<'a>(&'a self, _missing: &'a [K]) -> Vec<(&'a K, &'a V)> {
        self.iter().collect()
    }
    fn merge(mut self, found: Vec<(K, V)>, _ids: &[K], _missing: &[K]) -> Self {
        self.extend(found);
        self
    }
}

impl<K, V> BatchOutput<K> for Vec<V>
where
    K: Eq + Hash + Clone,
    V: CacheValue,
{
    type Value = V;
    fn empty() -> Self {
        Vec::new()
    }
    fn computed<'a>(&'a self, missing: &'a [K]) -> Vec<(&'a K, &'a V)> {
        if self.len() != missing.len() {
            // Not one value per missing id: nothing can be matched to its id.
            return Vec::new();
        }
        missing.iter().zip(self.iter()).collect()
    }
    fn merge(self, found: Vec<(K, V)>, ids: &[K], missing: &[K]) -> Self {
        if self.len() != missing.len() {
            return self;
        }
        let mut by_id: HashMap<K, V> = found.into_iter().collect();
        by_id.extend(missing.iter().cloned().zip(self));
        ids.iter().filter_map(|id| by_id.get(id).cloned()).collect()
    }
}

impl<K, O: BatchOutput<K>, E> BatchOutput<K> for Result<O, E> {
    type Value = O::Value;
    fn empty() -> Self {
        Ok(O::empty())
    }
    fn computed<'a>(&'a self, missing: &'a [K]) -> Vec<(&'a K, &'a O::Value)> {
        match self {
            Ok(output) => output.computed(missing),
            Err(_) => Vec::new(),
        }
    }
    fn merge(self, found: Vec<(K, O::Value)>, ids: &[K], missing: &[K]) -> Self {
        self.map(|output| output.merge(found, ids, missing))
    }
}

fn item_key<K: Serialize, V: 'static>(site: &SiteKey, id: &K) -> Option<CacheKey> {
    let mut kb = KeyBuilder::new();
    kb.arg(id);
    kb.build_for_site::<V>(site).ok()
}

impl Cache {
    /// Reads every id: L1 first, then one MGET (Redis) or the memory store.
    pub(crate) async fn batch_read<K, V>(
        &self,
        site: &SiteKey,
        l1: bool,
        ids: Vec<K>,
    ) -> Batch<K, V>
    where
        K: Serialize + Clone,
        V: CacheValue,
    {
        let keys: Vec<Option<CacheKey>> = ids.iter().map(|id| item_key::<K, V>(site, id)).collect();
        let mut found: Vec<Option<V>> = keys
            .iter()
            .map(|key| {
                let key = key.as_ref()?;
                if l1 {
                    if let Some(value) = self.l1_get::<V>(key.as_str()) {
                        return Some(value);
                    }
                }
                None
            })
            .collect();
        let wanted: Vec<usize> = (0..ids.len())
            .filter(|&i| found[i].is_none() && keys[i].is_some())
            .collect();
        let wanted_keys: Vec<&str> = wanted
            .iter()
            .filter_map(|&i| keys[i].as_ref().map(CacheKey::as_str))
            .collect();
        if !wanted_keys.is_empty() {
            // A failed read is counted and logged by get_many: every id is then computed.
            if let Ok(values) = self.get_many::<V, &str>(&wanted_keys).await {
                for (&i, value) in wanted.iter().zip(values) {
                    found[i] = value;
                }
            }
        }
        let missing = ids
            .iter()
            .zip(&found)
            .filter(|(_, value)| value.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        Batch {
            ids,
            found,
            missing,
        }
    }

    /// Stores the computed items (one pipeline on Redis) for `ttl`.
    pub(crate) async fn batch_store<K, V>(
        &self,
        site: &SiteKey,
        items: Vec<(&K, &V)>,
        ttl: std::time::Duration,
        compress: bool,
    ) where
        K: Serialize,
        V: CacheValue,
    {
        let inner = &*self.inner;
        let encoding = inner.encoding().compress(compress);
        let mut encoded: Vec<(CacheKey, Vec<u8>, &V)> = Vec::with_capacity(items.len());
        for (id, value) in items {
            let Some(key) = item_key::<K, V>(site, id) else {
                continue;
            };
            match codec::encode(value, key.as_str(), &encoding) {
                Ok(bytes) => encoded.push((key, bytes, value)),
                Err(Error::TooLarge { .. }) => Counters::bump(&inner.counters.oversized),
                Err(e) => {
                    self.failed("encode", e);
                }
            }
        }
        if inner.backend.check().is_err() {
            return; // a disabled cache stores nothing
        }
        let refs: Vec<(&str, &[u8], &V)> = encoded
            .iter()
            .map(|(key, bytes, value)| (key.as_str(), bytes.as_slice(), *value))
            .collect();
        match inner.backend.set_many(&refs, ttl).await {
            Ok(()) => {
                for (_, bytes, _) in &refs {
                    self.count_write(codec::is_compressed(bytes));
                }
            }
            Err(e) => {
                self.failed("set_many", e);
            }
        }
    }
}

impl<K: Clone, V> Batch<K, V> {
    /// The found items with their ids, every id in request order, and the missing ids.
    pub(crate) fn into_parts(self) -> (Vec<(K, V)>, Vec<K>, Vec<K>) {
        let found = self
            .ids
            .iter()
            .zip(self.found)
            .filter_map(|(id, value)| value.map(|value| (id.clone(), value)))
            .collect();
        (found, self.ids, self.missing)
    }
}
