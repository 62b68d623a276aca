//! What `#[cached]` expands to. Not public API: exempt from semver, never used by hand.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use ::core;

pub use crate::global::global;
pub use crate::key::KeyBuilder;
use crate::key::SiteKey;
use crate::{Cache, CacheValue};

/// The static description of one `#[cached]` function.
pub struct Site {
    key: SiteKey,
    ttl: Option<Duration>,
    cache_none: bool,
}

impl Site {
    /// A site in `namespace` at `version`, with the cache's default TTL.
    pub const fn new(namespace: &'static str, version: u32) -> Site {
        Site {
            key: SiteKey::new(namespace, version),
            ttl: None,
            cache_none: false,
        }
    }

    /// Entries of this site live for `ttl`.
    pub const fn ttl(mut self, ttl: Duration) -> Site {
        self.ttl = Some(ttl);
        self
    }

    /// `cache_none = true` was given (the `Option` return is cached as a plain value).
    pub const fn cache_none(mut self, yes: bool) -> Site {
        self.cache_none = yes;
        self
    }
}

/// A handle the `cache = ...` argument may name: `Cache`, `&Cache`, `Arc<Cache>`, ...
pub trait AsCache {
    /// The cache.
    fn as_cache(&self) -> &Cache;
}

impl AsCache for Cache {
    fn as_cache(&self) -> &Cache {
        self
    }
}

impl<T: AsCache + ?Sized> AsCache for &T {
    fn as_cache(&self) -> &Cache {
        (**self).as_cache()
    }
}

impl<T: AsCache + ?Sized> AsCache for Arc<T> {
    fn as_cache(&self) -> &Cache {
        (**self).as_cache()
    }
}

/// A return type whose success part is cached: `Result<T, E>` caches `Ok`, `Option<T>`
/// caches `Some`.
pub trait Outcome {
    /// The cached part.
    type Value;
    /// The part to store, if this outcome is cached.
    fn cacheable(&self) -> Option<&Self::Value>;
    /// The outcome a cached value stands for.
    fn from_value(value: Self::Value) -> Self;
}

impl<T, E> Outcome for Result<T, E> {
    type Value = T;
    fn cacheable(&self) -> Option<&T> {
        self.as_ref().ok()
    }
    fn from_value(value: T) -> Self {
        Ok(value)
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn cacheable(&self) -> Option<&T> {
        self.as_ref()
    }
    fn from_value(value: T) -> Self {
        Some(value)
    }
}

/// Compile-time check that a plain return type can be cached (errors point at it).
pub fn assert_value<V: CacheValue>() {}

/// Compile-time check that the cached part of a `Result`/`Option` return can be cached.
pub fn assert_outcome<O: Outcome>()
where
    O::Value: CacheValue,
{
}

/// A `#[cached]` fn returning a plain value.
pub async fn cached_plain<V, F>(
    cache: &Cache,
    site: &'static Site,
    mut key: KeyBuilder,
    body: F,
) -> V
where
    V: CacheValue,
    F: Future<Output = V>,
{
    let tags = key.take_tags();
    let key = match key.build_for_site::<V>(&site.key) {
        Ok(key) => key,
        Err(e) => {
            cache.failed("key", e);
            return body.await;
        }
    };
    match cache.read::<V>(key.as_str()).await {
        Ok(Some(value)) => return value,
        Ok(None) => {}
        Err(_) => {} // counted and logged by `read`; fail open
    }
    let value = body.await;
    let _ = cache
        .write_tagged(key.as_str(), &value, cache.ttl_or_default(site.ttl), &tags)
        .await;
    value
}

/// A `#[cached]` fn returning `Result` or `Option`: only `Ok` / `Some` is cached.
pub async fn cached_outcome<O, F>(
    cache: &Cache,
    site: &'static Site,
    mut key: KeyBuilder,
    body: F,
) -> O
where
    O: Outcome,
    O::Value: CacheValue,
    F: Future<Output = O>,
{
    let tags = key.take_tags();
    let key = match key.build_for_site::<O::Value>(&site.key) {
        Ok(key) => key,
        Err(e) => {
            cache.failed("key", e);
            return body.await;
        }
    };
    if let Ok(Some(value)) = cache.read::<O::Value>(key.as_str()).await {
        return O::from_value(value);
    }
    let outcome = body.await;
    if let Some(value) = outcome.cacheable() {
        let _ = cache
            .write_tagged(key.as_str(), value, cache.ttl_or_default(site.ttl), &tags)
            .await;
    }
    outcome
}
