//! How a `#[cached]` call reads Redis: a plain GET first, or the fill lease at once.
//!
//! A miss on Redis takes three round trips: the GET that misses, the fill lease
//! (`SET key lease NX PX .. GET`, see `fill`) and the fill. The lease command is itself a
//! read: it returns what the key holds, and takes the lease only when the key is empty. A
//! namespace whose calls keep missing (keys that are rarely asked for twice, a cold start)
//! therefore skips the GET and sends the lease command first: a miss is then two round
//! trips, and a hit among them costs a slightly larger command than a GET. A namespace
//! whose reads hit keeps its plain GETs, which the read coalescer can merge into MGETs.
//!
//! The switch is a streak per namespace and cache ([`MissStreak`]): after
//! [`MissStreak::TO_LEASE_FIRST`] misses from Redis with no hit between them, calls read
//! with the lease command until one of them hits. A hit costs one relaxed load while the
//! streak is empty. A server that refuses writes (`maxmemory` with `noeviction`, a read-only
//! replica) refuses the lease command even for a key that holds a value: that read is
//! repeated as a GET, and reads are plain GETs until a lease is granted again.

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// The misses from Redis in a row of one namespace (see the [module](self)).
#[derive(Debug)]
pub(crate) struct MissStreak(AtomicU8);

impl MissStreak {
    /// Misses in a row after which calls send the fill lease as their first read.
    pub(crate) const TO_LEASE_FIRST: u8 = 2;

    /// An empty streak: calls read with a plain GET.
    pub(crate) const fn new() -> Self {
        MissStreak(AtomicU8::new(0))
    }

    /// Whether the next call should send the fill lease as its first read.
    #[inline]
    pub(crate) fn lease_first(&self) -> bool {
        self.0.load(Relaxed) >= Self::TO_LEASE_FIRST
    }

    /// A call was served from the store: the streak ends. No write while it is empty, so
    /// concurrent hits do not share a written cache line.
    #[inline]
    pub(crate) fn hit(&self) {
        if self.0.load(Relaxed) != 0 {
            self.0.store(0, Relaxed);
        }
    }

    /// A call missed and ran its body.
    #[inline]
    pub(crate) fn miss(&self) {
        let seen = self.0.load(Relaxed);
        if seen < Self::TO_LEASE_FIRST {
            self.0.store(seen + 1, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MissStreak;

    #[test]
    fn two_misses_in_a_row_switch_to_lease_first_until_a_hit() {
        let streak = MissStreak::new();
        assert!(!streak.lease_first());
        streak.miss();
        assert!(!streak.lease_first(), "one miss is not a streak");
        streak.hit();
        streak.miss();
        assert!(!streak.lease_first(), "a hit ended the first streak");
        streak.miss();
        assert!(streak.lease_first());
        for _ in 0..300 {
            streak.miss();
        }
        assert!(streak.lease_first(), "the count saturates, it never wraps");
        streak.hit();
        assert!(!streak.lease_first(), "one hit switches back to plain GETs");
    }
}
