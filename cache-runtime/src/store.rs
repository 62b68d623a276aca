//! Where entries live: the in-process memory store (the embedded default) or Redis.

pub(crate) mod memory;
#[cfg(feature = "redis")]
pub(crate) mod redis;

/// The store behind one [`Cache`](crate::Cache).
// One per cache, inside its shared `Inner`: boxing the larger variant would only add a
// pointer chase to every operation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Backend {
    /// Process memory (moka); the default when no Redis URL is configured.
    Memory(memory::MemoryStore),
    /// A Redis server.
    #[cfg(feature = "redis")]
    Redis(redis::RedisStore),
    /// Configuration failed (for the global cache built from the environment): every call
    /// runs its body, and every cache operation is an error naming the cause.
    Disabled(String),
}

impl Backend {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Memory(_) => "memory",
            #[cfg(feature = "redis")]
            Backend::Redis(_) => "redis",
            Backend::Disabled(_) => "disabled",
        }
    }

    /// Why the store is disabled, if it is.
    pub(crate) fn disabled_reason(&self) -> Option<&str> {
        match self {
            Backend::Disabled(reason) => Some(reason),
            _ => None,
        }
    }

    /// The circuit breaker's state (`Closed` for the memory store).
    pub(crate) fn circuit(&self) -> crate::observe::stats::CircuitState {
        match self {
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.circuit_state(),
            _ => crate::observe::stats::CircuitState::Closed,
        }
    }
}
