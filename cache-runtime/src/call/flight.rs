//! Single flight per key: concurrent misses of one key share one run of the body.
//!
//! The first caller to [`Flights::join`] a key becomes its [`Leader`] and runs the body;
//! callers joining while it runs get a [`Waiter`]. The leader ends the flight one of three
//! ways, and every way removes the key from the map, so the map only holds keys with a
//! body in progress:
//!
//! * [`Leader::finish`] shares the value: waiters get [`Waited::Value`].
//! * [`Leader::fail`] (an `Err`/`None` outcome, or a value not to be cached): waiters get
//!   [`Waited::RunYourself`] and run their own bodies, as if there were no flight.
//! * Dropping the `Leader` (its future was cancelled, or the body panicked) *abandons* the
//!   flight: exactly one waiter gets [`Waited::Lead`] and runs the body, the others keep
//!   waiting for it. With no waiter left, the key is removed.
//!
//! Callers usually join after their own read of the key missed; a caller that found that
//! key being read joins before reading, with [`Flights::join_early`] (see
//! [`early`](crate::call::early)), while the flight's leader has not sent its read yet.
//!
//! Modelled on moka's `future/value_initializer.rs`, whose waiter states cover a panicking
//! init future (moka-rs/moka#43) and an aborted enclosing future (moka-rs/moka#59). Unlike
//! moka, no lock is held while the body runs (moka's leader holds a write lock on its
//! waiter): the state sits behind a short-lived `std::sync::Mutex`, and waiters sleep on a
//! [`Notify`]. A panic is not caught here: unwinding drops the `Leader`, which abandons the
//! flight, and one waiter takes it over with its own body.
//!
//! Lock order: the map, then a slot's state. No lock is held across an `.await`.

use std::any::Any;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// Flights by key. Hashed with foldhash (seeded per process) rather than std's SipHash:
/// a key is hashed twice per miss (start and end of its flight), and for keys of 60-100
/// bytes SipHash is a sizeable part of a miss's own work.
type Slots = HashMap<Arc<str>, Arc<Slot>, foldhash::fast::RandomState>;
type Map = Mutex<Slots>;

/// A value shared by a finished flight, of the type its leader was joined with.
type Shared = Arc<dyn Any + Send + Sync>;

/// The flights in progress of one cache, by key.
pub(crate) struct Flights {
    map: Arc<Map>,
}

/// One flight: how far it got, and who waits for it.
struct Slot {
    state: Mutex<State>,
    /// Woken on every change of `state.phase`.
    changed: Notify,
}

struct State {
    phase: Phase,
    /// Live [`Waiter`]s of this flight (not yet dropped nor answered).
    waiters: usize,
    /// Whether callers that have not read the key yet may still wait for this flight (see
    /// [`Flights::join_early`]): only until its leader sends its own first read.
    early: bool,
}

enum Phase {
    /// A leader is running the body.
    Running,
    /// The leader was dropped without an answer: the next waiter to look takes over.
    Abandoned,
    /// The leader answered: `Some` value to share, or `None` (run your own body).
    Done(Option<Shared>),
}

/// What joining a flight made of the caller.
pub(crate) enum Joined<V> {
    /// No flight was running: run the body, then [`Leader::finish`] or [`Leader::fail`].
    Leader(Leader<V>),
    /// A flight is running: [`Waiter::wait`] for its outcome.
    Waiter(Waiter<V>),
}

/// What a waiter is told when the flight it waited for ended.
pub(crate) enum Waited<V> {
    /// The leader's value.
    Value(V),
    /// The leader had no value to share: run the body without a flight.
    RunYourself,
    /// The leader was dropped and this caller takes its place: run the body, then
    /// [`Leader::finish`] or [`Leader::fail`].
    Lead(Leader<V>),
}

/// The caller running the body of a flight. Dropping it without [`finish`](Self::finish)
/// or [`fail`](Self::fail) abandons the flight to one of its waiters.
#[must_use = "dropping a `Leader` abandons its flight"]
pub(crate) struct Leader<V> {
    /// `None` once the flight was ended.
    flight: Option<Flight>,
    _value: PhantomData<fn() -> V>,
}

/// A caller waiting for the leader of a flight.
#[must_use = "a `Waiter` does nothing unless `wait`ed on"]
pub(crate) struct Waiter<V> {
    /// `None` once answered (or handed over to a `Leader`).
    flight: Option<Flight>,
    _value: PhantomData<fn() -> V>,
}

/// A handle on one slot of the map, held by its leader and each of its waiters.
struct Flight {
    map: Arc<Map>,
    key: Arc<str>,
    slot: Arc<Slot>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held; a poisoned lock still has a sound state.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Flights {
    /// No flights.
    pub(crate) fn new() -> Self {
        Flights {
            map: Arc::new(Mutex::new(Slots::default())),
        }
    }

    /// Joins the flight of `key`: the first caller becomes the leader, later ones wait.
    ///
    /// Also the leader when the running flight was abandoned and none of its waiters has
    /// taken it over yet.
    pub(crate) fn join<V: Clone + Send + Sync + 'static>(&self, key: &str) -> Joined<V> {
        let mut map = lock(&self.map);
        if let Some((key, slot)) = map.get_key_value(key) {
            let flight = self.handle(key, slot);
            let mut state = lock(&flight.slot.state);
            match state.phase {
                Phase::Running => {
                    state.waiters += 1;
                    drop(state);
                    return Joined::Waiter(Waiter::new(flight));
                }
                Phase::Abandoned => {
                    state.phase = Phase::Running;
                    drop(state);
                    return Joined::Leader(Leader::new(flight));
                }
                // Ended flights leave the map; replace a stray one with a new flight.
                Phase::Done(_) => {}
            }
        }
        self.start(&mut map, key, false)
    }

    /// Joins the flight of `key` *before* reading it, for a caller that found another read
    /// of its key in progress (see [`early`](crate::call::early)): it waits for a flight whose
    /// leader has not sent its first read yet, or starts one (open to such callers until
    /// [`Leader::close_early`]). `None`: a flight is running that it may not join this way
    /// (its leader has read already, or left it); the caller reads for itself.
    ///
    /// A caller that waits here takes a value read or computed after it joined, so it never
    /// gets a value from before an invalidation that finished before it started.
    pub(crate) fn join_early<V: Clone + Send + Sync + 'static>(
        &self,
        key: &str,
    ) -> Option<Joined<V>> {
        let mut map = lock(&self.map);
        let Some((key_arc, slot)) = map.get_key_value(key) else {
            return Some(self.start(&mut map, key, true));
        };
        let mut state = lock(&slot.state);
        if !(state.early && matches!(state.phase, Phase::Running)) {
            return None;
        }
        state.waiters += 1;
        drop(state);
        Some(Joined::Waiter(Waiter::new(self.handle(key_arc, slot))))
    }

    /// A handle on the flight of `key` in `slot`, for its leader or one of its waiters.
    fn handle(&self, key: &Arc<str>, slot: &Arc<Slot>) -> Flight {
        Flight {
            map: Arc::clone(&self.map),
            key: Arc::clone(key),
            slot: Arc::clone(slot),
        }
    }

    /// A new flight of `key`, led by the caller; `early`: open to [`Flights::join_early`].
    fn start<V>(&self, map: &mut Slots, key: &str, early: bool) -> Joined<V> {
        let key: Arc<str> = Arc::from(key);
        let slot = Arc::new(Slot {
            state: Mutex::new(State {
                phase: Phase::Running,
                waiters: 0,
                early,
            }),
            changed: Notify::new(),
        });
        let flight = self.handle(&key, &slot);
        map.insert(key, slot);
        Joined::Leader(Leader::new(flight))
    }

    /// Keys with a flight in progress.
    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.map).len()
    }
}

impl Default for Flights {
    fn default() -> Self {
        Flights::new()
    }
}

impl Flight {
    /// Removes this flight's slot from the map (not a newer flight of the same key).
    fn unmap(&self, map: &mut Slots) {
        if map
            .get(&*self.key)
            .is_some_and(|slot| Arc::ptr_eq(slot, &self.slot))
        {
            map.remove(&*self.key);
        }
    }

    /// The leader's end of the flight: `Done` or `Abandoned`.
    fn end(&self, phase: Phase) {
        let mut map = lock(&self.map);
        let mut state = lock(&self.slot.state);
        // An abandoned flight stays mapped while a waiter may take it over.
        let unmap = !matches!(phase, Phase::Abandoned) || state.waiters == 0;
        state.phase = phase;
        drop(state);
        if unmap {
            self.unmap(&mut map);
        }
        drop(map);
        self.slot.changed.notify_waiters();
    }

    /// A waiter leaves without an answer: the last one out of an abandoned flight unmaps it.
    fn leave(&self) {
        let mut map = lock(&self.map);
        let mut state = lock(&self.slot.state);
        state.waiters = state.waiters.saturating_sub(1);
        let orphaned = matches!(state.phase, Phase::Abandoned) && state.waiters == 0;
        drop(state);
        if orphaned {
            self.unmap(&mut map);
        }
    }
}

impl<V> Leader<V> {
    fn new(flight: Flight) -> Self {
        Leader {
            flight: Some(flight),
            _value: PhantomData,
        }
    }

    /// Closes the flight to callers that have not read the key yet: called by a leader
    /// just before it sends its first read, so every early waiter joined before it.
    pub(crate) fn close_early(&self) {
        if let Some(flight) = &self.flight {
            lock(&flight.slot.state).early = false;
        }
    }

    /// Ends the flight without a value (the body returned `Err`/`None` or its value is not
    /// cached): every waiter is told to run its own body.
    pub(crate) fn fail(mut self) {
        if let Some(flight) = self.flight.take() {
            flight.end(Phase::Done(None));
        }
    }
}

impl<V: Clone + Send + Sync + 'static> Leader<V> {
    /// Shares the value with every waiter (and ends the flight).
    pub(crate) fn finish(mut self, value: V) {
        if let Some(flight) = self.flight.take() {
            flight.end(Phase::Done(Some(Arc::new(value))));
        }
    }

    /// Whether any caller waits for this flight now. A caller may still join until the
    /// flight ends: one told to [run its own body](Waited::RunYourself) then reads again.
    pub(crate) fn waited_on(&self) -> bool {
        self.flight
            .as_ref()
            .is_some_and(|flight| lock(&flight.slot.state).waiters > 0)
    }
}

impl<V> Drop for Leader<V> {
    fn drop(&mut self) {
        if let Some(flight) = self.flight.take() {
            flight.end(Phase::Abandoned);
        }
    }
}

impl<V> Waiter<V> {
    fn new(flight: Flight) -> Self {
        Waiter {
            flight: Some(flight),
            _value: PhantomData,
        }
    }
}

impl<V: Clone + Send + Sync + 'static> Waiter<V> {
    /// Waits for the leader to end the flight. Dropping the returned future (or the
    /// `Waiter`) leaves the flight; the others are unaffected.
    pub(crate) async fn wait(mut self) -> Waited<V> {
        let Some(slot) = self.flight.as_ref().map(|flight| Arc::clone(&flight.slot)) else {
            return Waited::RunYourself;
        };
        loop {
            // Registered before the state is read, so a change after the read still wakes.
            let mut changed = pin!(slot.changed.notified());
            changed.as_mut().enable();
            if let Some(waited) = self.check(&slot) {
                return waited;
            }
            changed.await;
        }
    }

    /// The answer, if the flight has one for this waiter yet.
    fn check(&mut self, slot: &Slot) -> Option<Waited<V>> {
        let mut state = lock(&slot.state);
        let shared = match &state.phase {
            Phase::Running => return None,
            Phase::Abandoned => {
                state.phase = Phase::Running;
                state.waiters = state.waiters.saturating_sub(1);
                drop(state);
                return Some(Waited::Lead(Leader {
                    flight: self.flight.take(),
                    _value: PhantomData,
                }));
            }
            Phase::Done(shared) => shared.clone(),
        };
        state.waiters = state.waiters.saturating_sub(1);
        drop(state);
        // Answered: the flight is already unmapped, `Drop` has nothing left to do.
        self.flight = None;
        // A failed downcast means one key was joined with two value types: run the body.
        Some(
            match shared.and_then(|shared| (*shared).downcast_ref::<V>().cloned()) {
                Some(value) => Waited::Value(value),
                None => Waited::RunYourself,
            },
        )
    }
}

impl<V> Drop for Waiter<V> {
    fn drop(&mut self) {
        if let Some(flight) = self.flight.take() {
            flight.leave();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use tokio::sync::Barrier;
    use tokio::time::{sleep, timeout};

    use super::*;

    /// How a caller got its value.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Role {
        /// Joined as the leader and ran the body.
        Led,
        /// Got the leader's value.
        Shared,
        /// Took over an abandoned flight and ran the body.
        TookOver,
        /// Told to run its own body.
        RanOwn,
    }

    /// What `cached_plain` will do with a join: lead, or wait and act on the answer.
    async fn settle<F, Fut>(joined: Joined<u64>, body: F) -> (u64, Role)
    where
        F: Fn() -> Fut,
        Fut: Future<Output = u64>,
    {
        let (leader, role) = match joined {
            Joined::Leader(leader) => (leader, Role::Led),
            Joined::Waiter(waiter) => match waiter.wait().await {
                Waited::Value(value) => return (value, Role::Shared),
                Waited::RunYourself => return (body().await, Role::RanOwn),
                Waited::Lead(leader) => (leader, Role::TookOver),
            },
        };
        let value = body().await;
        leader.finish(value);
        (value, role)
    }

    /// A body that counts its starts and completions.
    #[derive(Clone, Default)]
    struct Body {
        started: Arc<AtomicUsize>,
        completed: Arc<AtomicUsize>,
    }

    impl Body {
        async fn run(&self, took: Duration, value: u64) -> u64 {
            self.started.fetch_add(1, Ordering::SeqCst);
            sleep(took).await;
            self.completed.fetch_add(1, Ordering::SeqCst);
            value
        }

        fn counts(&self) -> (usize, usize) {
            (
                self.started.load(Ordering::SeqCst),
                self.completed.load(Ordering::SeqCst),
            )
        }
    }

    fn count(roles: &[Role], role: Role) -> usize {
        roles.iter().filter(|r| **r == role).count()
    }

    /// Callers that have not read may wait for a flight only until its leader closes it to
    /// them (when it sends its read); callers that read and missed may still join it, and
    /// all of them get its value.
    #[tokio::test(flavor = "current_thread")]
    async fn early_joins_end_when_the_leader_sends_its_read() {
        let flights = Flights::new();
        let Some(Joined::Leader(leader)) = flights.join_early::<u64>("k") else {
            unreachable!("the first early caller leads")
        };
        let Some(Joined::Waiter(early)) = flights.join_early::<u64>("k") else {
            unreachable!("a second early caller waits")
        };
        leader.close_early();
        assert!(flights.join_early::<u64>("k").is_none());
        let Joined::Waiter(late) = flights.join::<u64>("k") else {
            unreachable!("a caller that read and missed still waits")
        };
        // A flight started by a caller that read first is never open to early joins.
        let Joined::Leader(other) = flights.join::<u64>("other") else {
            unreachable!("no flight of this key yet")
        };
        assert!(flights.join_early::<u64>("other").is_none());
        other.fail();
        leader.finish(7);
        assert!(matches!(early.wait().await, Waited::Value(7)));
        assert!(matches!(late.wait().await, Waited::Value(7)));
        assert_eq!(flights.len(), 0);
    }

    /// An early leader dropped before it sent its read hands the flight to a waiter, which
    /// closes it to early joins in turn.
    #[tokio::test(flavor = "current_thread")]
    async fn an_early_flight_abandoned_before_its_read_is_taken_over() {
        let flights = Flights::new();
        let Some(Joined::Leader(leader)) = flights.join_early::<u64>("k") else {
            unreachable!("the first early caller leads")
        };
        let Some(Joined::Waiter(waiter)) = flights.join_early::<u64>("k") else {
            unreachable!("a second early caller waits")
        };
        drop(leader);
        // Abandoned: neither open to early joins nor answered yet.
        assert!(flights.join_early::<u64>("k").is_none());
        let Waited::Lead(heir) = waiter.wait().await else {
            unreachable!("the only waiter takes over")
        };
        heir.close_early();
        assert!(flights.join_early::<u64>("k").is_none());
        heir.finish(3);
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_body_for_a_thousand_callers() {
        const CALLERS: usize = 1_000;
        let flights = Arc::new(Flights::new());
        let body = Body::default();
        let barrier = Arc::new(Barrier::new(CALLERS));
        let tasks: Vec<_> = (0..CALLERS)
            .map(|_| {
                let (flights, body, barrier) = (flights.clone(), body.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let joined = flights.join::<u64>("k");
                    settle(joined, || body.run(Duration::from_millis(50), 42)).await
                })
            })
            .collect();
        let mut roles = Vec::with_capacity(CALLERS);
        for task in tasks {
            let (value, role) = task.await.unwrap_or_else(|e| unreachable!("{e}"));
            assert_eq!(value, 42);
            roles.push(role);
        }
        assert_eq!(body.counts(), (1, 1));
        assert_eq!(count(&roles, Role::Led), 1);
        assert_eq!(count(&roles, Role::Shared), CALLERS - 1);
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[allow(clippy::panic)] // the leader's body panics on purpose
    async fn a_panicking_leader_hands_over_to_one_waiter() {
        const WAITERS: usize = 100;
        let flights = Arc::new(Flights::new());
        let body = Body::default();
        let Joined::Leader(leader) = flights.join::<u64>("k") else {
            unreachable!("the first caller leads")
        };
        let waiters: Vec<_> = (0..WAITERS)
            .map(|_| match flights.join::<u64>("k") {
                Joined::Waiter(waiter) => waiter,
                Joined::Leader(_) => unreachable!("later callers wait"),
            })
            .collect();
        let crashed = tokio::spawn(async move {
            let _leader = leader;
            sleep(Duration::from_millis(20)).await;
            panic!("the body panicked");
        });
        let tasks: Vec<_> = waiters
            .into_iter()
            .map(|waiter| {
                let body = body.clone();
                tokio::spawn(async move {
                    let joined = Joined::Waiter(waiter);
                    let settled = settle(joined, || body.run(Duration::from_millis(20), 7));
                    timeout(Duration::from_secs(5), settled).await
                })
            })
            .collect();
        let crash = crashed.await.map(|_| ()).map_err(|e| e.is_panic());
        assert_eq!(crash, Err(true));
        let mut roles = Vec::with_capacity(WAITERS);
        for task in tasks {
            let settled = task.await.unwrap_or_else(|e| unreachable!("{e}"));
            let (value, role) = settled.unwrap_or_else(|_| unreachable!("a waiter hung"));
            assert_eq!(value, 7);
            roles.push(role);
        }
        assert_eq!(count(&roles, Role::TookOver), 1);
        assert_eq!(count(&roles, Role::Shared), WAITERS - 1);
        assert_eq!(body.counts(), (1, 1));
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_leader_hands_over_to_one_waiter() {
        let flights = Arc::new(Flights::new());
        let body = Body::default();
        let first = flights.join::<u64>("k");
        assert!(matches!(first, Joined::Leader(_)));
        let second = flights.join::<u64>("k");
        assert!(matches!(second, Joined::Waiter(_)));
        let start = Instant::now();
        let second = tokio::spawn({
            let body = body.clone();
            async move {
                let settled = settle(second, || body.run(Duration::from_millis(100), 9)).await;
                (settled, start.elapsed())
            }
        });
        // The leader's future is dropped 10 ms into its 100 ms body.
        let cancelled = timeout(
            Duration::from_millis(10),
            settle(first, || body.run(Duration::from_millis(100), 9)),
        )
        .await;
        assert!(cancelled.is_err());
        // Joins the flight the second caller took over, and shares its value.
        sleep(Duration::from_millis(10)).await;
        let third = flights.join::<u64>("k");
        assert!(matches!(third, Joined::Waiter(_)));
        let third = settle(third, || body.run(Duration::from_millis(100), 9)).await;

        let ((value, role), took) = second.await.unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((value, role), (9, Role::TookOver));
        assert!(took < Duration::from_secs(1), "{took:?}");
        assert!(took >= Duration::from_millis(100), "{took:?}");
        assert_eq!(third, (9, Role::Shared));
        // Started by the cancelled leader and by the second caller; completed once.
        assert_eq!(body.counts(), (2, 1));
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fail_tells_every_waiter_to_run_its_own_body() {
        const WAITERS: usize = 10;
        let flights = Arc::new(Flights::new());
        let body = Body::default();
        let Joined::Leader(leader) = flights.join::<u64>("k") else {
            unreachable!("the first caller leads")
        };
        let tasks: Vec<_> = (0..WAITERS)
            .map(|_| {
                let joined = flights.join::<u64>("k");
                assert!(matches!(joined, Joined::Waiter(_)));
                let body = body.clone();
                tokio::spawn(async move {
                    let settled = settle(joined, || body.run(Duration::from_millis(1), 3));
                    timeout(Duration::from_secs(5), settled).await
                })
            })
            .collect();
        sleep(Duration::from_millis(10)).await;
        leader.fail();
        assert_eq!(flights.len(), 0);
        let mut roles = Vec::with_capacity(WAITERS);
        for task in tasks {
            let settled = task.await.unwrap_or_else(|e| unreachable!("{e}"));
            let (_, role) = settled.unwrap_or_else(|_| unreachable!("a waiter hung"));
            roles.push(role);
        }
        assert_eq!(count(&roles, Role::RanOwn), WAITERS);
        assert_eq!(body.counts(), (WAITERS, WAITERS));
        // The next caller starts a new flight.
        assert!(matches!(flights.join::<u64>("k"), Joined::Leader(_)));
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn keys_fly_apart_and_leave_no_entries() {
        let flights = Arc::new(Flights::new());
        // A flight of "a" in progress does not hold up "b".
        let Joined::Leader(a) = flights.join::<u64>("a") else {
            unreachable!("the first caller leads")
        };
        let Joined::Leader(b) = flights.join::<u64>("b") else {
            unreachable!("another key leads too")
        };
        assert_eq!(flights.len(), 2);
        b.finish(2);
        assert_eq!(flights.len(), 1);
        a.finish(1);
        assert_eq!(flights.len(), 0);

        // Many flights of many keys at once.
        const KEYS: usize = 100;
        const CALLERS: usize = 10;
        let body = Body::default();
        let barrier = Arc::new(Barrier::new(KEYS * CALLERS));
        let tasks: Vec<_> = (0..KEYS * CALLERS)
            .map(|i| {
                let (flights, body, barrier) = (flights.clone(), body.clone(), barrier.clone());
                tokio::spawn(async move {
                    let key = format!("key {}", i % KEYS);
                    barrier.wait().await;
                    let joined = flights.join::<u64>(&key);
                    let value = (i % KEYS) as u64;
                    let took = Duration::from_millis(50);
                    (i, settle(joined, || body.run(took, value)).await)
                })
            })
            .collect();
        let started = Instant::now();
        let mut roles = Vec::with_capacity(KEYS * CALLERS);
        for task in tasks {
            let (i, (value, role)) = task.await.unwrap_or_else(|e| unreachable!("{e}"));
            assert_eq!(value, (i % KEYS) as u64);
            roles.push(role);
        }
        // The 100 bodies ran side by side, not one after another (5 s).
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(body.counts(), (KEYS, KEYS));
        assert_eq!(count(&roles, Role::Led), KEYS);
        assert_eq!(count(&roles, Role::Shared), KEYS * (CALLERS - 1));
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropped_waiters_and_leaders_leave_no_entries() {
        let flights = Flights::new();
        // A leader dropped with no waiter.
        drop(flights.join::<u64>("k"));
        assert_eq!(flights.len(), 0);

        // Waiters dropped while waiting, then the leader dropped.
        let leader = flights.join::<u64>("k");
        let waiter = flights.join::<u64>("k");
        let Joined::Waiter(waiting) = flights.join::<u64>("k") else {
            unreachable!("later callers wait")
        };
        let gave_up = timeout(Duration::from_millis(10), waiting.wait()).await;
        assert!(gave_up.is_err());
        drop(waiter);
        drop(leader);
        assert_eq!(flights.len(), 0);

        // An abandoned flight nobody took over yet is led by the next caller.
        let leader = flights.join::<u64>("k");
        let waiter = flights.join::<u64>("k");
        drop(leader);
        assert_eq!(flights.len(), 1);
        let Joined::Leader(next) = flights.join::<u64>("k") else {
            unreachable!("an abandoned flight is led by the next caller")
        };
        next.finish(5);
        let Joined::Waiter(waiter) = waiter else {
            unreachable!("the second caller waits")
        };
        assert!(matches!(waiter.wait().await, Waited::Value(5)));
        assert_eq!(flights.len(), 0);
    }

    #[tokio::test]
    async fn a_value_of_another_type_is_not_shared() {
        let flights = Flights::new();
        let Joined::Leader(leader) = flights.join::<u64>("k") else {
            unreachable!("the first caller leads")
        };
        let Joined::Waiter(waiter) = flights.join::<String>("k") else {
            unreachable!("later callers wait")
        };
        leader.finish(1);
        assert!(matches!(waiter.wait().await, Waited::RunYourself));
        assert_eq!(flights.len(), 0);
    }
}
