//! Refresh-ahead: a hit on an entry older than the function's `refresh` age returns at once,
//! and one background task recomputes and rewrites the entry.
//!
//! Only detached bodies (`Send + 'static`) can run in the background, so `refresh` implies
//! `detach`. The age is read from the entry's envelope (its creation time), and the check is
//! made on in-process hits (L1 in front of Redis, or the memory store). The rewrite only
//! happens if the entry did not change meanwhile: on Redis a compare-and-set on the exact
//! bytes that were served, in memory under a fill lease, so an invalidation during the
//! refresh still wins.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::Cache;
use crate::call::flight::Joined;
use crate::call::policy::{Policy, Shape};
use crate::codec;
use crate::CacheValue;

impl Cache {
    /// The envelope bytes of an in-process hit on `key` if it is older than `age`.
    pub(crate) fn due_for_refresh(&self, key: &str, age: Duration) -> Option<Arc<[u8]>> {
        let entry = self.in_process()?.get(key)?;
        codec::is_older_than(&entry.bytes, age).then(|| entry.bytes.clone())
    }

    /// A fresh Redis hit on `key` with its bytes, read inline so that a refresh can be
    /// started with the (unpolled) body in hand. Misses and stale entries are `None`: the
    /// detached call then reads again on its task.
    pub(crate) async fn peek_redis<V: CacheValue>(
        &self,
        key: &str,
        fresh_ttl: Duration,
    ) -> Option<(V, Arc<[u8]>)> {
        #[cfg(feature = "redis")]
        if self.inner.backend.remote() {
            let bytes = self.inner.backend.get_bytes(key).await.ok()??;
            if !codec::is_fresh(&bytes, fresh_ttl)? {
                return None;
            }
            let value = codec::decode::<V>(&bytes, key, &self.inner.encoding()).ok()?;
            crate::observe::stats::Counters::bump(&self.inner.counters.hits);
            return Some((value, bytes.into()));
        }
        let _ = (key, fresh_ttl);
        None
    }

    /// A stale value of `key` (past `fresh_ttl`, still kept by `stale_if_error`), for
    /// `soft_timeout`.
    pub(crate) async fn peek_stale<V: CacheValue>(
        &self,
        key: &str,
        fresh_ttl: Duration,
    ) -> Option<V> {
        let found = self.inner.backend.get(key).await.ok()??;
        if codec::is_fresh(found.bytes(), fresh_ttl)? {
            return None; // fresh: the normal path serves it
        }
        codec::decode::<V>(found.bytes(), key, &self.inner.encoding()).ok()
    }

    /// Whether `served` (envelope bytes) is older than `age`.
    pub(crate) fn older_than(served: &[u8], age: Duration) -> bool {
        codec::is_older_than(served, age)
    }

    /// Recomputes `key` on a spawned task (one per key per process at a time).
    pub(crate) fn refresh_in_background<V, R, F>(
        &self,
        key: &str,
        policy: Policy,
        tags: Vec<String>,
        body: F,
        shape: Shape<R, V>,
        served: Arc<[u8]>,
    ) where
        V: CacheValue,
        R: Send + 'static,
        F: Future<Output = R> + Send + 'static,
    {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Joined::Leader(leader) = self.inner.flights.join::<()>(&format!("{key}#refresh"))
        else {
            return; // already refreshing
        };
        let (cache, key) = (self.clone(), key.to_owned());
        handle.spawn(async move {
            let result = body.await;
            if let Some(value) = (shape.cacheable)(&result) {
                cache.rewrite(&key, &policy, &tags, value, &served).await;
            }
            leader.fail();
        });
    }

    /// Rewrites `key` with `value` unless it changed since `served` was read.
    async fn rewrite<V: CacheValue>(
        &self,
        key: &str,
        policy: &Policy,
        tags: &[String],
        value: &V,
        served: &[u8],
    ) {
        let fresh_ttl = self.ttl_or_default(policy.ttl);
        let ttl =
            self.jittered(fresh_ttl, policy.jitter_ppm) + policy.stale_for.unwrap_or_default();
        let encoding = self.inner.encoding().compress(policy.compress);
        let Ok(bytes) = codec::encode(value, key, &encoding) else {
            return;
        };
        if self.inner.backend.check().is_err() {
            return;
        }
        // Replaced only if the key still holds `served`: invalidated or rewritten meanwhile,
        // it stays as it is.
        match (self.inner.backend)
            .replace(key, served, &bytes, value, ttl, tags)
            .await
        {
            // Every process (this one too) drops its L1 copy of the old value.
            Ok(true) if self.inner.backend.remote() => {
                self.forget(crate::tier::backplane::Forget::Key(key)).await
            }
            Ok(_) => {}
            Err(e) => {
                self.failed("refresh", e);
            }
        }
    }
}
