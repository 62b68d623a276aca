//! Counters of one [`Cache`](crate::Cache).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A snapshot of a cache's counters, from [`Cache::stats`](crate::Cache::stats).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Reads that found a value.
    pub hits: u64,
    /// Of the hits, those served from the in-process tier (L1) in front of Redis.
    pub l1_hits: u64,
    /// Of the hits, callers that waited for another caller (single flight) instead of
    /// running their own body, or, when they found their key being read, their own read.
    pub coalesced: u64,
    /// Reads that found nothing (including entries that could not be decoded).
    pub misses: u64,
    /// Store errors (Redis unreachable, timeouts) and key serialization failures.
    pub errors: u64,
    /// Values written.
    pub writes: u64,
    /// Entries the memory store evicted to stay within its bounds.
    pub evictions: u64,
    /// Stored entries that were corrupt, truncated, foreign or of another type (each a miss,
    /// and deleted).
    pub decode_errors: u64,
    /// Values not cached because they exceeded the maximum value size.
    pub oversized: u64,
    /// `#[cached]` values not stored because their key, namespace or tag was invalidated
    /// while the body ran (or their fill lease lapsed): each would have been a stale entry.
    pub stale_fills_refused: u64,
    /// Calls whose body failed and that returned a stale value instead (`stale_if_error`).
    pub stale_served: u64,
    /// Operations against Redis that failed (timeouts, refused or dropped connections,
    /// error replies) while writing: a subset of [`errors`](Stats::errors).
    pub write_errors: u64,
    /// Operations that did not finish within the operation timeout: a subset of
    /// [`errors`](Stats::errors).
    pub timeouts: u64,
    /// Stored values whose signature did not verify (with a signing key): each a miss,
    /// deleted, and also counted in [`decode_errors`](Stats::decode_errors).
    pub bad_signatures: u64,
    /// Values stored compressed.
    pub compressed: u64,
    /// The circuit breaker in front of Redis (always `Closed` for the memory store).
    pub circuit: CircuitState,
    /// How many times the circuit opened.
    pub circuit_opened: u64,
    /// Operations that skipped Redis because the circuit was open (not counted in
    /// [`errors`](Stats::errors)).
    pub short_circuited: u64,
    /// The store in use: `"memory"`, `"redis"`, or `"disabled"` (configuration failed).
    pub backend: &'static str,
    /// With L1 in front of Redis: how it is kept coherent with Redis (tracking, or the
    /// backplane on a server that refuses tracking). `None` without L1.
    pub coherence: Option<crate::observe::Coherence>,
    /// Why the cache is disabled (`backend` is `"disabled"`): the configuration error,
    /// naming the variable or the missing feature. `None` for a working cache.
    pub disabled_reason: Option<String>,
    /// Entries held in this process: the memory store's, or L1's in front of Redis.
    pub entries: u64,
    /// Their weight in bytes, as the memory bounds count it (each entry weighs at least
    /// `max_bytes / max_entries`).
    pub bytes: u64,
    /// Of the hits, calls served from the outage fallback while the circuit breaker skipped
    /// Redis (see [`CacheBuilder::fallback_ttl`](crate::CacheBuilder::fallback_ttl)).
    pub fallback_hits: u64,
    /// Values kept in the outage fallback while the circuit breaker skipped Redis.
    pub fallback_writes: u64,
    /// Entries the outage fallback holds now (each never served once Redis answers again).
    pub fallback_entries: u64,
}

/// The state of the circuit breaker in front of Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CircuitState {
    /// Redis is used.
    Closed,
    /// Redis failed too often in a row: it is skipped until the cool-down ends.
    Open,
    /// The cool-down ended: one probe operation is deciding whether to close.
    HalfOpen,
}

impl CircuitState {
    /// `"closed"`, `"open"` or `"half_open"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half_open",
        }
    }
}

impl std::fmt::Display for CircuitState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Stats {
    /// `hits / (hits + misses)`, or 0 before the first read.
    pub fn hit_rate(&self) -> f64 {
        let total = self.hits + self.misses;
        if total == 0 {
            0.0
        } else {
            self.hits as f64 / total as f64
        }
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) hits: AtomicU64,
    pub(crate) l1_hits: AtomicU64,
    pub(crate) coalesced: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) writes: AtomicU64,
    pub(crate) evictions: AtomicU64,
    pub(crate) decode_errors: AtomicU64,
    pub(crate) oversized: AtomicU64,
    pub(crate) stale_fills_refused: AtomicU64,
    pub(crate) stale_served: AtomicU64,
    pub(crate) write_errors: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) bad_signatures: AtomicU64,
    pub(crate) compressed: AtomicU64,
    pub(crate) circuit_opened: AtomicU64,
    pub(crate) short_circuited: AtomicU64,
    pub(crate) fallback_hits: AtomicU64,
    pub(crate) fallback_writes: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self, backend: &'static str, circuit: CircuitState) -> Stats {
        Stats {
            hits: self.hits.load(Relaxed),
            l1_hits: self.l1_hits.load(Relaxed),
            coalesced: self.coalesced.load(Relaxed),
            misses: self.misses.load(Relaxed),
            errors: self.errors.load(Relaxed),
            writes: self.writes.load(Relaxed),
            evictions: self.evictions.load(Relaxed),
            decode_errors: self.decode_errors.load(Relaxed),
            oversized: self.oversized.load(Relaxed),
            stale_fills_refused: self.stale_fills_refused.load(Relaxed),
            stale_served: self.stale_served.load(Relaxed),
            write_errors: self.write_errors.load(Relaxed),
            timeouts: self.timeouts.load(Relaxed),
            bad_signatures: self.bad_signatures.load(Relaxed),
            compressed: self.compressed.load(Relaxed),
            circuit,
            circuit_opened: self.circuit_opened.load(Relaxed),
            short_circuited: self.short_circuited.load(Relaxed),
            backend,
            coherence: None,
            disabled_reason: None,
            entries: 0,
            bytes: 0,
            fallback_hits: self.fallback_hits.load(Relaxed),
            fallback_writes: self.fallback_writes.load(Relaxed),
            fallback_entries: 0,
        }
    }
}
