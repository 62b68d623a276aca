//! One cached call, shared by `#[cached]` and [`Cache::get_or_compute`]: L1 → store → single
//! flight → fill lease → body → fill; or, bypassing the cache, single flight → fill lease →
//! body → fill (see [`bypass`]).
//!
//! Its modules, in the order one call runs through them:
//! - [`policy`]: what the call site asks for, and how its result relates to the value.
//! - The in-process hit: L1 in front of Redis ([`tier`](crate::tier)), or the memory store.
//! - [`read_mode`](crate::observe::read_mode): whether the first Redis read is a GET or the
//!   fill lease command (a streak kept with each namespace's record).
//! - [`early`]: a caller whose key is being read waits for that read.
//! - [`peek`]: the first Redis read, before single flight: a hit returns from it.
//! - [`flight`]: single flight, one body per key per process; the invalidation
//!   [`marks`](crate::tier::marks) tell whether its value may be handed to the callers
//!   waiting on it.
//! - [`fill`]: the miss: read or lease, run the body, store the value under the lease.
//! - [`value`](crate::codec::value): the miss path's values, their type erased so that it
//!   is compiled once.
//! - [`refresh`]: refresh-ahead and `soft_timeout` in the background; [`bypass`]: a call
//!   that skips the read.

pub(crate) mod bypass;
pub(crate) mod early;
pub(crate) mod fill;
pub(crate) mod flight;
pub(crate) mod peek;
pub(crate) mod policy;
pub(crate) mod refresh;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::cache::Cache;
use crate::call::fill::{FillSite, Pending};
use crate::call::flight::{Joined, Leader, Waited};
use crate::call::peek::Peek;
pub(crate) use crate::call::policy::{Policy, Shape};
use crate::codec::value::{self, Erased, Typed, ValueType};
use crate::observe::Served;
use crate::tier::fallback::Since;
use crate::CacheValue;

/// How a call treats what is stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Served from the cache when it can be.
    Read,
    /// As `Read`, past the hits without I/O, which the caller found none of (a `#[cached]`
    /// call looks for them before it makes its future).
    PastHits,
    /// Bypassing the cache (see [`bypass`]): no read served; single flight, fill lease, body,
    /// fill.
    Bypass,
    /// Without the cache: the body runs, nothing is read or stored (a `#[cached]` call whose
    /// key could not be built).
    Off,
}

/// Who makes a call: its key, how it reads, and what it does once the call is served
/// (a `#[cached]` call counts and logs itself). Not generic, so that what it does is
/// compiled once, in this crate.
pub(crate) trait Caller: Send + Sync {
    /// The key of the call.
    fn key(&self) -> &str;
    /// Whether, once the call is past L1, its namespace reads Redis with the fill lease first
    /// (see [`read_mode`](crate::observe::read_mode)).
    fn lease_first(&self, cache: &Cache) -> bool;
    /// The call was served as `served`.
    fn done(self, cache: &Cache, served: Served)
    where
        Self: Sized;
}

/// A call of the manual API ([`Cache::get_or_compute`] and its kin): its key, plain GETs
/// first (keys of every kind share this path: no streak of misses to go by), nothing to
/// report.
pub(crate) struct Manual<'a>(pub(crate) &'a str);

impl Caller for Manual<'_> {
    fn key(&self) -> &str {
        self.0
    }

    fn lease_first(&self, _: &Cache) -> bool {
        false
    }

    fn done(self, _: &Cache, _: Served) {}
}

/// A hit without I/O, if any: L1 in front of Redis, or the memory store itself.
#[inline]
pub(crate) fn in_process_hit<V: CacheValue>(
    cache: &Cache,
    key: &str,
    policy: &Policy,
) -> Option<(V, Served)> {
    if policy.l1 {
        if let Some(value) = cache.l1_get::<V>(key) {
            return Some((value, Served::L1));
        }
    }
    let fresh_ttl = cache.ttl_or_default(policy.ttl);
    let value = cache.memory_hit::<V>(key, fresh_ttl, policy.stale_for.is_some())?;
    Some((value, Served::Store))
}

/// Runs one cached call of its caller's key, and tells the caller how it was served.
///
/// Generic only where it must be: the in-process hits, and the body between the two halves
/// of the miss path ([`begin`], [`Miss::end`]), which are compiled once, in this crate, for
/// every value type (see [`value`](crate::codec::value)).
pub(crate) async fn run<V, R, F, C>(
    cache: &Cache,
    policy: &Policy,
    mode: Mode,
    caller: C,
    tags: Vec<String>,
    body: F,
    shape: Shape<R, V>,
) -> R
where
    V: CacheValue,
    F: Future<Output = R>,
    C: Caller,
{
    let (result, served) = 'call: {
        let key = caller.key();
        let begun = match mode {
            Mode::Off => None,
            Mode::Read | Mode::Bypass | Mode::PastHits => {
                let reads = mode != Mode::Bypass;
                // Hits without I/O come first, before any flight bookkeeping: L1 in front of
                // Redis, or the memory store itself. A bypassing call takes none.
                if mode == Mode::Read {
                    if let Some((value, served)) = in_process_hit::<V>(cache, key, policy) {
                        break 'call ((shape.from_value)(value), served);
                    }
                }
                let fresh_ttl = cache.ttl_or_default(policy.ttl);
                let reader = reads.then_some(&caller as &dyn Caller);
                let ty = ValueType::of::<V>();
                Some(begin(cache, key, policy, reader, &tags, fresh_ttl, ty).await)
            }
        };
        let miss = match begun {
            Some(Begun::Served(value, served)) => match value::take::<V>(value) {
                Some(value) => break 'call ((shape.from_value)(value), served),
                // Never: the miss path hands back values of the type it was given.
                None => None,
            },
            Some(Begun::Run(miss)) => Some(miss),
            None => None,
        };
        // The one place the body is awaited.
        let result = body.await;
        let Some(miss) = miss else {
            break 'call (result, Served::Failed);
        };
        let value = (shape.cacheable)(&result).map(|value| value as &dyn Erased);
        match miss.end(value, (shape.failed)(&result)).await {
            Ended::Stale(stale) => match value::take::<V>(stale) {
                Some(stale) => ((shape.from_value)(stale), Served::Stale),
                None => (result, Served::Failed),
            },
            Ended::Done(served) => (result, served),
        }
    };
    caller.done(cache, served);
    result
}

/// The miss path of a call up to its body, boxed: store → single flight → fill lease for the
/// call of `reader`, or, without one, a bypassing call's single flight and lease (see
/// [`bypass`]).
///
/// Boxed here, in a fn that is not generic, so that it is compiled once, in this crate: a
/// `#[cached]` fn polls it through its vtable. Awaited from the generic call path instead,
/// its state machine (with the Redis reads, the flight and the lease under it) would be
/// compiled again in every crate with a `#[cached]` fn.
fn begin<'a>(
    cache: &'a Cache,
    key: &'a str,
    policy: &'a Policy,
    reader: Option<&'a dyn Caller>,
    tags: &'a [String],
    fresh_ttl: Duration,
    ty: ValueType,
) -> Pin<Box<dyn Future<Output = Begun<'a>> + Send + 'a>> {
    match reader {
        Some(reader) => Box::pin(Miss::begin(cache, key, policy, reader, tags, fresh_ttl, ty)),
        None => Box::pin(bypass::begin(cache, key, policy, tags, fresh_ttl)),
    }
}

/// How [`Miss::begin`] left a call.
// Returned once per call past the in-process hits and moved once: boxing the miss would
// cost an allocation per miss.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Begun<'a> {
    /// Served without running the body: by the store, or by another caller's body.
    Served(Typed, Served),
    /// The body runs; then [`Miss::end`].
    Run(Miss<'a>),
}

/// How [`Miss::end`] left a call.
pub(crate) enum Ended {
    /// The body failed and this stale value stands in for it (`stale_if_error`).
    Stale(Typed),
    /// The body's result stands, served as this.
    Done(Served),
}

/// A call whose body runs: what it holds meanwhile (its place in the single flight, its
/// fill lease), given back if the call is dropped.
pub(crate) struct Miss<'a> {
    cache: &'a Cache,
    key: &'a str,
    leader: Option<Leader<Shared>>,
    kind: MissKind<'a>,
}

enum MissKind<'a> {
    /// The store failed: the body runs without it. The callers waiting on this one get its
    /// value rather than asking the failing store again and waiting out its timeout, unless
    /// an invalidation came meanwhile.
    Unstored {
        site: FillSite<'a>,
        mark: u64,
        /// While the breaker skips Redis: when the value may go to the outage fallback.
        since: Option<Since>,
    },
    /// A miss: the value is stored under the lease in `pending`, if it still holds.
    Fill {
        pending: Pending,
        site: FillSite<'a>,
        /// The invalidation mark taken before the body ran.
        mark: u64,
        /// The mark taken before the store was read.
        read_mark: u64,
        /// `stale_if_error`: the stale value that stands in for a failing body.
        stale: Option<Typed>,
    },
    /// A call that bypasses the cache (see [`bypass`]).
    Bypass {
        pending: Pending,
        site: FillSite<'a>,
        mark: u64,
        /// Whether the fill replaces a stored value (whose copies then go everywhere).
        replaces: bool,
    },
}

impl<'a> Miss<'a> {
    /// The part of a call past the in-process hits, up to its body: store → single flight →
    /// fill lease.
    async fn begin(
        cache: &'a Cache,
        key: &'a str,
        policy: &Policy,
        reader: &dyn Caller,
        tags: &'a [String],
        fresh_ttl: Duration,
        ty: ValueType,
    ) -> Begun<'a> {
        // A namespace whose calls keep missing sends the fill lease as its first read: no GET
        // before it, no read shared before the flight.
        let lease_first =
            cache.reads_before_flight() && reader.lease_first(cache) && !cache.writes_refused();
        let mut fill_site = FillSite::new(cache, policy, tags, fresh_ttl, lease_first);
        // On Redis, one GET before any flight bookkeeping: a hit returns from it. The GET is
        // counted in its key's slot, and a caller that finds another read of its slot in
        // progress joins the flight *before* reading: as a waiter, or as a leader that reads
        // for the callers arriving in the same instant (see `early`).
        let mut reading = (!lease_first).then(|| cache.inner.reads.begin(key));
        let mut early = None;
        if reading
            .as_ref()
            .is_some_and(crate::call::early::Reading::busy)
            && cache.reads_before_flight()
        {
            // Boxed, so that the hit path's future does not hold this rare branch's state.
            match Box::pin(join_early(cache, key, &mut reading)).await {
                Early::Coalesced(value) => return Begun::Served(value, Served::Coalesced),
                Early::Lead(leader, takeover) => early = Some((leader, takeover)),
                Early::Read => {}
            }
        }
        // A value shared through the flight is only taken by a waiter if no invalidation came
        // since its source was read (see `Shared`). An early leader, which may share what its
        // GET finds, takes that mark before the GET, and closes its flight to callers that
        // have not read.
        let early = early.map(|(leader, takeover)| {
            leader.close_early();
            (leader, takeover, cache.invalidation_mark(key))
        });
        let peeked = match early {
            // Taking over from a dropped leader: the miss path reads again (and may adopt its
            // lease).
            Some((_, true, _)) => Peek::Skipped,
            // Read after joining the flight, with the lease command.
            _ if lease_first => Peek::Skipped,
            _ => cache.peek(key, &fill_site, ty).await,
        };
        drop(reading);
        #[cfg(feature = "redis")]
        let peeked = match peeked {
            Peek::Hit(value) => {
                if let Some((leader, _, mark)) = early {
                    share(Some(leader), &value, mark);
                }
                return Begun::Served(value, Served::Store);
            }
            peeked => peeked,
        };
        // Otherwise taken after the GET, and off the hit path: what the miss path reuses of
        // that GET holds no value (nothing, or unreadable bytes), so every value it shares is
        // read or computed after this.
        let start_mark = match &early {
            Some((_, _, mark)) => *mark,
            None => cache.invalidation_mark(key),
        };
        // Concurrent misses of this key in this process share one body. A leader that is
        // dropped (cancelled, or its body panicked) hands the flight to one of its waiters.
        let (leader, takeover) = match early {
            Some((leader, takeover, _)) => (Some(leader), takeover),
            None => match cache.inner.flights.join::<Shared>(key) {
                Joined::Leader(leader) => (Some(leader), false),
                Joined::Waiter(waiter) => match waiter.wait().await {
                    Waited::Value(shared) if cache.invalidation_mark(key) == shared.mark => {
                        cache.count_coalesced();
                        return Begun::Served(shared.value, Served::Coalesced);
                    }
                    // An invalidation came after the leader read or computed its value: this
                    // caller may have started after it, so it reads again, without a flight.
                    Waited::Value(_) => (None, false),
                    Waited::Lead(leader) => (Some(leader), true),
                    Waited::RunYourself => (None, false),
                },
            },
        };
        fill_site.ttl =
            cache.jittered(fresh_ttl, policy.jitter_ppm) + policy.stale_for.unwrap_or_default();
        fill_site.takeover = takeover;
        // What the GET found is only current for a caller that did not wait.
        let fresh_read = leader.is_some() && !takeover;
        let read_mark = if fresh_read {
            start_mark
        } else {
            cache.invalidation_mark(key)
        };
        let read = match peeked {
            // The store failed: run the body without it (the error is counted and logged).
            #[cfg(feature = "redis")]
            Peek::Failed if fresh_read => Err(()),
            #[cfg(feature = "redis")]
            Peek::Got(got) if fresh_read => cache
                .read_for_fill(key, &fill_site, Some(got), ty)
                .await
                .map_err(drop),
            _ => cache
                .read_for_fill(key, &fill_site, None, ty)
                .await
                .map_err(drop),
        };
        let kind = match read {
            Ok(read) => match read.fresh {
                Some(value) => {
                    share(leader, &value, read_mark);
                    return Begun::Served(value, Served::Store);
                }
                None => MissKind::Fill {
                    pending: Pending::new(cache, key, read.fill),
                    site: fill_site,
                    mark: cache.invalidation_mark(key),
                    read_mark,
                    stale: read.stale,
                },
            },
            Err(()) => {
                // While the breaker skips Redis, the outage fallback (if on) serves what this
                // process computed since, and keeps what it computes now.
                if let Some(value) = cache.fallback_get(key, ty) {
                    share(leader, &value, read_mark);
                    return Begun::Served(value, Served::L1);
                }
                MissKind::Unstored {
                    since: cache.fallback_since(key),
                    mark: cache.invalidation_mark(key),
                    site: fill_site,
                }
            }
        };
        Begun::Run(Miss {
            cache,
            key,
            leader,
            kind,
        })
    }

    /// The part of a call after its body: `value` is the part of its result to store (if
    /// any), `failed` whether the result is a failure a stale value may replace. Boxed, as
    /// [`begin`] is, so that it is compiled once, in this crate.
    fn end<'v>(
        self,
        value: Option<&'v dyn Erased>,
        failed: bool,
    ) -> Pin<Box<dyn Future<Output = Ended> + Send + 'v>>
    where
        'a: 'v,
    {
        Box::pin(self.end_unboxed(value, failed))
    }

    async fn end_unboxed(self, value: Option<&dyn Erased>, failed: bool) -> Ended {
        let Miss {
            cache,
            key,
            leader,
            kind,
        } = self;
        match kind {
            MissKind::Unstored { site, mark, since } => {
                match value {
                    Some(value) => {
                        if let Some(since) = since {
                            cache.fallback_put(key, value, site.ttl, site.tags, since);
                        }
                        share_computed(leader, value, mark);
                    }
                    None => fail(leader),
                }
                Ended::Done(Served::Failed)
            }
            MissKind::Fill {
                mut pending,
                site,
                mark,
                read_mark,
                stale,
            } => {
                if let Some(stale) = stale.filter(|_| failed) {
                    // `stale_if_error`: the body failed and a stale value exists: serve it,
                    // keep it.
                    drop(pending);
                    share(leader, &stale, read_mark);
                    cache.count_stale_served();
                    return Ended::Stale(stale);
                }
                let verdict = cache.fill(key, pending.take(), value, &site).await;
                match value {
                    // The lease saw an invalidation while the body ran: never shared.
                    Some(_) if verdict == Some(false) => fail(leader),
                    Some(value) => share_computed(leader, value, mark),
                    // Errors are not shared: each waiter runs its own body.
                    None => fail(leader),
                }
                Ended::Done(Served::Miss)
            }
            MissKind::Bypass {
                mut pending,
                site,
                mark,
                replaces,
            } => {
                bypass::end(
                    cache,
                    key,
                    leader,
                    &mut pending,
                    &site,
                    mark,
                    replaces,
                    value,
                )
                .await;
                Ended::Done(Served::Bypass)
            }
        }
    }
}

/// What joining the flight before reading made of a caller.
enum Early {
    /// It waited, and takes the value of the flight's leader.
    Coalesced(Typed),
    /// It leads the flight (`true`: taken over from a dropped leader).
    Lead(Leader<Shared>, bool),
    /// It reads for itself, as if no flight were running.
    Read,
}

/// Joins the flight of `key` before reading it (see [`early`](crate::call::early)). A new leader
/// yields once, so that the callers arriving in this instant join before its read goes out;
/// a waiter stops counting as a read of its slot (`reading`) while it waits.
async fn join_early(
    cache: &Cache,
    key: &str,
    reading: &mut Option<crate::call::early::Reading<'_>>,
) -> Early {
    match cache.inner.flights.join_early::<Shared>(key) {
        Some(Joined::Leader(leader)) => {
            tokio::task::yield_now().await;
            Early::Lead(leader, false)
        }
        Some(Joined::Waiter(waiter)) => {
            *reading = None;
            match waiter.wait().await {
                Waited::Value(shared) if cache.invalidation_mark(key) == shared.mark => {
                    cache.count_coalesced();
                    Early::Coalesced(shared.value)
                }
                Waited::Lead(leader) => Early::Lead(leader, true),
                // Nothing this caller may take: it reads for itself, as if it had not
                // waited.
                Waited::Value(_) | Waited::RunYourself => Early::Read,
            }
        }
        None => Early::Read,
    }
}

/// Resumes, on the caller's task, the panic of a body that ran on a spawned task.
pub(crate) fn resume(error: tokio::task::JoinError) -> ! {
    match error.try_into_panic() {
        Ok(panic) => std::panic::resume_unwind(panic),
        Err(error) => std::panic::resume_unwind(Box::new(error.to_string())),
    }
}

/// A value handed to the callers waiting on a miss, with the [invalidation
/// mark](Cache::invalidation_mark) taken before its source was read (or its body ran). A
/// waiter takes it only if the mark has not moved since: otherwise an invalidation came after
/// the value was read, and the waiter, which may have started after that invalidation,
/// reads again. (Checking on the leader's side instead leaves a window between its check and
/// the hand-over in which an invalidation and a new waiter can both arrive.)
#[derive(Clone)]
struct Shared {
    value: Typed,
    mark: u64,
}

/// Ends the flight of `leader` with `value`. With nobody waiting, nothing is copied: a
/// caller joining after the check is told to run its own body, and reads the key again.
fn share(leader: Option<Leader<Shared>>, value: &Typed, mark: u64) {
    match leader {
        Some(leader) if leader.waited_on() => leader.finish(Shared {
            value: Typed::clone(value),
            mark,
        }),
        Some(leader) => leader.fail(),
        None => {}
    }
}

/// [`share`] for a value the body computed: copied only if somebody waits.
fn share_computed(leader: Option<Leader<Shared>>, value: &dyn Erased, mark: u64) {
    match leader {
        Some(leader) if leader.waited_on() => leader.finish(Shared {
            value: value.to_typed(),
            mark,
        }),
        Some(leader) => leader.fail(),
        None => {}
    }
}

fn fail(leader: Option<Leader<Shared>>) {
    if let Some(leader) = leader {
        leader.fail();
    }
}

/// The detached call: hits inline (starting a refresh if one is due), a miss on a spawned
/// task that owns everything it needs, so dropping this future does not cancel the fill;
/// with `soft_timeout` and a stale value at hand, the caller waits at most that long. A
/// bypassing call takes no hit and spawns its miss; a call without the cache runs its body
/// inline. The caller is told how the call was served.
pub(crate) async fn run_detached<V, R, F, C>(
    cache: &Cache,
    policy: Policy,
    mode: Mode,
    caller: C,
    tags: Vec<String>,
    body: F,
    shape: Shape<R, V>,
) -> R
where
    V: CacheValue,
    R: Send + 'static,
    F: Future<Output = R> + Send + 'static,
    C: Caller,
{
    let (result, served) = 'call: {
        let key = caller.key();
        match mode {
            Mode::Read | Mode::PastHits => {}
            Mode::Bypass => {
                break 'call spawn_miss(cache, key, policy, None, tags, body, shape).await
            }
            Mode::Off => break 'call (body.await, Served::Failed),
        }
        let fresh_ttl = cache.ttl_or_default(policy.ttl);
        let hit = match policy.l1 {
            true => cache.l1_get::<V>(key).map(|v| (v, Served::L1)),
            false => None,
        }
        .or_else(|| {
            cache
                .memory_hit::<V>(key, fresh_ttl, policy.stale_for.is_some())
                .map(|v| (v, Served::Store))
        });
        if let Some((value, served_by)) = hit {
            if let Some(served) = policy
                .refresh
                .and_then(|age| cache.due_for_refresh(key, age))
            {
                cache.refresh_in_background(key, policy, tags, body, shape, served);
            }
            break 'call ((shape.from_value)(value), served_by);
        }
        // With `refresh`, a Redis hit is read here, where the body is still at hand.
        if let Some(age) = policy.refresh {
            if let Some((value, served)) = cache.peek_redis::<V>(key, fresh_ttl).await {
                if Cache::older_than(&served, age) {
                    cache.refresh_in_background(key, policy, tags, body, shape, served);
                }
                break 'call ((shape.from_value)(value), Served::Store);
            }
        }
        // With `soft_timeout` and a stale value at hand, the body gets that long; then the
        // stale value is returned and the body finishes (and fills) on its task.
        let stale = match policy.soft_timeout {
            Some(soft) => cache
                .peek_stale::<V>(key, fresh_ttl)
                .await
                .map(|stale| (soft, stale)),
            None => None,
        };
        let read = Some((caller.lease_first(cache), stale));
        spawn_miss(cache, key, policy, read, tags, body, shape).await
    };
    caller.done(cache, served);
    result
}

/// The miss of a detached call, on a spawned task: `read` is `None` for a bypassing call,
/// else whether it reads with the fill lease first and the stale value (with the time it
/// waits for the body) that stands in for a slow body.
async fn spawn_miss<V, R, F>(
    cache: &Cache,
    key: &str,
    policy: Policy,
    read: Option<(bool, Option<(Duration, V)>)>,
    tags: Vec<String>,
    body: F,
    shape: Shape<R, V>,
) -> (R, Served)
where
    V: CacheValue,
    R: Send + 'static,
    F: Future<Output = R> + Send + 'static,
{
    let (owned, owned_key) = (cache.clone(), key.to_owned());
    let (mode, lease_first, stale) = match read {
        Some((lease_first, stale)) => (Mode::Read, lease_first, stale),
        None => (Mode::Bypass, false, None),
    };
    let mut task = tokio::spawn(async move {
        let mut served = Served::Failed;
        let relay = Relay {
            key: &owned_key,
            lease_first,
            served: &mut served,
        };
        let result = run(&owned, &policy, mode, relay, tags, body, shape).await;
        (result, served)
    });
    let joined = match stale {
        Some((soft, stale)) => match tokio::time::timeout(soft, &mut task).await {
            Ok(joined) => joined,
            Err(_) => {
                cache.count_stale_served();
                return ((shape.from_value)(stale), Served::Stale);
            }
        },
        None => task.await,
    };
    match joined {
        Ok(result) => result,
        // The body panicked on its task: resume the panic here, as an inline call would.
        Err(error) => resume(error),
    }
}

/// The caller of a detached call's miss, on its task: hands back how it was served.
struct Relay<'a> {
    key: &'a str,
    lease_first: bool,
    served: &'a mut Served,
}

impl Caller for Relay<'_> {
    fn key(&self) -> &str {
        self.key
    }

    fn lease_first(&self, _: &Cache) -> bool {
        self.lease_first
    }

    fn done(self, _: &Cache, served: Served) {
        *self.served = served;
    }
}
