//! The one error type of the crate.

use std::fmt;

/// What went wrong in a cache operation.
///
/// `#[cached]` functions never surface these: the cache fails open (the body runs and its
/// result is returned) and the error is counted in [`Stats::errors`](crate::Stats::errors)
/// and logged. The manual API ([`Cache::get`](crate::Cache::get) and friends) returns them.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Configuration is invalid: a malformed environment variable or builder value.
    ///
    /// The message names the variable or setter and what it accepts; fix the value.
    #[error("invalid cache configuration: {0}")]
    Config(String),
    /// The store (Redis) could not be reached or answered with an error.
    ///
    /// Check that Redis runs at the configured URL and that the credentials in the URL are
    /// right. The password is never part of this message.
    #[error("cache store error: {0}")]
    Store(String),
    /// A value could not be encoded, or stored bytes could not be decoded as the asked type.
    ///
    /// On reads this means the entry was corrupt, foreign, or written for another type: it is
    /// treated as a miss and deleted. On writes it means the value's `Serialize` impl failed.
    #[error("cache codec error: {0}")]
    Codec(String),
    /// Redis failed too often in a row, and the circuit breaker skips it for a cool-down.
    ///
    /// Nothing is wrong with the call: it ran without the cache. The breaker lets one probe
    /// through after [`CacheBuilder::circuit_cool_down`](crate::CacheBuilder::circuit_cool_down)
    /// and closes when it succeeds; tune it with
    /// [`CacheBuilder::circuit_threshold`](crate::CacheBuilder::circuit_threshold).
    #[error("Redis is skipped for now: the circuit breaker opened after {failures} consecutive failures")]
    CircuitOpen {
        /// The consecutive failures that opened the circuit.
        failures: u32,
    },
    /// A key pattern given to [`Cache::clear_pattern`](crate::Cache::clear_pattern) (or
    /// `invalidate_pattern`, or the admin API) holds more `*` wildcards than the
    /// [8 allowed](crate::MAX_WILDCARDS); nothing was deleted.
    ///
    /// Use fewer wildcards, or write `\*` where a literal `*` is meant.
    #[error("invalid key pattern: {0}")]
    Pattern(String),
    /// The encoded value is larger than the configured maximum and was not stored.
    ///
    /// Raise [`CacheBuilder::max_value_bytes`](crate::CacheBuilder::max_value_bytes) (or
    /// `CACHE_MAX_VALUE_BYTES`) if such values should be cached.
    #[error("value of {size} bytes exceeds the maximum of {max} bytes and was not cached")]
    TooLarge {
        /// Encoded size of the rejected value.
        size: usize,
        /// The configured maximum.
        max: usize,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn config(msg: impl fmt::Display) -> Self {
        Error::Config(msg.to_string())
    }
    pub(crate) fn store(msg: impl fmt::Display) -> Self {
        Error::Store(msg.to_string())
    }
    pub(crate) fn codec(msg: impl fmt::Display) -> Self {
        Error::Codec(msg.to_string())
    }
}
