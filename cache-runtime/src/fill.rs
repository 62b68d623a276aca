//! The `#[cached]` miss path: read-or-lease, then fill, with no stale writes.
//!
//! A miss takes a *fill lease* on its key in the same step as the read (one
//! `SET .. NX GET` on Redis). The value the body computes is stored only while that lease
//! still holds: invalidating the key, its namespace or a pattern ends the lease, and
//! invalidating one of its tags marks the tag, so a value computed from data read before an
//! invalidation is never stored after it (the race every "check, else query, then store"
//! layer has). On Redis a tagged miss records its key in the tag indexes before the body
//! runs (one more round trip, on misses of tagged functions only). Another caller missing while a lease is out computes its value too but does
//! not store it. See `store/redis/lease.rs` and `store/memory/lease.rs`.

use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;
use crate::codec;
use crate::error::{Error, Result};
use crate::stats::Counters;
use crate::store::memory::{lease as mem_lease, MemEntry};
#[cfg(feature = "redis")]
use crate::store::redis::lease as redis_lease;
use crate::store::Backend;
use crate::CacheValue;

/// The right to store the value of one miss.
pub(crate) enum Fill {
    Memory(mem_lease::Lease),
    #[cfg(feature = "redis")]
    Redis(redis_lease::Lease),
    /// Someone else is filling (or the entry was unreadable): do not store.
    Skip,
}

impl Cache {
    /// Reads `key`; on a miss, takes its fill lease.
    pub(crate) async fn read_for_fill<T: CacheValue>(
        &self,
        key: &str,
        tags: &[String],
    ) -> Result<(Option<T>, Fill)> {
        let inner = &*self.inner;
        let (found, fill) = match &inner.backend {
            Backend::Memory(mem) => {
                let found = match mem.get(key) {
                    Some(entry) => match entry.value.as_ref().and_then(|v| v.downcast_ref::<T>()) {
                        Some(value) => Some(value.clone()),
                        // Unreadable entries are deleted: then this miss may fill.
                        None => self.decode_or_drop(key, &entry.bytes).await,
                    },
                    None => None,
                };
                match found {
                    Some(value) => (Some(value), Fill::Skip),
                    None => match mem.acquire(key) {
                        mem_lease::Acquired::Leased(lease) => (None, Fill::Memory(lease)),
                        mem_lease::Acquired::Busy => (None, Fill::Skip),
                    },
                }
            }
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => {
                let mut read = redis.read_or_lease(key).await;
                if let Ok(redis_lease::Read::Value(bytes)) = &read {
                    if let Some(value) = self.decode_or_drop::<T>(key, bytes).await {
                        Counters::bump(&inner.counters.hits);
                        return Ok((Some(value), Fill::Skip));
                    }
                    // The unreadable entry was deleted: take the lease now.
                    read = redis.read_or_lease(key).await;
                }
                match read {
                    Ok(redis_lease::Read::Leased(lease)) if !tags.is_empty() => {
                        match redis.register_fill(key, tags).await {
                            Ok(()) => (None, Fill::Redis(lease)),
                            Err(e) => {
                                // Unregistered, a tag invalidation could miss this fill.
                                let _ = redis.release(key, &lease).await;
                                self.failed("register", e);
                                (None, Fill::Skip)
                            }
                        }
                    }
                    Ok(redis_lease::Read::Leased(lease)) => (None, Fill::Redis(lease)),
                    Ok(_) => (None, Fill::Skip),
                    Err(e) => return Err(self.failed("get", e)),
                }
            }
            Backend::Disabled(reason) => {
                return Err(self.failed("get", crate::access::disabled(reason)))
            }
        };
        Counters::bump(if found.is_some() {
            &inner.counters.hits
        } else {
            &inner.counters.misses
        });
        Ok((found, fill))
    }

    /// Stores the value of a miss under its lease (`None`: nothing to store, give the lease
    /// back). Refusals because of an invalidation are counted in
    /// [`Stats::stale_fills_refused`](crate::Stats::stale_fills_refused).
    pub(crate) async fn fill<T: CacheValue>(
        &self,
        key: &str,
        fill: Fill,
        value: Option<&T>,
        ttl: Duration,
        tags: &[String],
    ) {
        let inner = &*self.inner;
        let bytes = match value.map(|v| codec::encode(v, inner.max_value_bytes)) {
            Some(Ok(bytes)) => Some(bytes),
            Some(Err(e @ Error::TooLarge { .. })) => {
                Counters::bump(&inner.counters.oversized);
                self.warn(format_args!("not caching `{key}`: {e}"));
                None
            }
            Some(Err(e)) => {
                self.failed("encode", e);
                None
            }
            None => None,
        };
        let stored = match (fill, &inner.backend, bytes, value) {
            (Fill::Skip, ..) => return,
            (Fill::Memory(lease), Backend::Memory(mem), Some(bytes), Some(value)) => {
                let typed: Arc<dyn std::any::Any + Send + Sync> = Arc::new(value.clone());
                let entry = MemEntry::new(bytes.into(), Some(typed), ttl).with_tags(tags);
                mem.fill(key, &lease, entry)
            }
            (Fill::Memory(lease), Backend::Memory(mem), ..) => {
                mem.release(key, &lease);
                return;
            }
            #[cfg(feature = "redis")]
            (Fill::Redis(lease), Backend::Redis(redis), Some(bytes), Some(_)) => {
                match redis.fill(key, &lease, &bytes, ttl, tags).await {
                    Ok(stored) => stored,
                    Err(e) => {
                        self.failed("set", e);
                        return;
                    }
                }
            }
            #[cfg(feature = "redis")]
            (Fill::Redis(lease), Backend::Redis(redis), ..) => {
                if let Err(e) = redis.release(key, &lease).await {
                    self.failed("release", e);
                }
                return;
            }
            // A lease always comes from the cache's own backend.
            _ => return,
        };
        Counters::bump(if stored {
            &inner.counters.writes
        } else {
            &inner.counters.stale_fills_refused
        });
    }
}
