//! The circuit breaker in front of one Redis endpoint (or, on a cluster, one part of the
//! slot space: see [`Breakers`](super::breakers::Breakers)).
//!
//! Closed, it counts consecutive transport failures (timeouts, refused or dropped
//! connections); at the threshold it opens for the cool-down, during which every operation
//! fails at once with [`Error::CircuitOpen`] without touching the network. When the
//! cool-down ends, the first operation is let through as the single probe (half-open): its
//! success closes the circuit, its failure (or its cancellation) opens it for another
//! cool-down. Replies from the server, even error replies (`OOM`, `NOPERM`), prove Redis is
//! up and count as successes.
//!
//! A closed circuit costs one relaxed atomic load per operation.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::observe::stats::{CircuitState, Counters};

/// One endpoint's breaker.
pub(crate) struct Circuit {
    /// What it guards, in logs and as the metrics label `circuit`: `"redis"` for a single
    /// node or a cluster's multi-node operations, `"slots 0-1023"` for part of a cluster.
    label: String,
    /// Consecutive failures that open the circuit; 0: never open.
    threshold: u32,
    cool_down_ms: u64,
    /// Time zero of `open_until`.
    epoch: Instant,
    failures: AtomicU32,
    /// 0 while closed; otherwise the end of the cool-down, in ms since `epoch` (at least 1).
    open_until: AtomicU64,
    /// The failure count that last opened the circuit, for the error message.
    opened_after: AtomicU32,
    /// Whether a probe is in flight (half-open).
    probing: AtomicBool,
    /// Whether this half-open period's probe already had its one retry (see
    /// [`Pass::refused`]).
    probe_retried: AtomicBool,
    /// How many times the circuit closed again (the outage fallback drops what it kept
    /// while Redis was away when this moves).
    closings: AtomicU64,
    counters: Arc<Counters>,
}

/// The right to send one operation. A probe that is dropped before it reports (its future
/// was cancelled) counts as a failure, so the circuit never stays half-open.
pub(crate) struct Pass<'a> {
    circuit: &'a Circuit,
    probe: bool,
    reported: bool,
}

impl Circuit {
    pub(crate) fn new(threshold: u32, cool_down: Duration, counters: Arc<Counters>) -> Self {
        Self::labelled("redis".to_owned(), threshold, cool_down, counters)
    }

    /// A breaker named `label` in logs and metrics.
    pub(crate) fn labelled(
        label: String,
        threshold: u32,
        cool_down: Duration,
        counters: Arc<Counters>,
    ) -> Self {
        Circuit {
            label,
            threshold,
            cool_down_ms: crate::millis(cool_down).max(1),
            epoch: Instant::now(),
            failures: AtomicU32::new(0),
            open_until: AtomicU64::new(0),
            opened_after: AtomicU32::new(0),
            probing: AtomicBool::new(false),
            probe_retried: AtomicBool::new(false),
            closings: AtomicU64::new(0),
            counters,
        }
    }

    fn now_ms(&self) -> u64 {
        crate::millis(self.epoch.elapsed()).max(1)
    }

    /// Lets an operation through, or refuses it while the circuit is open.
    #[inline]
    pub(crate) fn admit(&self) -> Result<Pass<'_>, Error> {
        let open_until = self.open_until.load(Relaxed);
        if open_until == 0 {
            return Ok(Pass {
                circuit: self,
                probe: false,
                reported: false,
            });
        }
        self.admit_open(open_until)
    }

    #[cold]
    fn admit_open(&self, open_until: u64) -> Result<Pass<'_>, Error> {
        if self.now_ms() >= open_until
            && self
                .probing
                .compare_exchange(false, true, Relaxed, Relaxed)
                .is_ok()
        {
            return Ok(Pass {
                circuit: self,
                probe: true,
                reported: false,
            });
        }
        Counters::bump(&self.counters.short_circuited);
        Err(Error::CircuitOpen {
            failures: self.opened_after.load(Relaxed),
        })
    }

    /// Closes the circuit and forgets its failures: the endpoint behind it changed (the
    /// sentinels named another master, which answered as one). A probe still in flight to
    /// the old endpoint no longer counts as the probe: its failure counts as one failure.
    #[cfg(feature = "sentinel")]
    pub(crate) fn reset(&self) {
        self.failures.store(0, Relaxed);
        self.probing.store(false, Relaxed);
        if self.open_until.swap(0, Relaxed) != 0 {
            self.closings.fetch_add(1, Relaxed);
            #[cfg(feature = "metrics")]
            metrics::gauge!("cache_redis_circuit_open", "circuit" => self.label.clone()).set(0.0);
            tracing::info!(circuit = %self.label, "a new Redis endpoint: circuit closed");
        }
    }

    /// How many times the circuit closed after being open.
    pub(crate) fn closings(&self) -> u64 {
        self.closings.load(Relaxed)
    }

    /// Whether the circuit is open or half-open.
    pub(crate) fn is_open(&self) -> bool {
        self.open_until.load(Relaxed) != 0
    }

    /// The state, for [`Stats`](crate::Stats).
    pub(crate) fn state(&self) -> CircuitState {
        match self.open_until.load(Relaxed) {
            0 => CircuitState::Closed,
            until if self.now_ms() < until => CircuitState::Open,
            _ => CircuitState::HalfOpen,
        }
    }

    fn succeeded(&self, probe: bool) {
        if self.failures.load(Relaxed) != 0 {
            self.failures.store(0, Relaxed);
        }
        if probe {
            self.open_until.store(0, Relaxed);
            self.closings.fetch_add(1, Relaxed);
            self.probing.store(false, Relaxed);
            #[cfg(feature = "metrics")]
            metrics::gauge!("cache_redis_circuit_open", "circuit" => self.label.clone()).set(0.0);
            tracing::info!(circuit = %self.label, "Redis answered again: circuit closed");
        }
    }

    fn failed(&self, probe: bool) {
        // A probe admitted before a `reset` is an ordinary failure now.
        let probe = probe && self.probing.load(Relaxed);
        let failures = self.failures.fetch_add(1, Relaxed).saturating_add(1);
        if probe {
            self.probe_retried.store(false, Relaxed);
            self.open_until
                .store(self.now_ms().saturating_add(self.cool_down_ms), Relaxed);
            self.probing.store(false, Relaxed);
            return;
        }
        if self.threshold == 0 || failures < self.threshold {
            return;
        }
        let until = self.now_ms().saturating_add(self.cool_down_ms);
        if self
            .open_until
            .compare_exchange(0, until, Relaxed, Relaxed)
            .is_ok()
        {
            self.probe_retried.store(false, Relaxed);
            self.opened_after.store(failures, Relaxed);
            Counters::bump(&self.counters.circuit_opened);
            #[cfg(feature = "metrics")]
            {
                metrics::gauge!("cache_redis_circuit_open", "circuit" => self.label.clone())
                    .set(1.0);
                metrics::counter!("cache_redis_circuit_opened_total", "circuit" => self.label.clone())
                    .increment(1);
            }
            tracing::warn!(
                circuit = %self.label,
                failures,
                cool_down_ms = self.cool_down_ms,
                "Redis failed {failures} times in a row: circuit open, skipping Redis for {} ms",
                self.cool_down_ms
            );
        }
    }
}

impl Pass<'_> {
    /// Redis answered (possibly with an error reply).
    pub(crate) fn answered(mut self) {
        self.reported = true;
        self.circuit.succeeded(self.probe);
    }

    /// The operation failed in transport: timed out, or the connection was refused,
    /// dropped or could not be made.
    pub(crate) fn failed(mut self) {
        self.reported = true;
        self.circuit.failed(self.probe);
    }

    /// The connection failed at once (refused, reset). For the first probe of a half-open
    /// period this is no verdict: the connection manager answers the first command after an
    /// outage with the error of its last failed reconnection, and only then reconnects. So
    /// the probe is handed to the next operation instead of reopening the circuit.
    pub(crate) fn refused(mut self) {
        self.reported = true;
        let c = self.circuit;
        if self.probe && !c.probe_retried.swap(true, Relaxed) {
            c.probing.store(false, Relaxed);
            return;
        }
        c.failed(self.probe);
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        if self.probe && !self.reported {
            self.circuit.failed(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn circuit(threshold: u32, cool_down_ms: u64) -> Circuit {
        Circuit::new(
            threshold,
            Duration::from_millis(cool_down_ms),
            Arc::new(Counters::default()),
        )
    }

    fn fail(c: &Circuit) {
        if let Ok(pass) = c.admit() {
            pass.failed();
        }
    }

    #[test]
    fn opens_after_threshold_consecutive_failures() {
        let c = circuit(3, 60_000);
        fail(&c);
        fail(&c);
        // A success in between resets the count.
        c.admit().map(Pass::answered).ok();
        fail(&c);
        fail(&c);
        assert_eq!(c.state(), CircuitState::Closed);
        fail(&c);
        assert_eq!(c.state(), CircuitState::Open);
        match c.admit() {
            Err(Error::CircuitOpen { failures }) => assert_eq!(failures, 3),
            other => unreachable!("expected CircuitOpen, got {:?}", other.map(|_| ())),
        }
        assert_eq!(c.counters.circuit_opened.load(Relaxed), 1);
        assert_eq!(c.counters.short_circuited.load(Relaxed), 1);
    }

    #[test]
    fn one_probe_after_cool_down_closes_or_reopens() {
        let c = circuit(1, 20);
        fail(&c);
        assert_eq!(c.state(), CircuitState::Open);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(c.state(), CircuitState::HalfOpen);
        let probe = c.admit().ok();
        assert!(probe.is_some());
        // Only one probe at a time.
        assert!(c.admit().is_err());
        if let Some(p) = probe {
            p.failed();
        }
        assert_eq!(c.state(), CircuitState::Open);
        std::thread::sleep(Duration::from_millis(30));
        c.admit().map(Pass::answered).ok();
        assert_eq!(c.state(), CircuitState::Closed);
        assert!(c.admit().is_ok());
    }

    #[test]
    fn a_refused_probe_is_retried_once() {
        let c = circuit(1, 20);
        fail(&c);
        std::thread::sleep(Duration::from_millis(30));
        if let Ok(probe) = c.admit() {
            probe.refused();
        }
        // Still half-open: the next operation probes again.
        assert_eq!(c.state(), CircuitState::HalfOpen);
        if let Ok(probe) = c.admit() {
            probe.refused();
        }
        assert_eq!(c.state(), CircuitState::Open);
        std::thread::sleep(Duration::from_millis(30));
        // A new half-open period has its own retry.
        if let Ok(probe) = c.admit() {
            probe.refused();
        }
        assert_eq!(c.state(), CircuitState::HalfOpen);
        c.admit().map(Pass::answered).ok();
        assert_eq!(c.state(), CircuitState::Closed);
    }

    #[test]
    fn a_dropped_probe_reopens() {
        let c = circuit(1, 20);
        fail(&c);
        std::thread::sleep(Duration::from_millis(30));
        drop(c.admit());
        assert_eq!(c.state(), CircuitState::Open);
    }

    #[test]
    #[cfg(feature = "sentinel")]
    fn reset_closes_and_a_stale_probe_does_not_reopen() {
        let c = circuit(2, 1);
        fail(&c);
        fail(&c);
        assert!(c.admit().is_err());
        std::thread::sleep(Duration::from_millis(5));
        let stale = c.admit();
        assert!(stale.is_ok(), "a probe after the cool-down");
        c.reset();
        assert_eq!(c.state(), CircuitState::Closed);
        // The probe sent to the old endpoint fails: one failure, below the threshold.
        stale.map(Pass::failed).ok();
        assert_eq!(c.state(), CircuitState::Closed);
        fail(&c);
        assert_eq!(c.state(), CircuitState::Open);
    }

    #[test]
    fn threshold_zero_never_opens() {
        let c = circuit(0, 20);
        for _ in 0..100 {
            fail(&c);
        }
        assert_eq!(c.state(), CircuitState::Closed);
    }
}
