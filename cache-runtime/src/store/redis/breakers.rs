//! The circuit breakers of one Redis store.
//!
//! A single node has one breaker. A cluster has one breaker per sixteenth of the slot space
//! (1,024 slots each) for the operations on one key (GET, SET, leases, fills, deletes), plus
//! one for operations that span nodes (batches, clears, PUBLISH, PING). A key's breaker is
//! the one of the slot Redis Cluster puts it in (CRC16 of the key or of its `{hash tag}`),
//! so when one master dies only the breakers of the parts of the slot space it served
//! open: the keys on the other masters keep their cache. The client does not know which
//! node serves a slot (redis-rs keeps that map to itself), so a part whose slots are split
//! between a dead and a live master opens for both (with 3 masters, about 4 % of the slots).

use std::sync::Arc;
use std::time::Duration;

use super::circuit::Circuit;
use crate::observe::stats::{CircuitState, Counters};

/// Redis Cluster's slot count.
#[cfg(feature = "cluster")]
pub(crate) const SLOTS: u16 = 16_384;
/// Slots per breaker on a cluster.
#[cfg(feature = "cluster")]
const SLOTS_PER_BREAKER: u16 = 1_024;

/// One breaker, or a cluster's breakers by slot.
pub(crate) struct Breakers {
    /// A single node's breaker; on a cluster, the one for multi-node operations.
    whole: Circuit,
    /// A cluster's breakers by slot range; empty for a single node.
    by_slot: Box<[Circuit]>,
}

impl Breakers {
    /// One breaker for a single node.
    pub(crate) fn single(threshold: u32, cool_down: Duration, counters: Arc<Counters>) -> Self {
        Breakers {
            whole: Circuit::new(threshold, cool_down, counters),
            by_slot: Box::new([]),
        }
    }

    /// A cluster's breakers: one per [`SLOTS_PER_BREAKER`] slots and one for the rest.
    #[cfg(feature = "cluster")]
    pub(crate) fn cluster(threshold: u32, cool_down: Duration, counters: Arc<Counters>) -> Self {
        let by_slot = (0..SLOTS / SLOTS_PER_BREAKER)
            .map(|i| {
                let first = i * SLOTS_PER_BREAKER;
                let label = format!("slots {first}-{}", first + SLOTS_PER_BREAKER - 1);
                Circuit::labelled(label, threshold, cool_down, counters.clone())
            })
            .collect();
        Breakers {
            whole: Circuit::labelled("redis cluster".to_owned(), threshold, cool_down, counters),
            by_slot,
        }
    }

    /// The breaker for operations that are not on one key.
    #[inline]
    pub(crate) fn whole(&self) -> &Circuit {
        &self.whole
    }

    /// The breaker of the Redis key `{prefix}:{key}`.
    #[inline]
    pub(crate) fn for_key(&self, prefix: &str, key: &str) -> &Circuit {
        if self.by_slot.is_empty() {
            return &self.whole;
        }
        self.for_slot(slot_of(&[prefix.as_bytes(), b":", key.as_bytes()]))
    }

    /// The breaker of the full Redis key `redis_key` (a tag index, say).
    pub(crate) fn for_redis_key(&self, redis_key: &[u8]) -> &Circuit {
        if self.by_slot.is_empty() {
            return &self.whole;
        }
        self.for_slot(slot_of(&[redis_key]))
    }

    #[cfg(feature = "cluster")]
    fn for_slot(&self, slot: u16) -> &Circuit {
        let i = usize::from(slot / SLOTS_PER_BREAKER);
        self.by_slot.get(i).unwrap_or(&self.whole)
    }

    #[cfg(not(feature = "cluster"))]
    fn for_slot(&self, _slot: u16) -> &Circuit {
        &self.whole
    }

    /// How many times any breaker closed after being open.
    pub(crate) fn closings(&self) -> u64 {
        std::iter::once(&self.whole)
            .chain(self.by_slot.iter())
            .map(Circuit::closings)
            .sum()
    }

    /// The worst state of any breaker: `Open` if one is open, else `HalfOpen` if one is
    /// probing, else `Closed`.
    pub(crate) fn state(&self) -> CircuitState {
        let mut worst = CircuitState::Closed;
        for circuit in std::iter::once(&self.whole).chain(self.by_slot.iter()) {
            match circuit.state() {
                CircuitState::Open => return CircuitState::Open,
                CircuitState::HalfOpen => worst = CircuitState::HalfOpen,
                CircuitState::Closed => {}
            }
        }
        worst
    }
}

/// The cluster slot of the key made of `parts` (concatenated): CRC16 (XMODEM) of the key, or
/// of the text between its first `{` and the first `}` after it when that is not empty.
#[cfg(feature = "cluster")]
pub(crate) fn slot_of(parts: &[&[u8]]) -> u16 {
    let mut key = smallvec::SmallVec::<[u8; 256]>::new();
    for part in parts {
        key.extend_from_slice(part);
    }
    let hashed = hash_tag(&key).unwrap_or(&key);
    crc16::State::<crc16::XMODEM>::calculate(hashed) % SLOTS
}

#[cfg(not(feature = "cluster"))]
fn slot_of(_parts: &[&[u8]]) -> u16 {
    0
}

/// The `{hash tag}` of `key`, as Redis Cluster reads it.
#[cfg(feature = "cluster")]
fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|b| *b == b'{')?;
    let len = key[open + 1..].iter().position(|b| *b == b'}')?;
    let tag = &key[open + 1..open + 1 + len];
    (!tag.is_empty()).then_some(tag)
}

#[cfg(all(test, feature = "cluster"))]
mod tests {
    use super::*;

    /// Slots Redis itself reports (`CLUSTER KEYSLOT`), including the hash tag rules.
    #[test]
    fn slots_match_redis_cluster() {
        assert_eq!(slot_of(&[b"foo"]), 12_182);
        assert_eq!(slot_of(&[b"123456789"]), 12_739);
        assert_eq!(slot_of(&[b"{user1000}.following"]), slot_of(&[b"user1000"]));
        assert_eq!(slot_of(&[b"foo{}{bar}"]), slot_of(&[b"foo{}{bar}"]));
        assert_ne!(slot_of(&[b"foo{}{bar}"]), slot_of(&[b"bar"]));
        assert_eq!(slot_of(&[b"foo{{bar}}zap"]), slot_of(&[b"{bar"]));
        assert_eq!(slot_of(&[b"foo{bar}{zap}"]), slot_of(&[b"bar"]));
        assert_eq!(slot_of(&[b"pre", b":", b"fix"]), slot_of(&[b"pre:fix"]));
    }

    #[test]
    fn a_key_maps_to_its_slot_range() {
        let b = Breakers::cluster(5, Duration::from_secs(1), Arc::default());
        assert_eq!(b.by_slot.len(), 16);
        // "foo" is in slot 12182: the breaker of slots 11264-12287.
        let c = b.for_key("f", "oo");
        assert!(std::ptr::eq(
            c,
            &b.by_slot[usize::from(slot_of(&[b"f:oo"]) / 1024)]
        ));
        assert!(std::ptr::eq(b.for_redis_key(b"foo"), &b.by_slot[11]));
        let single = Breakers::single(5, Duration::from_secs(1), Arc::default());
        assert!(std::ptr::eq(single.for_key("f", "oo"), single.whole()));
    }
}
