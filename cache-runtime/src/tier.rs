//! The in-process tier (L1) in front of Redis.
//!
//! With Redis configured, a `#[cached]` read goes L1 → Redis → body. L1 keeps the *decoded*
//! value (type-erased, checked by `TypeId`, with the bytes as a fallback for another type),
//! so an L1 hit does no I/O and no decoding: a hash lookup and a clone. An entry lives in L1
//! for the L1 TTL (default 30 s, per function `l1_ttl`) but never longer than the Redis
//! entry's remaining TTL. Redis tells every process which keys changed ([`tracking`]); on a
//! server that refuses tracking, every invalidation of this framework is published on the
//! [`backplane`] instead. L1 is only used while that connection is up, or while the circuit
//! breaker skips a Redis that is down (then nobody can invalidate through it, and L1 is the
//! only cache left). Without Redis there is no L1: the memory store is the only tier.

pub(crate) mod backplane;
#[cfg(feature = "cluster")]
mod cluster_tracking;
pub(crate) mod fallback;
pub(crate) mod marks;
#[cfg(feature = "cluster")]
mod slot_owners;
#[cfg(feature = "redis")]
pub(crate) mod start;
#[cfg(feature = "redis")]
pub(crate) mod tracking;

use crate::observe::Coherence;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use crate::tier::marks::Marks;

use crate::cache::Cache;
#[cfg(feature = "redis")]
use crate::codec::value::Typed;
use crate::observe::stats::Counters;
#[cfg(feature = "redis")]
use crate::store::memory::MemEntry;
use crate::store::memory::MemoryStore;
use crate::tier::backplane::Forget;
use crate::CacheValue;

/// The in-process tier of a Redis-backed cache.
pub(crate) struct L1 {
    pub(crate) store: MemoryStore,
    /// How long a copy is kept (unless the function sets its own `l1_ttl`).
    #[cfg(feature = "redis")]
    pub(crate) ttl: Duration,
    /// Whether L1 is served: tracking is in place, or (without tracking) the backplane is
    /// subscribed.
    pub(crate) live: Arc<AtomicBool>,
    /// Invalidations seen, per key slot. A value read from Redis goes into L1 only if no
    /// invalidation of its key arrived since the read began, so a late copy cannot outlive
    /// the invalidation that deleted its source.
    pub(crate) epoch: Arc<Marks>,
    /// Tracking or backplane, and the tracking connection.
    #[cfg(feature = "redis")]
    pub(crate) coherence: Arc<crate::tier::tracking::State>,
    #[cfg(feature = "redis")]
    pub(crate) _task: Option<crate::tier::start::Task>,
}

impl Cache {
    /// L1, while the backplane is subscribed. Entries are also served while the backplane is
    /// down *and* the circuit breaker of `key` has given up on Redis: then no process can write or
    /// invalidate through this Redis either, so an entry is stale by at most its L1 TTL, and
    /// serving it spares the database the load of every call running its body.
    fn live_l1(&self, key: &str) -> Option<&L1> {
        let l1 = self.inner.l1.as_ref()?;
        (l1.live.load(Relaxed) || self.redis_skipped(key)).then_some(l1)
    }

    /// L1 to write into: only while subscribed (a copy made while invalidations cannot be
    /// heard could outlive one).
    fn writable_l1(&self) -> Option<&L1> {
        self.inner.l1.as_ref().filter(|l1| l1.live.load(Relaxed))
    }

    /// Whether the circuit breaker in front of `key` is open (or half-open).
    #[cold]
    fn redis_skipped(&self, key: &str) -> bool {
        self.inner.backend.circuit_open_for(key)
    }

    /// Counts a caller served by another caller's body (a hit, coalesced).
    pub(crate) fn count_coalesced(&self) {
        Counters::bump(&self.inner.counters.hits);
        Counters::bump(&self.inner.counters.coalesced);
    }

    /// An L1 hit, if any (counted as a hit and an L1 hit).
    #[inline]
    pub(crate) fn l1_get<T: CacheValue>(&self, key: &str) -> Option<T> {
        let l1 = self.live_l1(key)?;
        let entry = l1.store.get(key)?;
        let value = match entry.typed::<T>() {
            Some(value) => value,
            None => match crate::codec::decode::<T>(&entry.bytes, key, &self.inner.encoding()) {
                Ok(value) => value,
                Err(_) => {
                    // Unreadable as a `T` (too deep, say): the copy goes, and the read
                    // goes on to Redis, which decides about the entry itself.
                    Counters::bump(&self.inner.counters.decode_errors);
                    l1.store.remove_if_holds(key, &entry.bytes);
                    return None;
                }
            },
        };
        Counters::bump(&self.inner.counters.hits);
        Counters::bump(&self.inner.counters.l1_hits);
        Some(value)
    }

    /// The invalidation mark of `key` (see [`marks`](crate::tier::marks)): a value read or computed
    /// while it did not move may be handed to callers waiting on the same miss.
    #[inline]
    pub(crate) fn invalidation_mark(&self, key: &str) -> u64 {
        self.inner.marks.of(key)
    }

    /// The invalidation count of `key`, taken before a Redis read or write whose value may
    /// go to L1.
    #[cfg(feature = "redis")]
    pub(crate) fn l1_epoch(&self, key: &str) -> u64 {
        self.inner.l1.as_ref().map_or(0, |l1| l1.epoch.of(key))
    }

    /// Puts a value read from or written to Redis into L1, for at most `ttl` (`cap` is the
    /// function's L1 TTL, if it set one), unless an invalidation arrived since `epoch`.
    #[allow(clippy::too_many_arguments)]
    #[cfg(feature = "redis")]
    pub(crate) fn l1_put(
        &self,
        key: &str,
        value: Typed,
        bytes: Arc<[u8]>,
        ttl: Duration,
        cap: Option<Duration>,
        tags: &[String],
        epoch: u64,
    ) {
        let Some(l1) = self.writable_l1() else {
            return;
        };
        if l1.epoch.of(key) != epoch {
            return;
        }
        let ttl = ttl.min(cap.unwrap_or(l1.ttl));
        if ttl.is_zero() {
            return;
        }
        l1.store
            .insert(key, MemEntry::new(bytes, Some(value), ttl).with_tags(tags));
        // An invalidation between the check above and the insert would have found nothing
        // to drop: look again, and take the copy back (at worst a miss).
        if l1.epoch.of(key) != epoch {
            l1.store.remove(key);
        }
    }

    /// Drops matching L1 entries here and, through the backplane, in every process.
    /// A failed publish is counted and logged: other processes then serve their copy for
    /// at most their L1 TTL.
    pub(crate) async fn forget(&self, what: Forget<'_>) {
        self.forget_here(what);
        self.publish_forget(what).await;
    }

    /// Whether L1 follows Redis through tracking (see [`tracking`]).
    #[cfg(feature = "redis")]
    pub(crate) fn l1_tracked(&self) -> bool {
        self.coherence() == Some(Coherence::Tracking)
    }

    /// How L1 is kept coherent; `None` without L1.
    pub(crate) fn coherence(&self) -> Option<Coherence> {
        #[cfg(feature = "redis")]
        return self.inner.l1.as_ref().map(|l1| l1.coherence.mode());
        #[cfg(not(feature = "redis"))]
        None
    }

    /// On a cluster under tracking, what [`l1_admits`](Cache::l1_admits) asks: the slot map
    /// of the tracking connections and how long to wait for an answer.
    #[cfg(feature = "cluster")]
    fn l1_owners(&self) -> Option<(&crate::tier::slot_owners::Owners, Duration)> {
        let (l1, redis) = (self.inner.l1.as_ref()?, self.inner.backend.redis()?);
        (redis.is_cluster() && l1.coherence.mode() == Coherence::Tracking)
            .then(|| (&l1.coherence.owners, redis.connect_timeout()))
    }

    /// Whether [`l1_admits`](Cache::l1_admits) asks Redis anything: on a cluster under
    /// tracking.
    #[cfg(feature = "redis")]
    pub(crate) fn l1_asks_owner(&self) -> bool {
        #[cfg(feature = "cluster")]
        return self.l1_owners().is_some();
        #[cfg(not(feature = "cluster"))]
        false
    }

    /// Whether a value of `key` read from Redis may go into L1. On a cluster under
    /// tracking, only if the master serving its slot is one this cache tracks (see
    /// [`cluster_tracking`]): one `TYPE` on that master's tracking connection. Elsewhere
    /// always, without asking.
    #[cfg(feature = "redis")]
    pub(crate) async fn l1_admits(&self, key: &str) -> bool {
        #[cfg(feature = "cluster")]
        if let Some((owners, timeout)) = self.l1_owners() {
            return owners.serves(key, timeout).await;
        }
        let _ = key;
        true
    }

    /// After a write to Redis by this process: waits (at most the response timeout) until
    /// tracking has echoed it back, so that the echo cannot refuse the L1 copy of a later
    /// read. A no-op without tracking.
    pub(crate) async fn tracking_barrier(&self) {
        #[cfg(feature = "redis")]
        if let (Some(l1), Some(timeout)) = (&self.inner.l1, self.inner.backend.connect_timeout()) {
            l1.coherence.barrier(timeout).await;
        }
    }

    /// The part of [`forget`](Cache::forget) in this process: the invalidation marks move,
    /// matching L1 entries are dropped.
    pub(crate) fn forget_here(&self, what: Forget<'_>) {
        what.mark(&self.inner.marks);
        if let Some(l1) = &self.inner.l1 {
            what.mark(&l1.epoch);
            what.apply(&l1.store);
        }
        if let Some(fallback) = &self.inner.fallback {
            what.apply(&fallback.store);
        }
    }

    /// The part of [`forget`](Cache::forget) in the other processes: the backplane message.
    #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
    pub(crate) async fn publish_forget(&self, what: Forget<'_>) {
        // Other processes may keep L1 copies even when this cache keeps none: always publish.
        #[cfg(feature = "redis")]
        if let Err(e) = self.inner.backend.publish(|| what.encode()).await {
            self.failed("publish", e);
        }
        // The write or delete behind this message is echoed by tracking.
        self.tracking_barrier().await;
    }
}

impl Cache {
    /// Whether the in-process tier is in use: Redis is configured, L1 is on, and the
    /// connection that keeps it coherent is up (tracking's, or the backplane's
    /// subscription; see [`Stats::coherence`](crate::Stats::coherence)). L1 is skipped
    /// while it is not.
    pub fn l1_active(&self) -> bool {
        self.writable_l1().is_some()
    }

    /// Waits until L1 is in use (at most `timeout`); returns
    /// [`l1_active`](Cache::l1_active). The connection that keeps L1 coherent is made in the
    /// background right after the cache is built, so the first reads after `build` may
    /// skip L1.
    pub async fn wait_for_backplane(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.inner.l1.is_some() && !self.l1_active() {
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.l1_active()
    }
}
