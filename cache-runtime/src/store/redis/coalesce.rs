//! Concurrent GETs on one Redis node merged into MGETs, with no added latency when idle.
//!
//! At most `max_in_flight` reads (default 16, `CacheBuilder::max_reads_in_flight`) are in
//! flight per store. A GET that finds fewer in flight
//! is sent at once, alone (an idle or lightly loaded cache pays nothing: its GETs pipeline on
//! the connection as before). GETs that arrive while all are in flight queue up; when one
//! completes, the whole queue (up to [`MAX_BATCH`]) is handed to the first queued caller,
//! which sends one MGET for all of them and hands each its value. The callers wait anyway,
//! so no task is spawned; the server parses one command instead of dozens, and the client
//! arms one deadline and writes one frame per batch.
//!
//! A caller that is dropped while it holds the turn passes it on (its guard's `Drop`); the
//! callers of a batch whose leader was dropped are told so and read on their own. A read
//! that fails (Redis down or hung past the deadline) fails the callers queued behind it with
//! its error, so none waits longer than one operation deadline plus the wait for the read
//! ahead of it. One
//! difference from GET: MGET reads a key holding another Redis type as nil (GET answers
//! WRONGTYPE), so such a key read in a batch is a miss whose fill then fails and is counted;
//! read alone it is dropped as unreadable.

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
    /// The turn: it sends one MGET for its key and these callers', then passes the turn on.
    Lead(Vec<Waiter>),
}

#[derive(Default)]
struct State {
    in_flight: usize,
    queue: Vec<Waiter>,
}

/// The read queue of one store.
pub(crate) struct Coalescer {
    state: Mutex<State>,
    /// The most reads (GETs or MGETs) in flight at once before GETs queue. Too few
    /// serializes light loads (with 4 and 8 callers on a 70 µs round trip, hits fell to
    /// 0.5-0.7 of per-call GETs); many lets light loads pipeline GETs as before and batches
    /// only heavy ones.
    max_in_flight: usize,
}

/// The turn to read; passed on when dropped, whether the read finished or was cancelled.
/// When the read failed, the callers queued behind it get its error at once instead of the
/// turn: Redis just failed (or timed out), and each of them waiting out a deadline of its own
/// after this one would double their wait.
struct Turn<'a> {
    queue: &'a Coalescer,
    failed: Option<Error>,
}

impl<'a> Turn<'a> {
    fn new(queue: &'a Coalescer) -> Self {
        Turn {
            queue,
            failed: None,
        }
    }

    fn finish(mut self, reply: Reply) -> Reply {
        if let Err(e) = &reply {
            self.failed = Some(e.clone());
        }
        reply
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.queue.pass_on(self.failed.take());
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
        let waiting = {
            let mut state = self.state();
            if state.in_flight >= self.max_in_flight {
                let (tx, rx) = oneshot::channel();
                state.queue.push(Waiter {
                    key: key.into(),
                    tx,
                });
                Some(rx)
            } else {
                state.in_flight += 1;
                None
            }
        };
        let Some(rx) = waiting else {
            let turn = Turn::new(self);
            return turn.finish(store.get_one(key).await);
        };
        match rx.await {
            Ok(Handoff::Done(reply)) => reply,
            Ok(Handoff::Lead(batch)) => {
                let turn = Turn::new(self);
                turn.finish(lead(store, key, batch).await)
            }
            // The caller that had our batch was dropped before it answered: read alone.
            Err(_) => store.get_one(key).await,
        }
    }

    /// Hands the queue to its first caller still waiting, or marks the store idle; after a
    /// failed read, fails every queued caller with its error.
    fn pass_on(&self, failed: Option<Error>) {
        let mut state = self.state();
        if let Some(e) = failed {
            for waiter in state.queue.drain(..) {
                let _ = waiter.tx.send(Handoff::Done(Err(e.clone())));
            }
        }
        loop {
            if state.queue.is_empty() {
                state.in_flight = state.in_flight.saturating_sub(1);
                return;
            }
            let take = state.queue.len().min(MAX_BATCH);
            let mut batch: Vec<Waiter> = state.queue.drain(..take).collect();
            let first = batch.remove(0);
            match first.tx.send(Handoff::Lead(batch)) {
                Ok(()) => return,
                // That caller is gone: its batch comes back, and the next one leads.
                Err(Handoff::Lead(batch)) => {
                    let rest = std::mem::take(&mut state.queue);
                    state.queue = batch;
                    state.queue.extend(rest);
                }
                Err(Handoff::Done(_)) => {}
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
