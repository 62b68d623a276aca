//! The `#[cached]` miss path: read-or-lease, then fill, with no stale writes.
//!
//! A miss takes a *fill lease* on its key before the body runs (on Redis, a
//! `SET key lease NX PX .. GET` after the plain GET missed, so hits stay one GET; or at once,
//! as the read itself, in a namespace that keeps missing: see
//! [`read_mode`](crate::observe::read_mode)). The value the body computes is stored only while that lease
//! still holds: invalidating the key, its namespace or a pattern ends the lease, and
//! invalidating one of its tags marks the tag, so a value computed from data read before an
//! invalidation is never stored after it (the race every "check, else query, then store"
//! layer has). On Redis a tagged miss records its key in the tag indexes before the body
//! runs (one more round trip, on misses of tagged functions only). Another caller missing while a lease is out computes its value too but does
//! not store it. See `store/redis/lease.rs` and `store/memory/lease.rs`.

use std::time::Duration;

use crate::cache::Cache;
use crate::codec;
use crate::codec::value::{Erased, Typed, ValueType};
use crate::error::{Error, Result};
use crate::observe::stats::Counters;
#[cfg(feature = "redis")]
use crate::store::redis::lease as redis_lease;
use crate::store::{Lease, Leasing};
use crate::CacheValue;

/// What one GET returned, with the L1 epoch taken before it (only Redis is read before
/// single flight: without it, nothing).
pub(crate) struct Got {
    #[cfg(feature = "redis")]
    pub(crate) bytes: Option<Vec<u8>>,
    #[cfg(feature = "redis")]
    pub(crate) epoch: u64,
}

/// What a read found: a fresh value, or a miss with the right to fill it (and, with
/// `stale_if_error`, the stale value that may stand in for a failing body).
pub(crate) struct Read<T> {
    pub(crate) fresh: Option<T>,
    pub(crate) stale: Option<T>,
    pub(crate) fill: Fill,
}

impl Fill {
    /// Whether filling replaces a stored value (rather than filling a missing key).
    pub(crate) fn replaces(&self) -> bool {
        #[cfg(feature = "redis")]
        if let Fill::Stale(_) = self {
            return true;
        }
        false
    }
}

/// The right to store the value of one miss.
pub(crate) enum Fill {
    /// A lease on the missing key.
    Lease(Lease),
    /// A stored entry to replace (a stale one, or the one a bypassing call recomputes): stored
    /// only if the key still holds exactly these bytes.
    #[cfg(feature = "redis")]
    Stale(Vec<u8>),
    /// Another caller (another process) is filling: do not store.
    Busy,
    /// Nothing to fill (a hit, or the entry could not be leased): do not store.
    Skip,
}

/// A lease taken by a miss whose body is still running. If the call is dropped (its future
/// cancelled, or the body panicked) before [`Cache::fill`] takes the lease, the lease is given
/// back at once, so the next miss can fill instead of waiting out the lease time.
pub(crate) struct Pending {
    cache: Cache,
    key: String,
    fill: Option<Fill>,
}

impl Pending {
    pub(crate) fn new(cache: &Cache, key: &str, fill: Fill) -> Self {
        let fill = match fill {
            Fill::Skip | Fill::Busy => None,
            fill => Some(fill),
        };
        Pending {
            cache: cache.clone(),
            key: key.to_owned(),
            fill,
        }
    }

    /// The lease, for [`Cache::fill`].
    pub(crate) fn take(&mut self) -> Fill {
        self.fill.take().unwrap_or(Fill::Skip)
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(fill) = self.fill.take() else {
            return;
        };
        let Fill::Lease(lease) = fill else {
            return;
        };
        if self.cache.inner.backend.release_here(&self.key, &lease) {
            return;
        }
        // Releasing takes a round trip: do it on the runtime, if there is one (otherwise
        // the lease lapses after the lease time).
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let cache = self.cache.clone();
            let key = std::mem::take(&mut self.key);
            handle.spawn(async move {
                let _ = cache.inner.backend.release(&key, &lease).await;
            });
        }
    }
}

/// What the fill path needs to know about the `#[cached]` fn.
pub(crate) struct FillSite<'a> {
    /// Read Redis with the fill lease command rather than a GET first (see
    /// [`read_mode`](crate::observe::read_mode)).
    #[cfg(feature = "redis")]
    pub(crate) lease_first: bool,
    /// How long the entry is kept (its TTL, jittered, plus any `stale_if_error` window).
    pub(crate) ttl: Duration,
    /// How long the entry is fresh (the function's TTL).
    pub(crate) fresh_ttl: Duration,
    /// `stale_if_error`: a stale entry is kept aside rather than served.
    pub(crate) stale_ok: bool,
    /// Whether the fn uses L1 (`#[cached(l1 = false)]` turns it off).
    #[cfg(feature = "redis")]
    pub(crate) l1: bool,
    /// The fn's own L1 TTL (`l1_ttl`), if it set one.
    #[cfg(feature = "redis")]
    pub(crate) l1_ttl: Option<Duration>,
    /// The tags the entry is recorded under.
    pub(crate) tags: &'a [String],
    /// This call took over the single flight of a dropped caller, whose lease it may adopt.
    pub(crate) takeover: bool,
    /// `lock = true`: how long to wait for another process's fill before running the body.
    #[cfg(feature = "redis")]
    pub(crate) lock: Option<Duration>,
    /// Whether the value may be stored compressed (`#[cached(compress = false)]`: not).
    pub(crate) compress: bool,
}

impl<'a> FillSite<'a> {
    /// What the fill path of one call under `policy` needs, its entry kept for the fresh
    /// TTL until the caller sets the jittered [`ttl`](FillSite::ttl) of a miss.
    #[inline]
    pub(crate) fn new(
        cache: &Cache,
        policy: &crate::call::policy::Policy,
        tags: &'a [String],
        fresh_ttl: Duration,
        lease_first: bool,
    ) -> Self {
        #[cfg(not(feature = "redis"))]
        let _ = (cache, lease_first);
        FillSite {
            #[cfg(feature = "redis")]
            lease_first,
            ttl: fresh_ttl,
            fresh_ttl,
            stale_ok: policy.stale_for.is_some(),
            #[cfg(feature = "redis")]
            l1: policy.l1,
            #[cfg(feature = "redis")]
            l1_ttl: policy.l1_ttl,
            tags,
            takeover: false,
            #[cfg(feature = "redis")]
            lock: policy.lock.then(|| cache.lock_wait()),
            compress: policy.compress,
        }
    }
}

/// Whether an envelope written at its creation time is still within `fresh_ttl`.
#[cfg(feature = "redis")]
fn fresh(bytes: &[u8], fresh_ttl: Duration) -> bool {
    codec::is_fresh(bytes, fresh_ttl) == Some(true)
}

impl Cache {
    /// A hit in the memory store (the embedded default), if any: a lookup and a clone.
    #[inline]
    pub(crate) fn memory_hit<T: CacheValue>(
        &self,
        key: &str,
        fresh_ttl: Duration,
        stale_ok: bool,
    ) -> Option<T> {
        let entry = self.inner.backend.memory()?.get(key)?;
        if stale_ok && entry.created.elapsed() >= fresh_ttl {
            return None;
        }
        let value = entry.typed::<T>()?;
        Counters::bump(&self.inner.counters.hits);
        Some(value)
    }

    /// Reads `key` from the store (L2); on a miss, takes its fill lease. A Redis hit is
    /// copied into L1.
    pub(crate) async fn read_for_fill(
        &self,
        key: &str,
        site: &FillSite<'_>,
        #[cfg_attr(not(feature = "redis"), allow(unused_variables))] got: Option<Got>,
        ty: ValueType,
    ) -> Result<Read<Typed>> {
        let inner = &*self.inner;
        let mut stale = None;
        #[cfg(feature = "redis")]
        let (found, fill) = if inner.backend.remote() {
            self.read_remote(key, site, &mut stale, got, ty).await?
        } else {
            self.read_here(key, site, &mut stale, ty).await?
        };
        #[cfg(not(feature = "redis"))]
        let (found, fill) = self.read_here(key, site, &mut stale, ty).await?;
        Counters::bump(if found.is_some() {
            &inner.counters.hits
        } else {
            &inner.counters.misses
        });
        Ok(Read {
            fresh: found,
            stale,
            fill,
        })
    }

    /// The read of an in-process store (the memory store keeps each value decoded beside
    /// its bytes); on a miss, or a stale entry kept aside, the fill lease.
    async fn read_here(
        &self,
        key: &str,
        site: &FillSite<'_>,
        stale: &mut Option<Typed>,
        ty: ValueType,
    ) -> Result<(Option<Typed>, Fill)> {
        let found = match self.inner.backend.get(key).await {
            Ok(found) => found,
            Err(e) => return Err(self.failed("get", e)),
        };
        if let Some(found) = found {
            // Unreadable entries are deleted: then this miss may fill.
            let value = self.found_typed(key, &found, ty).await;
            if site.stale_ok && !found.fresh(site.fresh_ttl) {
                *stale = value;
            } else if let Some(value) = value {
                return Ok((Some(value), Fill::Skip));
            }
        }
        // The memory store leases without a round trip: no future to hold for it.
        let read = match self.inner.backend.lease_here(key) {
            Some(Leasing::Leased(lease)) => return Ok((None, Fill::Lease(lease))),
            Some(Leasing::Busy) => return Ok((None, Fill::Busy)),
            #[cfg(feature = "redis")]
            Some(read) => Ok(read),
            None => self.inner.backend.lease(key, site.tags, site.ttl).await,
        };
        self.leased(key, read, ty).await
    }

    /// The read of Redis. `lock = true`: while another process fills this key, it waits for
    /// its value (bounded, with backoff) instead of running the body too.
    #[cfg(feature = "redis")]
    async fn read_remote(
        &self,
        key: &str,
        site: &FillSite<'_>,
        stale: &mut Option<Typed>,
        mut got: Option<Got>,
        ty: ValueType,
    ) -> Result<(Option<Typed>, Fill)> {
        let deadline = site.lock.map(|wait| tokio::time::Instant::now() + wait);
        let mut backoff = Duration::from_millis(2);
        let mut waited = false;
        loop {
            let (found, fill) = self.read_redis(key, site, stale, got.take(), ty).await?;
            let now = tokio::time::Instant::now();
            match (&fill, deadline) {
                (Fill::Busy, Some(deadline)) if found.is_none() && now < deadline => {
                    waited = true;
                    tokio::time::sleep(backoff.min(deadline - now)).await;
                    backoff = (backoff * 2).min(Duration::from_millis(50));
                }
                _ => {
                    if waited && found.is_some() {
                        Counters::bump(&self.inner.counters.coalesced);
                    }
                    return Ok((found, fill));
                }
            }
        }
    }

    /// A fresh, readable value in `bytes` (a GET's result), without deleting or counting
    /// anything when there is none.
    #[cfg(feature = "redis")]
    pub(crate) fn fresh_value(
        &self,
        key: &str,
        bytes: &[u8],
        site: &FillSite<'_>,
        ty: ValueType,
    ) -> Option<Typed> {
        if redis_lease::shaped(bytes) || (site.stale_ok && !fresh(bytes, site.fresh_ttl)) {
            return None;
        }
        ty.decode(bytes, key, &self.inner.encoding()).ok()
    }

    /// One Redis read: a plain GET (or the one [`peek`](Cache::peek) made); on a miss, the
    /// fill lease.
    #[cfg(feature = "redis")]
    async fn read_redis(
        &self,
        key: &str,
        site: &FillSite<'_>,
        stale: &mut Option<Typed>,
        got: Option<Got>,
        ty: ValueType,
    ) -> Result<(Option<Typed>, Fill)> {
        // Hits are a plain GET: the lease is only taken once the GET missed (or found
        // an unreadable entry, which `decode_or_drop` deletes). A namespace that keeps
        // missing sends the lease command at once: what it finds is read as a GET's result.
        // A caller taking over a dropped leader reads with a GET, to adopt its lease.
        let backend = &self.inner.backend;
        let (found, epoch) = match got {
            Some(got) => (Ok(got.bytes), got.epoch),
            None if site.lease_first && !site.takeover => {
                let epoch = self.l1_epoch(key);
                match backend.lease(key, site.tags, site.ttl).await {
                    Ok(Leasing::Value(bytes)) => (Ok(Some(bytes)), epoch),
                    // The server takes no writes (`maxmemory` with `noeviction`, say): it
                    // still answers a GET.
                    Ok(Leasing::Refused(_)) => (backend.get_bytes(key).await, epoch),
                    Err(e) => (Err(e), epoch),
                    leased => return self.leased(key, leased, ty).await,
                }
            }
            None => {
                let epoch = self.l1_epoch(key);
                (backend.get_bytes(key).await, epoch)
            }
        };
        // Another caller's lease, or foreign bytes shaped like one (unreadable, dropped).
        let leased = match &found {
            Ok(Some(bytes)) if redis_lease::shaped(bytes) => backend.holds_lease(key, bytes).await,
            _ => false,
        };
        Ok(match found {
            Ok(Some(bytes)) if leased => {
                if site.takeover && redis_lease::Lease::is_ours(&bytes) {
                    match backend.adopt(key, &bytes).await {
                        Ok(Some(lease)) => (None, Fill::Lease(lease)),
                        // Released meanwhile: take a lease the usual way.
                        Ok(None) => self.lease_redis(key, site, ty).await?,
                        Err(e) => return Err(self.failed("get", e)),
                    }
                } else {
                    (None, Fill::Busy)
                }
            }
            Ok(Some(bytes)) => match self.decode_or_drop_typed(key, &bytes, ty).await {
                Some(value) if site.stale_ok && !fresh(&bytes, site.fresh_ttl) => {
                    // Kept aside for a failing body; refreshed only if nobody replaced it.
                    *stale = Some(value);
                    (None, Fill::Stale(bytes))
                }
                Some(value) => {
                    if site.l1 && self.inner.l1.is_some() && self.l1_admits(key).await {
                        self.l1_put_read(key, &value, bytes, site, epoch);
                    }
                    (Some(value), Fill::Skip)
                }
                None => self.lease_redis(key, site, ty).await?,
            },
            Ok(None) => self.lease_redis(key, site, ty).await?,
            Err(e) => return Err(self.failed("get", e)),
        })
    }

    /// The fill lease of a call that bypasses the cache (see [`bypass`](crate::call::bypass)),
    /// taken whether or not a value is stored. On Redis, the lease command sets the lease
    /// only on a missing key: a value it finds stands for the lease instead, and the fill
    /// replaces exactly those bytes.
    pub(crate) async fn lease_over(&self, key: &str, site: &FillSite<'_>) -> Fill {
        match self.inner.backend.lease(key, site.tags, site.ttl).await {
            #[cfg(feature = "redis")]
            Ok(Leasing::Value(bytes)) => Fill::Stale(bytes),
            // A lease, another caller's, a refusal or a failure: what a miss makes of them
            // (no value is read there, so its type does not matter).
            read => match self.leased(key, read, ValueType::of::<()>()).await {
                Ok((_, fill)) => fill,
                Err(_) => Fill::Skip,
            },
        }
    }

    /// Counts a failing call served a stale value (`stale_if_error`).
    pub(crate) fn count_stale_served(&self) {
        Counters::bump(&self.inner.counters.stale_served);
    }

    /// Copies a Redis hit into L1 for what is left of its TTL.
    #[cfg(feature = "redis")]
    pub(crate) fn l1_put_read(
        &self,
        key: &str,
        value: &Typed,
        bytes: Vec<u8>,
        site: &FillSite<'_>,
        epoch: u64,
    ) {
        let Some(left) = codec::fresh_left(&bytes, site.fresh_ttl) else {
            return;
        };
        self.l1_put(
            key,
            Typed::clone(value),
            bytes.into(),
            left,
            site.l1_ttl,
            site.tags,
            epoch,
        );
    }

    /// Takes the fill lease of a key the GET found missing. The lease read is itself a read:
    /// a value written since the GET is a hit.
    #[cfg(feature = "redis")]
    async fn lease_redis(
        &self,
        key: &str,
        site: &FillSite<'_>,
        ty: ValueType,
    ) -> Result<(Option<Typed>, Fill)> {
        let backend = &self.inner.backend;
        let mut read = backend.lease(key, site.tags, site.ttl).await;
        if let Ok(Leasing::Value(bytes)) = &read {
            match self.decode_or_drop_typed(key, bytes, ty).await {
                Some(value) => return Ok((Some(value), Fill::Skip)),
                // Unreadable (and now deleted): this miss may fill after all.
                None => read = backend.lease(key, site.tags, site.ttl).await,
            }
        }
        self.leased(key, read, ty).await
    }

    /// What a fill lease command found, once a value it returned was unreadable or none was
    /// there: the lease (on Redis recorded in the tag indexes first, for a tagged fn),
    /// another caller's lease, or a failure.
    #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
    async fn leased(
        &self,
        key: &str,
        read: Result<Leasing>,
        ty: ValueType,
    ) -> Result<(Option<Typed>, Fill)> {
        match read {
            // Unreadable again: written meanwhile by something else than this cache.
            #[cfg(feature = "redis")]
            Ok(Leasing::Value(bytes)) => {
                Ok((self.decode_or_drop_typed(key, &bytes, ty).await, Fill::Skip))
            }
            Ok(Leasing::Leased(lease)) => Ok((None, Fill::Lease(lease))),
            Ok(Leasing::Busy) => Ok((None, Fill::Busy)),
            // Unregistered, a tag invalidation could miss this fill.
            #[cfg(feature = "redis")]
            Ok(Leasing::Unregistered(e)) => {
                self.failed("register", e);
                Ok((None, Fill::Skip))
            }
            // The GET missed: a miss whose value is not stored (e.g. `OOM` with `maxmemory`
            // and `noeviction`, or a timeout), counted as a failed write.
            #[cfg(feature = "redis")]
            Ok(Leasing::Refused(e)) => {
                self.failed("lease", e);
                Ok((None, Fill::Skip))
            }
            Err(e) => {
                self.failed("lease", e);
                Ok((None, Fill::Skip))
            }
        }
    }

    /// Stores the value of a miss under its lease (`None`: nothing to store, give the lease
    /// back). Refusals because of an invalidation are counted in
    /// [`Stats::stale_fills_refused`](crate::Stats::stale_fills_refused). Returns the lease's
    /// verdict on the value: `Some(true)` when it was stored under an intact lease (no
    /// invalidation came while the body ran), `Some(false)` when an invalidation ended the
    /// lease, `None` when no lease decided (no lease was held, nothing was stored, or the
    /// store failed): then the caller must find out by other means whether the value may be
    /// shared with the callers waiting on this miss.
    pub(crate) async fn fill(
        &self,
        key: &str,
        fill: Fill,
        value: Option<&dyn Erased>,
        site: &FillSite<'_>,
    ) -> Option<bool> {
        let (ttl, tags) = (site.ttl, site.tags);
        let inner = &*self.inner;
        let encoding = inner.encoding().compress(site.compress);
        let bytes = match value.map(|v| v.encode(key, &encoding)) {
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
        let compressed = bytes.as_deref().is_some_and(codec::is_compressed);
        let stored = match (fill, bytes, value) {
            (Fill::Skip | Fill::Busy, ..) => return None,
            (Fill::Lease(lease), Some(bytes), Some(value)) => {
                #[cfg(feature = "redis")]
                let epoch = self.l1_epoch(key);
                match inner
                    .backend
                    .fill(key, &lease, &bytes, value, ttl, tags)
                    .await
                {
                    // With tracking, Redis echoes the write as an invalidation of the
                    // key: the copy goes to L1 at the next read, after the echo.
                    #[cfg(feature = "redis")]
                    Ok(true) if site.l1 && self.l1_tracked() => {
                        self.tracking_barrier().await;
                        true
                    }
                    #[cfg(feature = "redis")]
                    Ok(true) if site.l1 && inner.l1.is_some() => {
                        let fresh = site.fresh_ttl.min(ttl);
                        let value = value.to_typed();
                        self.l1_put(key, value, bytes.into(), fresh, site.l1_ttl, tags, epoch);
                        true
                    }
                    Ok(stored) => stored,
                    Err(e) => {
                        self.failed("set", e);
                        return None;
                    }
                }
            }
            #[cfg(feature = "redis")]
            (Fill::Stale(old), Some(bytes), Some(value)) => {
                match (inner.backend)
                    .replace(key, &old, &bytes, value, ttl, tags)
                    .await
                {
                    Ok(stored) => stored,
                    Err(e) => {
                        self.failed("set", e);
                        return None;
                    }
                }
            }
            (Fill::Lease(lease), ..) => {
                if let Err(e) = inner.backend.release(key, &lease).await {
                    self.failed("release", e);
                }
                return None;
            }
            #[cfg(feature = "redis")]
            (Fill::Stale(_), ..) => return None,
        };
        if stored {
            self.count_write(compressed);
        } else {
            Counters::bump(&inner.counters.stale_fills_refused);
        }
        Some(stored)
    }
}
