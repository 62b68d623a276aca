//! Invalidation: by exact key, by namespace, and by tag.
//!
//! Invalidation failures never change a `#[cached]` function's result: they are counted in
//! [`Stats::errors`](crate::Stats::errors) and logged, and the entry's TTL remains the bound
//! on how long a stale value can be served.

pub(crate) mod defer;
mod plan;

use std::time::Duration;

use crate::cache::Cache;
use crate::error::Result;
use crate::invalidate::defer::defer;
use crate::key::CacheKey;
use crate::CacheValue;
pub use plan::Plan;

impl Plan {
    /// Applies the plan now (or records it in the enclosing
    /// [`defer_invalidations`](crate::defer_invalidations) scope). Failures are counted and
    /// logged, never returned: the entries' TTL bounds how long they can be served stale.
    pub async fn run(&self, cache: &Cache) {
        if !defer(cache, self) {
            self.apply(cache).await;
        }
    }
}

impl Cache {
    /// Stores `value` under `key` for `ttl` (`None`: the default TTL), recorded under each of
    /// `tags`, so that [`invalidate_tag`](Cache::invalidate_tag) of any of them deletes it.
    ///
    /// `#[cached(tags = ["user:{id}"])]` records its entries the same way.
    ///
    /// # Errors
    /// As [`set`](Cache::set).
    pub async fn set_with_tags<T: CacheValue>(
        &self,
        key: impl AsRef<str>,
        value: &T,
        ttl: Option<Duration>,
        tags: &[&str],
    ) -> Result<()> {
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        self.write_tagged(key.as_ref(), value, self.ttl_or_default(ttl), &tags)
            .await
    }

    /// Deletes the entry under `key` (as computed by [`key_for`](crate::key_for) for a
    /// `#[cached]` fn). Returns whether it existed.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn invalidate_key(&self, key: impl AsRef<str>) -> Result<bool> {
        if defer(self, Plan::new().key(CacheKey::new(key.as_ref()))) {
            return Ok(false);
        }
        self.remove(key.as_ref()).await
    }

    /// Deletes every entry of `namespace` (every version and value type). Returns how many.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn invalidate_namespace(&self, namespace: &str) -> Result<u64> {
        self.clear_namespace(namespace).await
    }

    /// Deletes every key matching `pattern` (only `*` is a wildcard), like
    /// [`clear_pattern`](Cache::clear_pattern). Returns how many.
    ///
    /// # Errors
    /// [`Error::Pattern`](crate::Error::Pattern) when `pattern` holds more than 8 wildcards;
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn invalidate_pattern(&self, pattern: &str) -> Result<u64> {
        self.clear_pattern(pattern).await
    }

    /// Deletes every entry recorded under `tag` (by `#[cached(tags = [...])]` or
    /// [`set_with_tags`](Cache::set_with_tags)), in bounded batches. Returns how many.
    ///
    /// Tags express dependencies: give the entries that depend on a record that record's
    /// tag (`"user:42"` on the profile, the permissions and the feed of user 42), and one
    /// `invalidate_tag("user:42")` drops them all.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn invalidate_tag(&self, tag: &str) -> Result<u64> {
        if defer(self, Plan::new().tag(tag)) {
            return Ok(0);
        }
        self.invalidate_tag_now(tag).await
    }

    pub(crate) async fn invalidate_tag_now(&self, tag: &str) -> Result<u64> {
        (self.inner.backend.check()).map_err(|e| self.failed("invalidate_tag", e))?;
        let deleted = (self.inner.backend.delete_tag(tag).await)
            .map_err(|e| self.failed("invalidate_tag", e));
        // Even after a failure: some entries may be gone.
        self.forget(crate::tier::backplane::Forget::Tag(tag)).await;
        deleted
    }

    /// [`invalidate_tag`](Cache::invalidate_tag) for each of `tags`. Returns how many entries
    /// were deleted in all.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached (tags before
    /// the failing one are already invalidated).
    pub async fn invalidate_tags(&self, tags: &[&str]) -> Result<u64> {
        let mut removed = 0;
        for tag in tags {
            removed += self.invalidate_tag(tag).await?;
        }
        Ok(removed)
    }
}
