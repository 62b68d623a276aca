//! The first read of a `#[cached]` call on Redis, made before single flight: a hit returns
//! straight from it, so a Redis hit is one GET and a decode, with no flight bookkeeping (no
//! lock, no allocation for the flight map); on a cluster under tracking, with L1's admission
//! check sent alongside the GET. A miss hands what the GET found to the miss path,
//! which then does not read again.

use crate::cache::Cache;
use crate::call::fill::FillSite;
#[cfg(feature = "redis")]
use crate::call::fill::Got;
#[cfg(feature = "redis")]
use crate::codec::value::Typed;
use crate::codec::value::ValueType;

/// What the first read found. Without the `redis` feature it is always `Skipped`.
pub(crate) enum Peek {
    /// A fresh value (counted as a hit, copied into L1).
    #[cfg(feature = "redis")]
    Hit(Typed),
    /// Not a fresh hit: what the GET returned (nothing, or bytes that do not decode), for
    /// the miss path.
    #[cfg(feature = "redis")]
    Got(Got),
    /// The store failed (counted and logged): the body runs without it.
    #[cfg(feature = "redis")]
    Failed,
    /// Nothing to reuse (not Redis, or another caller's fill lease): the miss path reads
    /// the store itself.
    Skipped,
}

impl Cache {
    /// Whether a miss reads the store before single flight ([`Cache::peek`] does I/O).
    #[inline]
    pub(crate) fn reads_before_flight(&self) -> bool {
        self.inner.backend.remote()
    }

    /// Whether the Redis server refused the last fill lease because it takes no writes
    /// now: then no read is sent as the lease command.
    #[inline]
    pub(crate) fn writes_refused(&self) -> bool {
        self.inner.backend.writes_refused()
    }

    /// The GET before single flight (Redis only).
    #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
    pub(crate) async fn peek(&self, key: &str, site: &FillSite<'_>, ty: ValueType) -> Peek {
        #[cfg(feature = "redis")]
        if self.inner.backend.remote() {
            let epoch = self.l1_epoch(key);
            // On a cluster under tracking, whether the key's master is tracked (the L1
            // admission check) is asked alongside the GET, and dropped unless it is a hit.
            let mut owner = std::pin::pin!(self.l1_admits(key));
            let (got, admits) = if site.l1 && self.l1_asks_owner() {
                let mut get = std::pin::pin!(self.inner.backend.get_bytes(key));
                tokio::select! {
                    got = &mut get => (got, None),
                    admits = &mut owner => (get.await, Some(admits)),
                }
            } else {
                (self.inner.backend.get_bytes(key).await, Some(true))
            };
            let bytes = match got {
                Ok(bytes) => bytes,
                Err(e) => {
                    self.failed("get", e);
                    return Peek::Failed;
                }
            };
            if let Some(value) = bytes
                .as_deref()
                .and_then(|b| self.fresh_value(key, b, site, ty))
            {
                // Only a cache with an L1 copies the bytes (into an `Arc`) for it.
                if site.l1 && self.inner.l1.is_some() {
                    let admits = match admits {
                        Some(admits) => admits,
                        None => owner.await,
                    };
                    if let (true, Some(bytes)) = (admits, bytes) {
                        self.l1_put_read(key, &value, bytes, site, epoch);
                    }
                }
                crate::observe::stats::Counters::bump(&self.inner.counters.hits);
                return Peek::Hit(value);
            }
            // Another caller's fill lease is reread after joining the flight (by then that
            // caller has usually finished), and so is a stale value kept for
            // `stale_if_error`: what the miss path reuses holds no value it could hand out.
            let lease = bytes
                .as_deref()
                .is_some_and(crate::store::redis::lease::shaped);
            if bytes.is_some() && (lease || site.stale_ok) {
                return Peek::Skipped;
            }
            return Peek::Got(Got { bytes, epoch });
        }
        let _ = (key, site);
        Peek::Skipped
    }
}
