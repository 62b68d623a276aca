//! One cached call, shared by `#[cached]` and [`Cache::get_or_compute`]: L1 → store → single
//! flight → fill lease → body → fill.

use std::future::Future;
use std::time::Duration;

use crate::cache::Cache;
use crate::fill::{FillSite, Pending};
use crate::flight::{Joined, Waited};
use crate::CacheValue;

/// How a call is cached: what `#[cached]` arguments and [`ComputeOptions`](crate::ComputeOptions)
/// set.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub(crate) ttl: Option<Duration>,
    pub(crate) l1: bool,
    pub(crate) l1_ttl: Option<Duration>,
    pub(crate) lock: bool,
    /// `ttl_jitter`, in millionths; `None`: the cache's.
    pub(crate) jitter_ppm: Option<u32>,
}

impl Policy {
    pub(crate) const DEFAULT: Policy = Policy {
        ttl: None,
        l1: true,
        l1_ttl: None,
        lock: false,
        jitter_ppm: None,
    };
}

/// Runs one cached call of `key`.
pub(crate) async fn run<V, R, F>(
    cache: &Cache,
    key: &str,
    policy: &Policy,
    tags: Vec<String>,
    body: F,
    cacheable: fn(&R) -> Option<&V>,
    from_value: fn(V) -> R,
) -> R
where
    V: CacheValue,
    F: Future<Output = R>,
{
    // Hits without I/O come first, before any flight bookkeeping: L1 in front of Redis,
    // or the memory store itself.
    if policy.l1 {
        if let Some(value) = cache.l1_get::<V>(key) {
            return from_value(value);
        }
    }
    if let Some(value) = cache.memory_hit::<V>(key) {
        return from_value(value);
    }
    // Concurrent misses of this key in this process share one body. A leader that is
    // dropped (cancelled, or its body panicked) hands the flight to one of its waiters.
    let (leader, takeover) = match cache.inner.flights.join::<V>(key) {
        Joined::Leader(leader) => (Some(leader), false),
        Joined::Waiter(waiter) => match waiter.wait().await {
            Waited::Value(value) => {
                cache.count_coalesced();
                return from_value(value);
            }
            Waited::Lead(leader) => (Some(leader), true),
            Waited::RunYourself => (None, false),
        },
    };
    let fill_site = FillSite {
        ttl: cache.jittered(cache.ttl_or_default(policy.ttl), policy.jitter_ppm),
        l1: policy.l1,
        l1_ttl: policy.l1_ttl,
        tags: &tags,
        takeover,
        lock: policy.lock.then(|| cache.lock_wait()),
    };
    let fill = match cache.read_for_fill::<V>(key, &fill_site).await {
        Ok((Some(value), _)) => {
            if let Some(leader) = leader {
                leader.finish(&value);
            }
            return from_value(value);
        }
        Ok((None, fill)) => fill,
        // Counted and logged by the read; fail open.
        Err(_) => {
            if let Some(leader) = leader {
                leader.fail();
            }
            return body.await;
        }
    };
    let mut pending = Pending::new(cache, key, fill);
    let result = body.await;
    let value = cacheable(&result);
    let shareable = cache.fill(key, pending.take(), value, &fill_site).await;
    if let Some(leader) = leader {
        match value {
            Some(value) if shareable => leader.finish(value),
            // Errors are not shared (each waiter runs its own body), and neither is a value
            // an invalidation overtook: a waiter may have joined after that invalidation.
            _ => leader.fail(),
        }
    }
    result
}
