//! Reads in progress, counted per key slot, so that a caller arriving while its key is
//! being read waits for that read instead of sending its own.
//!
//! A Redis hit reads before any flight bookkeeping (see [`peek`](crate::call::peek)): the flight
//! map costs a lock and two allocations, which an uncontended hit should not pay. But when a
//! thousand callers arrive at once for a cold key, every one of them then sends a GET,
//! waits for it, finds nothing and only then joins the single flight; on a busy runtime the
//! leader's body starts after all those reads are answered. So each read before the flight
//! is counted in its key's slot (two atomic adds on the hit path), and a caller that finds
//! its slot busy joins the flight *before* reading ([`Flights::join_early`]): as a waiter
//! when a flight of its key has not sent its read yet, or as the leader of a new one, which
//! yields once so that the callers arriving in the same instant can join it, and then reads
//! for them all. A collision of two keys on one slot costs that caller one turn of the
//! scheduler, never a wrong value.
//!
//! [`Flights::join_early`]: crate::call::flight::Flights::join_early

use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// How many slots (16 KiB of counters per cache): with 64 reads in progress on distinct
/// keys, about 1.5 % of reads find their slot busy.
const SLOTS: usize = 4096;

/// The reads in progress of one cache, per key slot.
pub(crate) struct Reads {
    slots: Box<[AtomicU32]>,
}

/// One read counted in its slot until dropped.
pub(crate) struct Reading<'a> {
    slot: &'a AtomicU32,
    /// Whether another read of this slot was in progress when this one began.
    busy: bool,
}

impl Reads {
    pub(crate) fn new() -> Self {
        Reads {
            slots: (0..SLOTS).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// Counts a read of `key` until the returned guard is dropped.
    #[inline]
    pub(crate) fn begin(&self, key: &str) -> Reading<'_> {
        let slot = &self.slots[slot_of(key)];
        // Only a hint: a stale count costs one caller a turn of the scheduler, or one read.
        let busy = slot.fetch_add(1, Relaxed) != 0;
        Reading { slot, busy }
    }
}

impl Reading<'_> {
    /// Whether another read of a key of this slot was in progress when this one began.
    pub(crate) fn busy(&self) -> bool {
        self.busy
    }
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        self.slot.fetch_sub(1, Relaxed);
    }
}

/// A key's slot (as for its [invalidation mark](crate::tier::marks)).
#[inline]
fn slot_of(key: &str) -> usize {
    (crate::tier::marks::tail_hash(key) as usize) % SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_finds_its_slot_busy_only_while_another_is_in_progress() {
        let reads = Reads::new();
        let (a, b) = ("users:v1.0:aaaaaaaa", "users:v1.0:bbbbbbbb");
        assert_ne!(slot_of(a), slot_of(b));
        let first = reads.begin(a);
        assert!(!first.busy());
        assert!(reads.begin(a).busy());
        // The second guard is gone; a key of another slot is not affected.
        assert!(!reads.begin(b).busy());
        let second = reads.begin(a);
        assert!(second.busy());
        drop(first);
        drop(second);
        assert!(!reads.begin(a).busy());
    }

    #[test]
    fn empty_and_short_keys_have_a_slot() {
        let reads = Reads::new();
        assert!(!reads.begin("").busy());
        assert!(!reads.begin("k").busy());
        assert!(slot_of("") < SLOTS && slot_of("k") < SLOTS);
    }
}
