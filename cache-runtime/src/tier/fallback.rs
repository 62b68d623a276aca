//! The outage fallback: while the circuit breaker skips Redis, `#[cached]` fills go to
//! process memory for a short TTL, so an outage of Redis does not send every call of every
//! key to the database.
//!
//! Without it, a call whose key's breaker is open runs its body every time (L1 still serves
//! what it held, read-only). With it, the first such call of a key in this process stores its
//! value here for [`fallback_ttl`](crate::CacheBuilder::fallback_ttl) (default 5 s, never
//! longer than the function's TTL), and the calls after it are served from here while the
//! breaker stays open. The staleness bound: a value served from here was computed at most
//! the fallback TTL ago, by this process, while Redis was away. Invalidations made through
//! this cache drop the entry at once (as they drop L1 copies); other processes' invalidations
//! cannot reach it while Redis is down, which is what the short TTL bounds.
//!
//! An entry is never served once Redis is back: each entry records how many times the
//! breakers had closed when it was written, and is only read while that count is unchanged
//! and its key's breaker is open. The store is emptied when the count moves. A body whose
//! key was invalidated while it ran, or whose breaker closed meanwhile, stores nothing.
//!
//! Only the failure branch of a call touches it: a hit on Redis or L1 pays nothing.

#[cfg(feature = "redis")]
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;
use crate::codec::value::{Erased, Typed, ValueType};
use crate::observe::stats::Counters;
use crate::store::memory::{MemEntry, MemoryStore};

/// The outage fallback of a Redis cache.
pub(crate) struct Fallback {
    pub(crate) store: MemoryStore,
    /// How long an entry is kept (never longer than its function's TTL).
    pub(crate) ttl: Duration,
    /// The breakers' closings the store last saw: when they move, it is emptied.
    #[cfg(feature = "redis")]
    seen: AtomicU64,
}

/// A value and the breakers' closings when it was stored.
struct Stamped {
    closings: u64,
    value: Typed,
}

impl Fallback {
    pub(crate) fn new(store: MemoryStore, ttl: Duration) -> Self {
        Fallback {
            store,
            ttl,
            #[cfg(feature = "redis")]
            seen: AtomicU64::new(0),
        }
    }
}

/// When a fill may go to the fallback: the breakers' closings and the key's invalidation
/// mark before its body ran.
#[derive(Clone, Copy)]
pub(crate) struct Since {
    closings: u64,
    mark: u64,
}

impl Cache {
    /// How many entries the fallback holds (emptied first if Redis answered since it last
    /// looked); `None` when it is off.
    pub(crate) fn fallback_entries(&self) -> Option<u64> {
        let fallback = self.inner.fallback.as_ref()?;
        let _ = self.open_fallback("");
        fallback.store.run_pending_tasks();
        Some(fallback.store.entry_count())
    }

    /// The fallback and the breakers' closings now, if `key`'s breaker is open; the store is
    /// emptied first when Redis answered since it last looked.
    #[cold]
    fn open_fallback(&self, key: &str) -> Option<(&Fallback, u64)> {
        #[cfg(feature = "redis")]
        if let (Some(fallback), Some(closings)) = (
            self.inner.fallback.as_ref(),
            self.inner.backend.circuit_closings(),
        ) {
            if fallback.seen.swap(closings, Relaxed) != closings {
                fallback.store.clear();
            }
            return (self.inner.backend.circuit_open_for(key)).then_some((fallback, closings));
        }
        let _ = key;
        None
    }

    /// A value this process stored in the fallback while `key`'s breaker has been open,
    /// counted as a hit and a fallback hit.
    #[cold]
    pub(crate) fn fallback_get(&self, key: &str, ty: ValueType) -> Option<Typed> {
        let (fallback, closings) = self.open_fallback(key)?;
        let entry = fallback.store.get(key)?;
        let stamped = entry.value.as_ref()?.downcast_ref::<Stamped>()?;
        if stamped.closings != closings || !ty.holds(&stamped.value) {
            return None;
        }
        let value = Typed::clone(&stamped.value);
        Counters::bump(&self.inner.counters.hits);
        Counters::bump(&self.inner.counters.fallback_hits);
        Some(value)
    }

    /// Taken before a body runs whose value may go to the fallback.
    #[cold]
    pub(crate) fn fallback_since(&self, key: &str) -> Option<Since> {
        let (_, closings) = self.open_fallback(key)?;
        Some(Since {
            closings,
            mark: self.invalidation_mark(key),
        })
    }

    /// Stores `value` in the fallback for the fallback TTL (at most `ttl`), recorded under
    /// `tags`, if `key`'s breaker is still open, has not closed since `since`, and `key` was
    /// not invalidated while the body ran. Values the cache would not store (too large) are
    /// not kept either.
    #[cold]
    pub(crate) fn fallback_put(
        &self,
        key: &str,
        value: &dyn Erased,
        ttl: Duration,
        tags: &[String],
        since: Since,
    ) {
        let Some((fallback, closings)) = self.open_fallback(key) else {
            return;
        };
        if closings != since.closings || self.invalidation_mark(key) != since.mark {
            return;
        }
        // Encoded only for the byte bound (the store weighs entries by their bytes).
        let encoding = self.inner.encoding();
        let Ok(bytes) = value.encode(key, &encoding) else {
            return;
        };
        let stamped: Arc<dyn std::any::Any + Send + Sync> = Arc::new(Stamped {
            closings,
            value: value.to_typed(),
        });
        let entry = MemEntry::new(bytes.into(), Some(stamped), fallback.ttl.min(ttl));
        fallback.store.insert(key, entry.with_tags(tags));
        // An invalidation between the check above and the insert would have found nothing
        // to drop: look again, and take the entry back.
        if self.invalidation_mark(key) != since.mark {
            fallback.store.remove(key);
        }
        Counters::bump(&self.inner.counters.fallback_writes);
    }
}
