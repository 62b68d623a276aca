//! Concurrent GETs on one Redis node merged into MGETs, with no added latency when idle.
//!
//! While the cache is *quiet*, a GET that finds fewer than `max_in_flight` reads in flight
//! (default 2, `CacheBuilder::max_reads_in_flight`) is sent at once, alone: an idle or
//! lightly loaded cache pays nothing, and its GETs pipeline on the connection. A
//! GET that finds them all in flight *gathers* a batch: it yields to the runtime once, so
//! that the other tasks ready in the same instant run, and every GET they make joins its
//! batch; then it sends one MGET for all of them (up to [`MAX_BATCH`] keys) and hands each
//! its value. A GET that finds the open batch full seals it (its gatherer still sends it)
//! and gathers the next one.
//!
//! A gather marks the cache *busy*, and while it is busy the first GET of an instant gathers
//! too instead of going out alone. Otherwise every instant of a loaded cache would send its
//! first GETs alone and its batch after them: the gatherer's yield lets redis-rs write those
//! GETs before the MGET exists, so the instant costs two or three socket writes and driver
//! wake-ups where per-call GETs pipeline into one. A busy gather that nobody joined makes the
//! cache quiet again, so a caller left alone pays one yield, once.
//!
//! Nobody waits for a read ahead of it to finish, so a batch costs its callers one turn of
//! the scheduler (under a microsecond), never a round trip; the server parses one command
//! instead of dozens, and the client arms one deadline and writes one frame per batch.
//! Callers that wait for their value anyway do the work: no task is spawned.
//!
//! A gathering caller that is dropped before it sends hands its batch to the first of its
//! callers still waiting, which sends it; the callers of a batch whose MGET was dropped
//! half-way are told so and read on their own. A batch that fails (Redis down or hung past
//! the deadline) fails each of its callers with its error. One difference from GET: MGET
//! reads a key holding another Redis type as nil (GET answers WRONGTYPE). For a `#[cached]`
//! call that is still found out: its miss takes the fill lease, which meets the foreign
//! key, so it is dropped as unreadable, as a GET would have it (`read_or_lease`).

use std::sync::Mutex;

use tokio::sync::oneshot;

use super::RedisStore;
use crate::error::{Error, Result};

/// The most keys in one MGET.
const MAX_BATCH: usize = 128;

type Reply = Result<Option<Vec<u8>>>;

/// A caller waiting for its value.
struct Waiter {
    key: Box<str>,
    tx: oneshot::Sender<Handoff>,
}

/// What a waiting caller is handed.
enum Handoff {
    /// Its value (or the batch's error).
    Done(Reply),
    /// The batch, whose gathering caller was dropped: it sends one MGET for its key and
    /// these callers'.
    Lead(Vec<Waiter>),
}

/// The callers that joined one gathering caller.
struct Batch {
    /// Tells the batches of the gatherers yielding at once apart.
    id: u64,
    waiters: Vec<Waiter>,
}

#[derive(Default)]
struct State {
    /// Reads (GETs and MGETs) sent and not yet answered.
    in_flight: usize,
    /// Whether the first GET of an instant gathers (see the module doc).
    busy: bool,
    /// The batch GETs join, while one is being gathered.
    open: Option<Batch>,
    /// Full batches whose gatherers have not resumed yet.
    sealed: Vec<Batch>,
    /// The id of the next batch.
    next_id: u64,
}

impl State {
    /// Opens a new batch; the one open before, if any, is sealed.
    fn open_batch(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let full = self.open.replace(Batch {
            id,
            waiters: Vec::new(),
        });
        self.sealed.extend(full);
        id
    }

    /// Takes batch `id` out, open or sealed (empty if it is gone).
    fn take_batch(&mut self, id: u64) -> Vec<Waiter> {
        if self.open.as_ref().is_some_and(|b| b.id == id) {
            return self.open.take().map(|b| b.waiters).unwrap_or_default();
        }
        match self.sealed.iter().position(|b| b.id == id) {
            Some(at) => self.sealed.swap_remove(at).waiters,
            None => Vec::new(),
        }
    }
}

/// The read queue of one store.
pub(crate) struct Coalescer {
    state: Mutex<State>,
    /// How many reads a quiet cache sends alone before GETs are gathered into MGETs.
    max_in_flight: usize,
}

/// What a GET does, decided under the lock.
enum Role {
    /// Sent at once, alone.
    Alone,
    /// Joined the batch being gathered.
    Join(oneshot::Receiver<Handoff>),
    /// Gathers the new batch `id`; `busy` says whether the cache was busy.
    Gather { id: u64, busy: bool },
}

/// One read in flight; counted until dropped (answered or cancelled).
struct InFlight<'a>(&'a Coalescer);

impl<'a> InFlight<'a> {
    fn start(queue: &'a Coalescer) -> Self {
        queue.state().in_flight += 1;
        InFlight(queue)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.in_flight = state.in_flight.saturating_sub(1);
    }
}

/// The open batch of a gathering caller. Dropped before [`close`](Gathering::close) (the
/// caller was cancelled while it yielded), it hands the batch to a caller of it.
struct Gathering<'a> {
    queue: &'a Coalescer,
    id: u64,
    /// Whether the cache was busy when this gather began.
    busy: bool,
    closed: bool,
}

impl Gathering<'_> {
    /// Closes the batch: later GETs gather a new one. A gather past the in-flight bound, or
    /// one that others joined, leaves the cache busy; a busy gather nobody joined, quiet.
    fn close(mut self) -> Vec<Waiter> {
        self.closed = true;
        let mut state = self.queue.state();
        let batch = state.take_batch(self.id);
        state.busy = !batch.is_empty() || !self.busy;
        batch
    }
}

impl Drop for Gathering<'_> {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let mut batch = self.queue.state().take_batch(self.id);
        // The first caller still waiting sends it; callers already gone are skipped.
        while !batch.is_empty() {
            let first = batch.remove(0);
            match first.tx.send(Handoff::Lead(batch)) {
                Ok(()) => return,
                Err(Handoff::Lead(rest)) => batch = rest,
                Err(Handoff::Done(_)) => return,
            }
        }
    }
}

impl Coalescer {
    pub(crate) fn new(max_in_flight: usize) -> Self {
        Coalescer {
            state: Mutex::default(),
            max_in_flight: max_in_flight.max(1),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// What a GET of `key` does now.
    fn role(&self, key: &str) -> Role {
        let mut state = self.state();
        let state = &mut *state;
        let busy = state.busy;
        if let Some(batch) = &mut state.open {
            if batch.waiters.len() + 1 < MAX_BATCH {
                let (tx, rx) = oneshot::channel();
                batch.waiters.push(Waiter {
                    key: key.into(),
                    tx,
                });
                return Role::Join(rx);
            }
        } else if !busy && state.in_flight < self.max_in_flight {
            // Nothing is being gathered: a quiet cache sends while it may.
            state.in_flight += 1;
            return Role::Alone;
        }
        // The open batch is full (sealed here), or none is open.
        Role::Gather {
            id: state.open_batch(),
            busy,
        }
    }

    /// GET `key` through the queue.
    pub(crate) async fn get(&self, store: &RedisStore, key: &str) -> Reply {
        match self.role(key) {
            Role::Alone => {
                let _flight = InFlight(self);
                store.get_one(key).await
            }
            Role::Join(rx) => match rx.await {
                Ok(Handoff::Done(reply)) => reply,
                Ok(Handoff::Lead(batch)) => {
                    let _flight = InFlight::start(self);
                    lead(store, key, batch).await
                }
                // The caller sending our batch was dropped before it answered: read alone.
                Err(_) => store.get_one(key).await,
            },
            Role::Gather { id, busy } => {
                let gathering = Gathering {
                    queue: self,
                    id,
                    busy,
                    closed: false,
                };
                tokio::task::yield_now().await;
                let batch = gathering.close();
                let _flight = InFlight::start(self);
                lead(store, key, batch).await
            }
        }
    }
}

/// One MGET for `key` and `batch`; each waiter gets its value, the caller its own.
async fn lead(store: &RedisStore, key: &str, batch: Vec<Waiter>) -> Reply {
    if batch.is_empty() {
        return store.get_one(key).await;
    }
    let keys: Vec<&str> = std::iter::once(key)
        .chain(batch.iter().map(|w| &*w.key))
        .collect();
    match store.get_many(&keys).await {
        Ok(values) if values.len() == keys.len() => {
            let mut values = values.into_iter();
            let mine = values.next().flatten();
            for (waiter, value) in batch.into_iter().zip(values) {
                let _ = waiter.tx.send(Handoff::Done(Ok(value)));
            }
            Ok(mine)
        }
        Ok(values) => {
            let e = Error::store(format_args!(
                "MGET of {} keys answered {} values",
                keys.len(),
                values.len()
            ));
            fail_all(batch, &e);
            Err(e)
        }
        Err(e) => {
            fail_all(batch, &e);
            Err(e)
        }
    }
}

fn fail_all(batch: Vec<Waiter>, e: &Error) {
    for waiter in batch {
        let _ = waiter.tx.send(Handoff::Done(Err(e.clone())));
    }
}
