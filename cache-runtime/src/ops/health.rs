//! What an operator asks of a running cache: is the store there ([`Cache::health`]), and
//! which keys does a namespace hold ([`Cache::keys`], a bounded scan for debugging).

use crate::cache::Cache;
use crate::error::Result;
use crate::key::escape_namespace;
use crate::observe::stats::CircuitState;

/// The state of a cache's store, from [`Cache::health`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Health {
    /// `"memory"`, `"redis"` or `"disabled"`.
    pub backend: &'static str,
    /// Whether the store answered a PING just now (always for memory).
    pub reachable: bool,
    /// Its round trip, in microseconds, when it answered.
    pub latency_us: Option<u64>,
    /// With L1 in front of Redis: whether what keeps it coherent is connected (tracking, or
    /// the backplane's subscription; while it is not, L1 is skipped). `None` without L1.
    pub backplane: Option<bool>,
    /// With L1 in front of Redis: what keeps it coherent (see
    /// [`Stats::coherence`](crate::Stats::coherence)). `None` without L1.
    pub coherence: Option<crate::observe::Coherence>,
    /// The circuit breaker (the worst of a cluster's).
    pub circuit: CircuitState,
    /// With the outage fallback on (Redis, a non-zero
    /// [`fallback_ttl`](crate::CacheBuilder::fallback_ttl)): the entries it holds, served
    /// while the breaker is open. `None` when it is off.
    pub fallback_entries: Option<u64>,
    /// Why the store did not answer.
    pub error: Option<String>,
    /// Why the cache is disabled (`backend` is `"disabled"`): the configuration error,
    /// naming the variable or the missing feature. `None` for a working cache.
    pub disabled_reason: Option<String>,
}

impl Health {
    /// Reachable, and the backplane (if any) subscribed.
    pub fn is_healthy(&self) -> bool {
        self.reachable && self.backplane != Some(false)
    }
}

impl Cache {
    /// PINGs the store (bounded by the operation timeout) and reports it with the
    /// backplane's and the circuit breaker's state. Never fails: a failure is in the report.
    pub async fn health(&self) -> Health {
        let (reachable, latency_us, error) = match self.ping().await {
            Ok(rtt) => (
                true,
                Some(u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX)),
                None,
            ),
            Err(e) => (false, None, Some(e.to_string())),
        };
        Health {
            backend: self.backend(),
            reachable,
            latency_us,
            backplane: self.inner.l1.as_ref().map(|_| self.l1_active()),
            coherence: self.coherence(),
            circuit: self.inner.backend.circuit(),
            fallback_entries: self.fallback_entries(),
            error,
            disabled_reason: self.inner.backend.disabled_reason().map(str::to_owned),
        }
    }

    /// At most `limit` keys of `namespace` (as written in `#[cached(namespace = ...)]`),
    /// without the cache prefix, in no particular order: a bounded SCAN on Redis (every
    /// master of a cluster), for debugging. Fill leases of misses in progress are listed too.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn keys(&self, namespace: &str, limit: usize) -> Result<Vec<String>> {
        let pattern = format!("{}:*", escape_namespace(namespace));
        (self.inner.backend.keys_matching(&pattern, limit).await)
            .map_err(|e| self.failed("keys", e))
    }
}
