//! What each `#[cached]` call did, per namespace: counters, sampled latency and the most
//! requested keys ([`Cache::namespace_stats`]), the request scope
//! ([`scope`](crate::observe::scope)), tracing and (feature `metrics`) the `metrics` facade.
//!
//! The hit path pays one relaxed increment of its namespace's counter. The namespace's
//! record is found through the call site (`Site`), which keeps the one of the first cache it
//! ran against: other caches look theirs up in a map. One call in
//! [`CacheBuilder::stats_sample_every`](crate::CacheBuilder::stats_sample_every) (default
//! 16, counted per thread) is timed and counted in the top keys.

mod coherence;
mod histogram;
pub(crate) mod read_mode;
pub mod scope;
mod served;
pub(crate) mod stats;
mod topk;

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

pub use coherence::Coherence;
use histogram::Histogram;
pub use histogram::LatencySummary;
pub use served::Served;
use topk::TopK;
pub use topk::TopKey;

use crate::cache::Cache;
use crate::observe::read_mode::MissStreak;

/// How many keys each namespace's sketch tracks, and how many [`NamespaceStats::top_keys`]
/// reports.
const TOP_TRACKED: usize = 64;
const TOP_REPORTED: usize = 10;

/// The calls of one namespace through one cache, from [`Cache::namespace_stats`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct NamespaceStats {
    /// The namespace, as written in `#[cached(namespace = ...)]` (or the fn's path).
    pub namespace: String,
    /// Every call.
    pub calls: u64,
    /// Calls served a cached value: `l1_hits + store_hits + coalesced`.
    pub hits: u64,
    /// Of the hits, from the in-process tier in front of Redis.
    pub l1_hits: u64,
    /// Of the hits, from the store (Redis, or the memory store).
    pub store_hits: u64,
    /// Of the hits, from another caller's body (single flight).
    pub coalesced: u64,
    /// Calls that ran their body (a miss, or the store failing).
    pub misses: u64,
    /// Calls served a stale value.
    pub stale_served: u64,
    /// Calls that bypassed the read.
    pub bypassed: u64,
    /// Calls whose store read failed (the body ran; also counted in `misses`).
    pub errors: u64,
    /// Sampled call latency.
    pub latency: LatencySummary,
    /// The most requested keys (from sampled calls, scaled by the sampling rate).
    pub top_keys: Vec<TopKey>,
}

impl NamespaceStats {
    /// `hits / (hits + misses)`, or 0 before any call.
    pub fn hit_rate(&self) -> f64 {
        let reads = self.hits + self.misses;
        if reads == 0 {
            0.0
        } else {
            self.hits as f64 / reads as f64
        }
    }
}

/// One namespace's live record.
pub(crate) struct NsStats {
    namespace: &'static str,
    l1_hits: AtomicU64,
    store_hits: AtomicU64,
    coalesced: AtomicU64,
    misses: AtomicU64,
    stale: AtomicU64,
    bypassed: AtomicU64,
    errors: AtomicU64,
    latency: Histogram,
    top: Mutex<TopK>,
    /// Whether this namespace's calls read Redis with the fill lease first.
    reads: MissStreak,
    #[cfg(feature = "metrics")]
    metrics: metered::Handles,
}

impl NsStats {
    fn new(namespace: &'static str) -> Self {
        NsStats {
            namespace,
            l1_hits: AtomicU64::new(0),
            store_hits: AtomicU64::new(0),
            coalesced: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            stale: AtomicU64::new(0),
            bypassed: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            latency: Histogram::default(),
            top: Mutex::new(TopK::new(TOP_TRACKED)),
            reads: MissStreak::new(),
            #[cfg(feature = "metrics")]
            metrics: metered::Handles::new(namespace),
        }
    }

    #[inline]
    fn count(&self, served: Served) {
        let counter = match served {
            Served::L1 => &self.l1_hits,
            Served::Store => {
                self.reads.hit();
                &self.store_hits
            }
            Served::Coalesced => &self.coalesced,
            Served::Miss => {
                self.reads.miss();
                &self.misses
            }
            Served::Stale => &self.stale,
            Served::Bypass => &self.bypassed,
            Served::Failed => {
                self.misses.fetch_add(1, Relaxed);
                &self.errors
            }
        };
        counter.fetch_add(1, Relaxed);
        #[cfg(feature = "metrics")]
        self.metrics.count(served);
    }

    fn snapshot(&self) -> NamespaceStats {
        let load = |c: &AtomicU64| c.load(Relaxed);
        let (l1_hits, store_hits, coalesced) = (
            load(&self.l1_hits),
            load(&self.store_hits),
            load(&self.coalesced),
        );
        let (misses, stale_served, bypassed) =
            (load(&self.misses), load(&self.stale), load(&self.bypassed));
        let hits = l1_hits + store_hits + coalesced;
        NamespaceStats {
            namespace: self.namespace.to_owned(),
            calls: hits + misses + stale_served + bypassed,
            hits,
            l1_hits,
            store_hits,
            coalesced,
            misses,
            stale_served,
            bypassed,
            errors: load(&self.errors),
            latency: self.latency.summary(),
            top_keys: self
                .top
                .lock()
                .map(|t| t.top(TOP_REPORTED))
                .unwrap_or_default(),
        }
    }
}

/// Every namespace's record for one cache.
pub(crate) struct Namespaces {
    /// Tells the caches apart in [`SiteStats`] (never reused, unlike an address).
    id: u64,
    by_name: RwLock<HashMap<&'static str, Arc<NsStats>>>,
    /// One call in this many is timed and counted in the top keys.
    sample_every: u32,
}

impl Namespaces {
    pub(crate) fn new(sample_every: u32) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Namespaces {
            id: NEXT_ID.fetch_add(1, Relaxed),
            by_name: RwLock::default(),
            sample_every: sample_every.max(1),
        }
    }

    fn get_or_add(&self, namespace: &'static str) -> Arc<NsStats> {
        if let Some(found) = self
            .by_name
            .read()
            .ok()
            .and_then(|m| m.get(namespace).cloned())
        {
            return found;
        }
        let mut map = match self.by_name.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(namespace)
            .or_insert_with(|| Arc::new(NsStats::new(namespace)))
            .clone()
    }

    fn snapshot(&self) -> Vec<NamespaceStats> {
        let map = match self.by_name.read() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut all: Vec<NamespaceStats> = map.values().map(|ns| ns.snapshot()).collect();
        all.sort_by(|a, b| a.namespace.cmp(&b.namespace));
        all
    }
}

/// Caches whose record a call site keeps at hand (see [`SiteStats`]).
const SITE_SLOTS: usize = 4;

/// The per-call-site handle on its namespace's record in each of the first
/// [`SITE_SLOTS`] caches the site ran against, kept so that their calls need no map lookup
/// (a fn called with a few caches, as `cache = ..` allows, stays off the map). Calls in any
/// later cache look the record up in that cache's map.
pub(crate) struct SiteStats {
    slots: [OnceLock<(u64, Arc<NsStats>)>; SITE_SLOTS],
}

impl SiteStats {
    /// No record yet.
    pub(crate) const fn new() -> Self {
        SiteStats {
            slots: [const { OnceLock::new() }; SITE_SLOTS],
        }
    }

    /// The record of `namespace` in `cache` from its map, kept in a free slot if there is
    /// one.
    #[cold]
    fn for_cache(&self, cache: &Cache, namespace: &'static str) -> Arc<NsStats> {
        let namespaces = &cache.inner.namespaces;
        let ns = namespaces.get_or_add(namespace);
        for slot in &self.slots {
            match slot.get() {
                // Another call of the same cache took the slot meanwhile.
                Some((id, _)) if *id == namespaces.id => break,
                Some(_) => continue,
                None => match slot.set((namespaces.id, ns.clone())) {
                    Ok(()) => break,
                    Err(_) if slot.get().is_some_and(|(id, _)| *id == namespaces.id) => break,
                    Err(_) => continue,
                },
            }
        }
        ns
    }

    /// Whether this site's next call in `cache` should read Redis with the fill lease first
    /// (see [`read_mode`](crate::observe::read_mode)).
    #[inline]
    pub(crate) fn lease_first(&self, cache: &Cache, namespace: &'static str) -> bool {
        self.with(cache, namespace, |ns| ns.reads.lease_first())
    }

    #[inline]
    fn with<R>(&self, cache: &Cache, namespace: &'static str, f: impl FnOnce(&NsStats) -> R) -> R {
        let id = cache.inner.namespaces.id;
        for slot in &self.slots {
            match slot.get() {
                Some((kept, ns)) if *kept == id => return f(ns),
                Some(_) => continue,
                None => break,
            }
        }
        f(&self.for_cache(cache, namespace))
    }
}

impl Default for SiteStats {
    fn default() -> Self {
        Self::new()
    }
}

/// A call being observed: started at `started` if it is one of the sampled calls.
#[derive(Clone, Copy)]
pub(crate) struct Watch {
    started: Option<Instant>,
}

thread_local! {
    static TICK: Cell<u32> = const { Cell::new(0) };
}

impl Watch {
    /// Starts watching a call: times it if it is this thread's n-th since the last sample.
    #[inline]
    pub(crate) fn start(cache: &Cache) -> Watch {
        let every = cache.inner.namespaces.sample_every;
        let sampled = TICK.with(|t| {
            let n = t.get().wrapping_add(1);
            let hit = n >= every;
            t.set(if hit { 0 } else { n });
            hit
        });
        Watch {
            started: sampled.then(Instant::now),
        }
    }

    /// Records how the call of `key` (a cache key) was served, in its namespace's record and
    /// the request scope.
    #[inline]
    pub(crate) fn finish(
        self,
        cache: &Cache,
        site: &SiteStats,
        namespace: &'static str,
        key: &str,
        label: Option<&str>,
        served: Served,
    ) {
        site.with(cache, namespace, |ns| {
            ns.count(served);
            if let Some(started) = self.started {
                sampled(cache, ns, started, key, label);
            }
        });
        crate::observe::scope::record(served);
    }
}

#[cold]
fn sampled(cache: &Cache, ns: &NsStats, started: Instant, key: &str, label: Option<&str>) {
    let took = started.elapsed();
    let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    ns.latency.record(us);
    #[cfg(feature = "metrics")]
    ns.metrics.latency(took);
    let digest = key.rsplit(':').next().unwrap_or(key);
    if let Ok(mut top) = ns.top.try_lock() {
        top.record(
            digest,
            label,
            u64::from(cache.inner.namespaces.sample_every),
        );
    }
}

impl Cache {
    /// Per namespace (sorted by name): the `#[cached]` calls made through this cache, how
    /// they were served, their sampled latency and the most requested keys.
    pub fn namespace_stats(&self) -> Vec<NamespaceStats> {
        self.inner.namespaces.snapshot()
    }
}

#[cfg(feature = "metrics")]
mod metered {
    //! The `metrics` facade handles of one namespace, registered once.
    use super::Served;
    use metrics::{Counter, Histogram};

    pub(super) struct Handles {
        l1: Counter,
        store: Counter,
        coalesced: Counter,
        misses: Counter,
        stale: Counter,
        bypassed: Counter,
        errors: Counter,
        seconds: Histogram,
    }

    impl Handles {
        pub(super) fn new(namespace: &'static str) -> Self {
            let hits = |tier: &'static str| metrics::counter!("cache_hits_total", "namespace" => namespace, "tier" => tier);
            Handles {
                l1: hits("l1"),
                store: hits("store"),
                coalesced: hits("coalesced"),
                misses: metrics::counter!("cache_misses_total", "namespace" => namespace),
                stale: metrics::counter!("cache_stale_served_total", "namespace" => namespace),
                bypassed: metrics::counter!("cache_bypassed_total", "namespace" => namespace),
                errors: metrics::counter!("cache_errors_total", "namespace" => namespace),
                seconds: metrics::histogram!("cache_op_seconds", "namespace" => namespace),
            }
        }

        pub(super) fn count(&self, served: Served) {
            match served {
                Served::L1 => self.l1.increment(1),
                Served::Store => self.store.increment(1),
                Served::Coalesced => self.coalesced.increment(1),
                Served::Miss => self.misses.increment(1),
                Served::Stale => self.stale.increment(1),
                Served::Bypass => self.bypassed.increment(1),
                Served::Failed => {
                    self.misses.increment(1);
                    self.errors.increment(1);
                }
            }
        }

        pub(super) fn latency(&self, took: std::time::Duration) {
            self.seconds.record(took.as_secs_f64());
        }
    }
}
