//! Invalidation marks: counters that move whenever an entry may have been invalidated or
//! overwritten, so that a value read (or computed) before that moment is not handed to a
//! caller that started after it.
//!
//! Single flight needs this: callers waiting on a miss get the leader's value, but one of
//! them may have started after an invalidation that came while the leader's body ran (the
//! fill lease, which refuses to *store* such a value, cannot help the caller already waiting
//! for it). The mark of a key is the sum of a per-key-slot counter (moved by exact-key
//! invalidations and writes) and a counter for everything (moved by namespace, pattern and
//! tag invalidations, and when the backplane may have missed messages). A collision of two
//! keys on one slot costs a needless re-read, never a stale value.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// How many per-key slots (8 KiB of counters per cache).
const SLOTS: usize = 1024;

/// The marks of one cache.
pub(crate) struct Marks {
    all: AtomicU64,
    slots: Box<[AtomicU64]>,
}

impl Marks {
    pub(crate) fn new() -> Self {
        Marks {
            all: AtomicU64::new(0),
            slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn slot(&self, key: &str) -> &AtomicU64 {
        &self.slots[(tail_hash(key) as usize) % SLOTS]
    }

    /// The current mark of `key`: it changes iff something that may cover `key` changed.
    #[inline]
    pub(crate) fn of(&self, key: &str) -> u64 {
        self.all
            .load(SeqCst)
            .wrapping_add(self.slot(key).load(SeqCst))
    }

    /// `key` was invalidated or overwritten.
    pub(crate) fn key(&self, key: &str) {
        self.slot(key).fetch_add(1, SeqCst);
    }

    /// Any key may have been invalidated (a namespace, pattern or tag; missed messages).
    pub(crate) fn everything(&self) {
        self.all.fetch_add(1, SeqCst);
    }
}

/// A hash of a key for picking its slot, from its length and last 8 bytes: for `#[cached]`
/// keys those are hex digits of the argument digest, for manual keys usually the part that
/// differs. The slot is taken from the high bits (a multiplicative hash).
#[inline]
pub(crate) fn tail_hash(key: &str) -> u64 {
    let bytes = key.as_bytes();
    let mut tail = [0u8; 8];
    let n = bytes.len().min(8);
    tail[..n].copy_from_slice(&bytes[bytes.len() - n..]);
    let x = u64::from_le_bytes(tail) ^ (bytes.len() as u64).rotate_left(56);
    x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_move_for_their_key_and_for_everything() {
        let marks = Marks::new();
        let (a, b) = ("users:v1.0:aaaaaaaa", "users:v1.0:bbbbbbbb");
        let (ma, mb) = (marks.of(a), marks.of(b));
        marks.key(a);
        assert_ne!(marks.of(a), ma);
        // Distinct tails here land on distinct slots.
        assert_eq!(marks.of(b), mb);
        let (ma, mb) = (marks.of(a), marks.of(b));
        marks.everything();
        assert_ne!(marks.of(a), ma);
        assert_ne!(marks.of(b), mb);
    }
}
