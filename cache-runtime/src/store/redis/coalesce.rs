//! Concurrent GETs on one Redis node merged into MGETs, with no added latency when idle.
//!
//! A GET that finds fewer than `max_in_flight` reads in flight (default 2,
//! `CacheBuilder::max_reads_in_flight`) is sent at once, alone: an idle or lightly loaded
//! cache pays nothing, and its GETs pipeline on the connection as before. A GET that finds
//! them all in flight *gathers* a batch: it yields to the runtime once, so that the other
//! tasks ready in the same instant run, and every GET they make joins its batch; then it
//! sends one MGET for all of them (up to [`MAX_BATCH`] keys) and hands each its value.
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

#[derive(Default)]
struct State {
    /// Reads (GETs and MGETs) sent and not yet answered.
    in_flight: usize,
    /// The callers that joined the batch being gathered, while one is.
    open: Option<Vec<Waiter>>,
}

/// The read queue of one store.
pub(crate) struct Coalescer {
    state: Mutex<State>,
    /// How many reads may be in flight before GETs are gathered into MGETs.
    max_in_flight: usize,
}

/// What a GET does, decided under the lock.
enum Role {
    /// Sent at once, alone.
    Alone,
    /// Joined the batch being gathered.
    Join(oneshot::Receiver<Handoff>),
    /// Gathers a new batch.
    Gather,
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
    closed: bool,
}

impl Gathering<'_> {
    /// Closes the batch: later GETs gather a new one.
    fn close(mut self) -> Vec<Waiter> {
        self.closed = true;
        self.queue.state().open.take().unwrap_or_default()
    }
}

impl Drop for Gathering<'_> {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let mut batch = self.queue.state().open.take().unwrap_or_default();
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

    /// GET `key` through the queue.
    pub(crate) async fn get(&self, store: &RedisStore, key: &str) -> Reply {
        let role = {
            let mut state = self.state();
            if state.in_flight < self.max_in_flight {
                state.in_flight += 1;
                Role::Alone
            } else {
                match &mut state.open {
                    Some(batch) if batch.len() + 1 < MAX_BATCH => {
                        let (tx, rx) = oneshot::channel();
                        batch.push(Waiter {
                            key: key.into(),
                            tx,
                        });
                        Role::Join(rx)
                    }
                    // The batch is full: this one goes alone.
                    Some(_) => {
                        state.in_flight += 1;
                        Role::Alone
                    }
                    None => {
                        state.open = Some(Vec::new());
                        Role::Gather
                    }
                }
            }
        };
        match role {
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
            Role::Gather => {
                let gathering = Gathering {
                    queue: self,
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
