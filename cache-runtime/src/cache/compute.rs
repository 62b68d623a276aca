//! `get_or_compute`: the `#[cached]` call path for code that builds its keys by hand.

use std::future::Future;
use std::time::Duration;

use crate::cache::Cache;
use crate::call::{self, Policy, Shape};
use crate::CacheValue;

/// How [`Cache::get_or_compute`] caches: the same knobs as the `#[cached]` arguments.
///
/// ```
/// use std::time::Duration;
/// use cache_runtime::ComputeOptions;
/// let options = ComputeOptions::new()
///     .ttl(Duration::from_secs(600))
///     .tags(["user:42"])
///     .lock(true)
///     .ttl_jitter(0.1);
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct ComputeOptions {
    policy: Policy,
    tags: Vec<String>,
}

impl Default for ComputeOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ComputeOptions {
    /// The cache's defaults: its TTL and TTL jitter, L1 on, no tags, no cross-process lock.
    pub fn new() -> Self {
        ComputeOptions {
            policy: Policy::DEFAULT,
            tags: Vec::new(),
        }
    }

    /// How long the value lives (like `#[cached(ttl = ..)]`).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.policy.ttl = Some(ttl);
        self
    }

    /// Tags to record the entry under (like `#[cached(tags = [..])]`).
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Wait for another process's fill instead of computing too (like `lock = true`).
    pub fn lock(mut self, yes: bool) -> Self {
        self.policy.lock = yes;
        self
    }

    /// Keep the value in the in-process tier (like `l1 = ..`; default on).
    pub fn l1(mut self, yes: bool) -> Self {
        self.policy.l1 = yes;
        self
    }

    /// The longest the value stays in the in-process tier (like `l1_ttl = ..`).
    pub fn l1_ttl(mut self, ttl: Duration) -> Self {
        self.policy.l1_ttl = Some(ttl);
        self
    }

    /// Keep the value this long past its TTL; when the computation fails (`Err`, with
    /// [`try_get_or_compute`](Cache::try_get_or_compute)), the stale value is returned
    /// instead (like `stale_if_error = ..`).
    pub fn stale_if_error(mut self, window: Duration) -> Self {
        self.policy.stale_for = Some(window);
        self
    }

    /// On a hit older than this, recompute in the background (like `refresh = ..`; only with
    /// [`get_or_compute_detached`](Cache::get_or_compute_detached), whose computation can
    /// run in the background).
    pub fn refresh(mut self, age: Duration) -> Self {
        self.policy.refresh = Some(age);
        self
    }

    /// With a stale value kept by [`stale_if_error`](ComputeOptions::stale_if_error), wait
    /// at most this for the computation, then return the stale value and let it finish in the
    /// background (like `soft_timeout = ..`; only with the detached methods).
    pub fn soft_timeout(mut self, timeout: Duration) -> Self {
        self.policy.soft_timeout = Some(timeout);
        self
    }

    /// Store the value compressed when its encoding is above the cache's
    /// [threshold](crate::CacheBuilder::compress_threshold) and lz4 shrinks it (like
    /// `compress = ..`; default on). Turn it off for values that are already compressed
    /// (images, archives) to save the attempt.
    pub fn compress(mut self, yes: bool) -> Self {
        self.policy.compress = yes;
        self
    }

    /// Shorten the TTL by a random fraction up to this (like `ttl_jitter = ..`; clamped to
    /// 0.0..=1.0).
    pub fn ttl_jitter(mut self, fraction: f64) -> Self {
        self.policy.jitter_ppm = Some((fraction.clamp(0.0, 1.0) * 1_000_000.0) as u32);
        self
    }
}

impl Cache {
    /// The value under `key`, or the one `compute` returns (stored under `key`), with
    /// everything `#[cached]` does: L1, single flight, the fill lease that refuses stale
    /// writes, `lock`, tags. A store failure never fails the call: `compute` runs and its
    /// value is returned.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use cache_runtime::{Cache, ComputeOptions};
    /// let cache = Cache::memory();
    /// let options = ComputeOptions::new().tags(["user:7"]);
    /// let name = cache.get_or_compute("user:7:name", &options, || async { "Ada".to_owned() }).await;
    /// let again: String = cache
    ///     .get_or_compute("user:7:name", &options, || async { unreachable!() })
    ///     .await;
    /// assert_eq!((name.as_str(), again.as_str()), ("Ada", "Ada"));
    /// # }
    /// ```
    pub async fn get_or_compute<T, F, Fut>(
        &self,
        key: impl AsRef<str>,
        options: &ComputeOptions,
        compute: F,
    ) -> T
    where
        T: CacheValue,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        call::run(
            self,
            &options.policy,
            call::Mode::Read,
            call::Manual(key.as_ref()),
            options.tags.clone(),
            async move { compute().await },
            Shape::plain(),
        )
        .await
    }

    /// Like [`get_or_compute`](Cache::get_or_compute) for a computation that can fail: an
    /// `Err` is returned and not cached.
    pub async fn try_get_or_compute<T, E, F, Fut>(
        &self,
        key: impl AsRef<str>,
        options: &ComputeOptions,
        compute: F,
    ) -> Result<T, E>
    where
        T: CacheValue,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        call::run(
            self,
            &options.policy,
            call::Mode::Read,
            call::Manual(key.as_ref()),
            options.tags.clone(),
            async move { compute().await },
            Shape::result(),
        )
        .await
    }

    /// Like [`get_or_compute`](Cache::get_or_compute), but the computation runs detached from
    /// the caller, on a spawned task: a caller dropped mid-call (a timed-out request, a client
    /// gone away) neither cancels the fill nor stalls the other callers, who share its value.
    /// The computation must be `Send + 'static` (own what it uses); a hit costs no spawn.
    ///
    /// If the computation panics, the panic is resumed in the caller, as with an inline call
    /// (the other callers of the key run their own computation).
    pub async fn get_or_compute_detached<T, F, Fut>(
        &self,
        key: impl AsRef<str>,
        options: &ComputeOptions,
        compute: F,
    ) -> T
    where
        T: CacheValue,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = T> + Send + 'static,
    {
        call::run_detached(
            self,
            options.policy,
            call::Mode::Read,
            call::Manual(key.as_ref()),
            options.tags.clone(),
            async move { compute().await },
            Shape::plain(),
        )
        .await
    }

    /// [`get_or_compute_detached`](Cache::get_or_compute_detached) for a computation that can
    /// fail: an `Err` is returned and not cached (and, with
    /// [`stale_if_error`](ComputeOptions::stale_if_error), answered with a stale value).
    pub async fn try_get_or_compute_detached<T, E, F, Fut>(
        &self,
        key: impl AsRef<str>,
        options: &ComputeOptions,
        compute: F,
    ) -> Result<T, E>
    where
        T: CacheValue,
        E: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
    {
        call::run_detached(
            self,
            options.policy,
            call::Mode::Read,
            call::Manual(key.as_ref()),
            options.tags.clone(),
            async move { compute().await },
            Shape::result(),
        )
        .await
    }
}
