//! Fill leases in process memory: the same stale-write guard as on Redis (see
//! `store/redis/lease.rs`), with one clock, so tag invalidations need no margin.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::invalidate::pattern;

/// Purge expired leases and marks once the table holds this many.
const PURGE_AT: usize = 4096;

/// A lease held by one filler.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lease {
    token: u64,
    start: Instant,
}

/// What a miss found.
pub(crate) enum Acquired {
    /// This caller holds the lease and may fill.
    Leased(Lease),
    /// Another caller is filling.
    Busy,
}

#[derive(Default)]
struct Table {
    next: u64,
    by_key: HashMap<Arc<str>, Lease>,
    tag_marks: HashMap<Box<str>, Instant>,
}

/// The lease table of one memory store.
pub(crate) struct Leases {
    lease_time: Duration,
    table: Mutex<Table>,
}

impl Leases {
    pub(crate) fn new(lease_time: Duration) -> Self {
        Leases {
            lease_time,
            table: Mutex::new(Table::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // The table stays consistent whatever panicked while holding it: recover it.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn live(&self, lease: &Lease, now: Instant) -> bool {
        now.duration_since(lease.start) < self.lease_time
    }

    /// Takes the lease of `key` unless another live one exists.
    pub(crate) fn acquire(&self, key: &str) -> Acquired {
        let now = Instant::now();
        let mut table = self.lock();
        if let Some(held) = table.by_key.get(key) {
            if self.live(held, now) {
                return Acquired::Busy;
            }
        }
        self.purge(&mut table, now);
        table.next += 1;
        let lease = Lease {
            token: table.next,
            start: now,
        };
        table.by_key.insert(Arc::from(key), lease);
        Acquired::Leased(lease)
    }

    /// Drops expired leases and tag marks once the table has grown: both only matter for
    /// `lease_time`, so the table stays bounded by what can still be in flight.
    fn purge(&self, table: &mut Table, now: Instant) {
        if table.by_key.len() + table.tag_marks.len() >= PURGE_AT {
            let lease_time = self.lease_time;
            table
                .by_key
                .retain(|_, l| now.duration_since(l.start) < lease_time);
            table
                .tag_marks
                .retain(|_, at| now.duration_since(*at) < lease_time);
        }
    }

    /// Runs `store` if `lease` still holds `key` and none of `tags` was invalidated since it
    /// was taken; the lease ends either way. Returns whether `store` ran.
    pub(crate) fn fill(
        &self,
        key: &str,
        lease: &Lease,
        tags: &[String],
        store: impl FnOnce(),
    ) -> bool {
        let now = Instant::now();
        let mut table = self.lock();
        let held = table
            .by_key
            .get(key)
            .is_some_and(|l| l.token == lease.token && self.live(l, now));
        if held {
            table.by_key.remove(key);
        }
        let tag_invalidated = tags.iter().any(|t| {
            table
                .tag_marks
                .get(t.as_str())
                .is_some_and(|at| *at >= lease.start)
        });
        if !held || tag_invalidated {
            return false;
        }
        // Stored while the table is locked: an invalidation either ended the lease before
        // this check, or runs after the entry is in and removes it.
        store();
        true
    }

    /// Ends `lease` without storing.
    pub(crate) fn release(&self, key: &str, lease: &Lease) {
        let mut table = self.lock();
        if table
            .by_key
            .get(key)
            .is_some_and(|l| l.token == lease.token)
        {
            table.by_key.remove(key);
        }
    }

    /// Ends any lease on `key` (the key was invalidated or overwritten).
    pub(crate) fn revoke(&self, key: &str) {
        self.lock().by_key.remove(key);
    }

    /// Ends every lease on keys matching `pattern`.
    pub(crate) fn revoke_matching(&self, pattern: &str) {
        self.lock()
            .by_key
            .retain(|k, _| !pattern::matches(pattern, k));
    }

    /// Marks `tag` invalidated now: fills that took their lease before now are refused.
    pub(crate) fn mark_tag(&self, tag: &str) {
        let now = Instant::now();
        let mut table = self.lock();
        self.purge(&mut table, now);
        table.tag_marks.insert(Box::from(tag), now);
    }
}
