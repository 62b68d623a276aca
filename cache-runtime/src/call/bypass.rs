//! A call that bypasses the cache: in a [`RequestScope`](crate::scope::RequestScope) with
//! bypass (what `web::CacheLayer` opens for a request the application lets bypass), a
//! `#[cached]` call serves no cached value, but is a miss in every other way.
//!
//! * It joins the key's single flight: concurrent bypassing (and missing) callers of one key
//!   share one run of the body, and a caller waiting on a bypassing leader takes its fresh
//!   value.
//! * It takes the fill lease before the body runs, also over a value that is stored (on
//!   Redis: the value read by the lease command stands for the lease, and the fill stores
//!   only if the key still holds exactly those bytes), so a bypass racing an invalidation
//!   never stores its now stale value.
//! * A value it replaces is dropped from every process's L1 (one backplane message per body
//!   run, however many callers share it).

use std::time::Duration;

use crate::cache::Cache;
use crate::call::fill::{FillSite, Pending};
use crate::call::flight::{Joined, Leader, Waited};
use crate::call::{fail, share_computed, Begun, Miss, MissKind, Policy, Shared};
use crate::codec::value::Erased;
use crate::observe::Served;
use crate::tier::backplane::Forget;

/// The part of a bypassing call up to its body: single flight, then the fill lease.
pub(super) async fn begin<'a>(
    cache: &'a Cache,
    key: &'a str,
    policy: &Policy,
    tags: &'a [String],
    fresh_ttl: Duration,
) -> Begun<'a> {
    let mut site = FillSite::new(cache, policy, tags, fresh_ttl, false);
    let (leader, takeover) = match cache.inner.flights.join::<Shared>(key) {
        Joined::Leader(leader) => (Some(leader), false),
        Joined::Waiter(waiter) => match waiter.wait().await {
            // The leader's value, read or computed after this caller joined, unless an
            // invalidation came since.
            Waited::Value(shared) if cache.invalidation_mark(key) == shared.mark => {
                return Begun::Served(shared.value, Served::Bypass);
            }
            Waited::Lead(leader) => (Some(leader), true),
            Waited::Value(_) | Waited::RunYourself => (None, false),
        },
    };
    site.ttl = cache.jittered(fresh_ttl, policy.jitter_ppm) + policy.stale_for.unwrap_or_default();
    site.takeover = takeover;
    let fill = cache.lease_over(key, &site).await;
    let replaces = fill.replaces();
    let pending = Pending::new(cache, key, fill);
    Begun::Run(Miss {
        cache,
        key,
        leader,
        kind: MissKind::Bypass {
            pending,
            site,
            mark: cache.invalidation_mark(key),
            replaces,
        },
    })
}

/// The part of a bypassing call after its body: the fill, and the callers waiting on it.
#[allow(clippy::too_many_arguments)]
pub(super) async fn end(
    cache: &Cache,
    key: &str,
    leader: Option<Leader<Shared>>,
    pending: &mut Pending,
    site: &FillSite<'_>,
    mark: u64,
    replaces: bool,
    value: Option<&dyn Erased>,
) {
    let verdict = cache.fill(key, pending.take(), value, site).await;
    match (value, verdict) {
        // The lease saw an invalidation while the body ran: never shared.
        (Some(_), Some(false)) | (None, _) => fail(leader),
        (Some(value), Some(true)) if replaces => {
            // The replaced value's copies go: from L1 here, which moves the key's mark by
            // one, then elsewhere through the backplane. The callers waiting on this one
            // take the value if nothing else moved the mark since the body started.
            let forget = Forget::Key(key);
            cache.forget_here(forget);
            let ours = mark.wrapping_add(1);
            if cache.invalidation_mark(key) == ours {
                share_computed(leader, value, ours);
            } else {
                fail(leader);
            }
            cache.publish_forget(forget).await;
        }
        (Some(value), _) => share_computed(leader, value, mark),
    }
}
