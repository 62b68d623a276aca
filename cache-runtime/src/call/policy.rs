//! What one call site asks for: how its values are cached (its policy) and how its
//! function's result relates to the cached value (its shape).

use std::time::Duration;

/// How a call is cached: what `#[cached]` arguments and [`ComputeOptions`](crate::ComputeOptions)
/// set.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    pub(crate) ttl: Option<Duration>,
    pub(crate) l1: bool,
    pub(crate) l1_ttl: Option<Duration>,
    pub(crate) lock: bool,
    /// `ttl_jitter`, in millionths; `None`: the cache's.
    pub(crate) jitter_ppm: Option<u32>,
    /// `stale_if_error`: how long entries are kept past their TTL, to stand in for a body
    /// that fails.
    pub(crate) stale_for: Option<Duration>,
    /// `refresh`: entries older than this are recomputed in the background on a hit.
    pub(crate) refresh: Option<Duration>,
    /// `soft_timeout`: when the body takes longer and a stale value exists, return it and
    /// let the body finish in the background.
    pub(crate) soft_timeout: Option<Duration>,
    /// `compress`: whether values above the cache's threshold are stored compressed.
    pub(crate) compress: bool,
}

impl Policy {
    pub(crate) const DEFAULT: Policy = Policy {
        ttl: None,
        l1: true,
        l1_ttl: None,
        lock: false,
        jitter_ppm: None,
        stale_for: None,
        refresh: None,
        soft_timeout: None,
        compress: true,
    };
}

/// How a function's result relates to the cached value.
pub(crate) struct Shape<R, V> {
    /// The part to store, if the result is cached.
    pub(crate) cacheable: fn(&R) -> Option<&V>,
    /// The result a cached value stands for.
    pub(crate) from_value: fn(V) -> R,
    /// Whether the result is a failure a stale value may replace.
    pub(crate) failed: fn(&R) -> bool,
}

impl<V> Shape<V, V> {
    /// A plain return value: always cached, never a failure.
    pub(crate) fn plain() -> Self {
        Shape {
            cacheable: |value| Some(value),
            from_value: |value| value,
            failed: |_| false,
        }
    }
}

impl<V, E> Shape<Result<V, E>, V> {
    /// A `Result`: `Ok` is cached, `Err` is a failure.
    pub(crate) fn result() -> Self {
        Shape {
            cacheable: |result| result.as_ref().ok(),
            from_value: Ok,
            failed: |result| result.is_err(),
        }
    }
}

// Function pointers only: copyable whatever `R` and `V` are.
impl<R, V> Clone for Shape<R, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R, V> Copy for Shape<R, V> {}
