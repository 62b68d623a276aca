//! Fill leases in process memory: the same stale-write guard as on Redis (see
//! `store/redis/lease.rs`), with one clock, so tag invalidations need no margin.
//!
//! Leases and tag marks only matter for the lease time. Each is also queued in the order it
//! was made, which is the order it expires in (the lease time is one constant), so expired
//! ones are dropped from the front of the queue: every call does O(1) work (amortized),
//! however many leases are live. Entries that ended early (filled, released, revoked, a tag
//! marked again) leave a stale queue item, skipped when it reaches the front; the queue is
//! compacted when stale items outnumber the live ones, so it stays within twice the table.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::key::pattern::Pattern;

/// The queue is compacted once it holds more than twice the live entries and this many.
const COMPACT_AT: usize = 4096;

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

/// One queued lease or tag mark, in the order they were made.
enum Queued {
    Lease(Arc<str>, u64),
    Tag(Arc<str>, Instant),
}

#[derive(Default)]
struct Table {
    next: u64,
    by_key: HashMap<Arc<str>, Lease>,
    tag_marks: HashMap<Arc<str>, Instant>,
    /// Every lease and tag mark made, oldest first, with when it was made.
    queue: VecDeque<(Instant, Queued)>,
    /// Queue items looked at (tests count the work per call).
    #[cfg(test)]
    visited: u64,
}

impl Table {
    /// Whether a queued item is still the live lease or mark it was made as.
    fn current(&self, item: &Queued) -> bool {
        match item {
            Queued::Lease(key, token) => self.by_key.get(key).is_some_and(|l| l.token == *token),
            Queued::Tag(tag, at) => self.tag_marks.get(tag) == Some(at),
        }
    }

    /// Drops the lease or mark `item` was queued for, unless it ended or was made again.
    fn forget(&mut self, item: &Queued) {
        if !self.current(item) {
            return;
        }
        match item {
            Queued::Lease(key, _) => {
                self.by_key.remove(key);
            }
            Queued::Tag(tag, _) => {
                self.tag_marks.remove(tag);
            }
        }
    }

    /// Drops the leases and marks made more than `lease_time` before `now`, from the front
    /// of the queue; compacts the queue when stale items outnumber the live ones.
    fn expire(&mut self, now: Instant, lease_time: Duration) {
        while let Some((made, _)) = self.queue.front() {
            if now.duration_since(*made) < lease_time {
                break;
            }
            #[cfg(test)]
            {
                self.visited += 1;
            }
            if let Some((_, item)) = self.queue.pop_front() {
                self.forget(&item);
            }
        }
        let live = self.by_key.len() + self.tag_marks.len();
        if self.queue.len() > COMPACT_AT.max(2 * live) {
            #[cfg(test)]
            {
                self.visited += self.queue.len() as u64;
            }
            let mut queue = std::mem::take(&mut self.queue);
            queue.retain(|(_, item)| self.current(item));
            self.queue = queue;
        }
    }
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
        table.expire(now, self.lease_time);
        if let Some(held) = table.by_key.get(key) {
            if self.live(held, now) {
                return Acquired::Busy;
            }
        }
        table.next += 1;
        let lease = Lease {
            token: table.next,
            start: now,
        };
        let key: Arc<str> = Arc::from(key);
        table.by_key.insert(key.clone(), lease);
        table
            .queue
            .push_back((now, Queued::Lease(key, lease.token)));
        Acquired::Leased(lease)
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
    pub(crate) fn revoke_matching(&self, pattern: &Pattern<'_>) {
        self.lock().by_key.retain(|k, _| !pattern.matches(k));
    }

    /// Marks `tag` invalidated now: fills that took their lease before now are refused.
    pub(crate) fn mark_tag(&self, tag: &str) {
        let now = Instant::now();
        let mut table = self.lock();
        table.expire(now, self.lease_time);
        let tag: Arc<str> = Arc::from(tag);
        table.tag_marks.insert(tag.clone(), now);
        table.queue.push_back((now, Queued::Tag(tag, now)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leased(leases: &Leases, key: &str) -> Lease {
        match leases.acquire(key) {
            Acquired::Leased(lease) => lease,
            Acquired::Busy => unreachable!("{key} is leased already"),
        }
    }

    /// 100,000 live leases: each is found (a second caller is busy, its filler stores), and
    /// no call scans the table: the queue items looked at stay within a few per call.
    #[test]
    fn a_hundred_thousand_live_leases_cost_constant_work_per_call() {
        const N: usize = 100_000;
        let leases = Leases::new(Duration::from_secs(3600));
        let held: Vec<Lease> = (0..N).map(|i| leased(&leases, &format!("k{i}"))).collect();
        for i in 0..N {
            assert!(matches!(leases.acquire(&format!("k{i}")), Acquired::Busy));
        }
        for i in (0..N).step_by(10) {
            leases.mark_tag(&format!("t{i}"));
        }
        let mut stored = 0;
        for (i, lease) in held.iter().enumerate() {
            let filled = leases.fill(&format!("k{i}"), lease, &[], || stored += 1);
            assert!(filled, "lease {i} was lost");
        }
        assert_eq!(stored, N);
        // As many new leases again: the queue, full of filled leases, is compacted.
        for i in 0..N {
            leased(&leases, &format!("again{i}"));
        }
        let table = leases.lock();
        assert_eq!(table.by_key.len(), N);
        assert_eq!(table.tag_marks.len(), N / 10);
        assert!(
            table.queue.len() <= 2 * (N + N / 10),
            "{}",
            table.queue.len()
        );
        // 4.1 N calls; a scan of the table per call would have looked at billions of items.
        assert!(table.visited <= 4 * N as u64, "{}", table.visited);
    }

    /// Expired leases and marks leave the table and the queue; filled leases leave stale
    /// items that compaction drops.
    #[test]
    fn expired_and_ended_entries_leave_the_queue() {
        let leases = Leases::new(Duration::from_millis(20));
        for i in 0..10 {
            let lease = leased(&leases, &format!("k{i}"));
            assert!(leases.fill(&format!("k{i}"), &lease, &[], || {}));
        }
        let _live = leased(&leases, "live");
        leases.mark_tag("t");
        std::thread::sleep(Duration::from_millis(30));
        // Taking a new lease drops everything made more than the lease time ago.
        let _fresh = leased(&leases, "fresh");
        let table = leases.lock();
        assert_eq!(
            table.by_key.keys().map(|k| &**k).collect::<Vec<_>>(),
            ["fresh"]
        );
        assert!(table.tag_marks.is_empty());
        assert_eq!(table.queue.len(), 1);
        drop(table);

        // Stale items (leases filled long before they expire) are compacted away.
        let leases = Leases::new(Duration::from_secs(3600));
        for i in 0..3 * COMPACT_AT {
            let lease = leased(&leases, &format!("k{i}"));
            assert!(leases.fill(&format!("k{i}"), &lease, &[], || {}));
        }
        assert!(leases.lock().queue.len() <= COMPACT_AT + 1);
    }

    /// A tag mark refuses the fills whose lease was taken before it, also after it was
    /// marked again, and not once it expired.
    #[test]
    fn tag_marks_refuse_older_fills() {
        let leases = Leases::new(Duration::from_secs(3600));
        let tags = ["t".to_owned()];
        let before = leased(&leases, "a");
        leases.mark_tag("t");
        let after = leased(&leases, "b");
        leases.mark_tag("u");
        assert!(!leases.fill("a", &before, &tags, || {}));
        assert!(leases.fill("b", &after, &tags, || {}));
    }
}
