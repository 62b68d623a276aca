//! The request scope: what the `#[cached]` calls made while handling one request did, and
//! whether they bypass the cache (an operator's `Cache-Control: no-cache`, say).
//!
//! [`RequestScope::run`] runs a future with the scope in a tokio task-local: every
//! `#[cached]` call awaited inside it (not in tasks it spawns) records how it was served.
//! With bypass on, a call serves no cached value and recomputes as a miss does: it joins
//! the key's single flight (concurrent bypassing calls of one key share one run of the
//! body), takes the fill lease, and stores the fresh value under it (so a bypass racing an
//! invalidation never stores a stale value); the next call without the bypass reads it. The
//! axum layer `web::CacheLayer` (feature `axum`) opens one per request, with bypass only for
//! the requests the application lets bypass, and sums it up in an `X-Cache` header.
//!
//! ```
//! use cache_runtime::scope::RequestScope;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let scope = RequestScope::new(false);
//! let answer = scope.run(async { 42 }).await;
//! assert_eq!((answer, scope.summary().x_cache()), (42, None));
//! # }
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::Arc;

use crate::observe::served::Served;

tokio::task_local! {
    static SCOPE: Arc<State>;
}

#[derive(Default)]
struct State {
    bypass: bool,
    hits: AtomicU32,
    misses: AtomicU32,
    stale: AtomicU32,
    bypassed: AtomicU32,
}

/// The scope of one request (cheap to clone: clones share the counts).
#[derive(Clone, Default)]
pub struct RequestScope(Arc<State>);

/// What the cached calls of one scope did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScopeSummary {
    /// Calls served a cached value (L1, store, or another caller's body).
    pub hits: u32,
    /// Calls that ran their body (including when the store failed).
    pub misses: u32,
    /// Calls served a stale value.
    pub stale: u32,
    /// Calls that bypassed the read.
    pub bypassed: u32,
}

impl ScopeSummary {
    /// One word for a response header: `"bypass"` if any call bypassed the cache, else
    /// `"miss"` if any ran its body, else `"stale"` if any was served stale, else `"hit"`;
    /// `None` when no cached call was made.
    pub fn x_cache(&self) -> Option<&'static str> {
        if self.bypassed > 0 {
            Some("bypass")
        } else if self.misses > 0 {
            Some("miss")
        } else if self.stale > 0 {
            Some("stale")
        } else if self.hits > 0 {
            Some("hit")
        } else {
            None
        }
    }
}

impl RequestScope {
    /// A scope; with `bypass`, its cached calls serve no cached value and recompute (each
    /// key's body once for all the callers bypassing it at the same time), storing the
    /// fresh values.
    pub fn new(bypass: bool) -> Self {
        RequestScope(Arc::new(State {
            bypass,
            ..State::default()
        }))
    }

    /// Whether this scope bypasses the cache.
    pub fn bypass(&self) -> bool {
        self.0.bypass
    }

    /// Runs `future` inside this scope.
    pub async fn run<F: Future>(&self, future: F) -> F::Output {
        SCOPE.scope(self.0.clone(), future).await
    }

    /// What the cached calls inside [`run`](RequestScope::run) did so far.
    pub fn summary(&self) -> ScopeSummary {
        let s = &self.0;
        ScopeSummary {
            hits: s.hits.load(Relaxed),
            misses: s.misses.load(Relaxed),
            stale: s.stale.load(Relaxed),
            bypassed: s.bypassed.load(Relaxed),
        }
    }
}

/// Whether the current task runs in a scope that bypasses the cache.
#[inline]
pub(crate) fn bypassing() -> bool {
    SCOPE.try_with(|s| s.bypass).unwrap_or(false)
}

/// Records a call in the current task's scope, if any.
#[inline]
pub(crate) fn record(served: Served) {
    let _ = SCOPE.try_with(|s| {
        let counter = match served {
            Served::L1 | Served::Store | Served::Coalesced => &s.hits,
            Served::Miss | Served::Failed => &s.misses,
            Served::Stale => &s.stale,
            Served::Bypass => &s.bypassed,
        };
        counter.fetch_add(1, Relaxed);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_word_by_precedence() {
        let s = |hits, misses, stale, bypassed| ScopeSummary {
            hits,
            misses,
            stale,
            bypassed,
        };
        assert_eq!(s(0, 0, 0, 0).x_cache(), None);
        assert_eq!(s(3, 0, 0, 0).x_cache(), Some("hit"));
        assert_eq!(s(3, 0, 1, 0).x_cache(), Some("stale"));
        assert_eq!(s(3, 1, 1, 0).x_cache(), Some("miss"));
        assert_eq!(s(3, 1, 1, 1).x_cache(), Some("bypass"));
    }

    #[tokio::test]
    async fn records_only_inside_the_scope() {
        record(Served::Miss);
        let scope = RequestScope::new(true);
        let inner = scope
            .run(async {
                record(Served::Store);
                record(Served::Bypass);
                bypassing()
            })
            .await;
        assert!(inner && !bypassing());
        assert_eq!(
            scope.summary(),
            ScopeSummary {
                hits: 1,
                misses: 0,
                stale: 0,
                bypassed: 1
            }
        );
    }
}
