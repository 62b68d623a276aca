//! What one invalidation deletes: exact keys, namespaces, tags and patterns, and how it is
//! applied. Whether it is applied at once or held back until a transaction commits is
//! [`Plan::run`]'s choice (see [`defer`](crate::invalidate::defer)).

use crate::cache::Cache;
use crate::key::CacheKey;

/// A set of invalidations: exact keys, namespaces, tags and patterns.
///
/// `#[cache_invalidate]` builds one before the body runs (the arguments may be moved by the
/// body) and applies it after; inside [`defer_invalidations`](crate::defer_invalidations) it
/// is recorded and applied when the scope succeeds.
#[derive(Clone, Default, Debug)]
pub struct Plan {
    keys: Vec<CacheKey>,
    namespaces: Vec<String>,
    tags: Vec<String>,
    patterns: Vec<String>,
}

impl Plan {
    /// An empty plan.
    pub fn new() -> Self {
        Plan::default()
    }

    /// Invalidate the entry under `key`.
    pub fn key(&mut self, key: CacheKey) -> &mut Self {
        self.keys.push(key);
        self
    }

    /// Invalidate every entry of `namespace`.
    pub fn namespace(&mut self, namespace: impl Into<String>) -> &mut Self {
        self.namespaces.push(namespace.into());
        self
    }

    /// Invalidate every entry recorded under `tag`.
    pub fn tag(&mut self, tag: impl Into<String>) -> &mut Self {
        self.tags.push(tag.into());
        self
    }

    /// Invalidate every key matching `pattern` (only `*` is a wildcard; see
    /// [`Cache::clear_pattern`]). A pattern with more than
    /// [`MAX_WILDCARDS`](crate::MAX_WILDCARDS) wildcards deletes nothing when the plan runs,
    /// and is counted and logged as a failed clear.
    pub fn pattern(&mut self, pattern: impl Into<String>) -> &mut Self {
        self.patterns.push(pattern.into());
        self
    }

    /// Whether the plan invalidates nothing.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
            && self.namespaces.is_empty()
            && self.tags.is_empty()
            && self.patterns.is_empty()
    }

    /// Applies the plan now, whatever the scope.
    pub(crate) async fn apply(&self, cache: &Cache) {
        // Each step already counted and logged its failure; carry on with the rest.
        for key in &self.keys {
            let _ = cache.remove(key.as_str()).await;
        }
        for namespace in &self.namespaces {
            let _ = cache.clear_namespace_now(namespace).await;
        }
        for tag in &self.tags {
            let _ = cache.invalidate_tag_now(tag).await;
        }
        for pattern in &self.patterns {
            let _ = cache.clear_pattern_now(pattern).await;
        }
    }
}
