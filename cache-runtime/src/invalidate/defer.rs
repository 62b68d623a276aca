//! Invalidations held back until a database transaction has committed.

use std::cell::RefCell;
use std::future::Future;

use crate::cache::Cache;
use crate::invalidate::plan::Plan;

tokio::task_local! {
    static DEFERRED: RefCell<Vec<(Cache, Plan)>>;
}

/// Runs `scope`, holding back every invalidation made inside it (by `#[cache_invalidate]`
/// and by the manual `invalidate_*` methods) until it returns: on `Ok` they are applied, in
/// order; on `Err` (a rolled-back transaction) they are dropped.
///
/// An invalidation issued inside a transaction must not run before the commit (a reader
/// would re-cache the old row in between) nor at all if the transaction rolls back:
///
/// ```
/// # use cache_runtime::{defer_invalidations, Cache};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let cache = Cache::memory();
/// # cache.set("user:42", &"old".to_owned(), None).await?;
/// let result: Result<(), Box<dyn std::error::Error>> = defer_invalidations(async {
///     // tx.execute("UPDATE users ...").await?;
///     cache.invalidate_key("user:42").await?; // recorded, not applied yet
///     assert!(cache.exists("user:42").await?);
///     // tx.commit().await?;
///     Ok(())
/// })
/// .await;
/// result?;
/// assert!(!cache.exists("user:42").await?); // applied after the scope returned Ok
/// # Ok(()) }
/// ```
///
/// Inside the scope the manual methods return `0` / `false`: nothing has been deleted yet.
/// Scopes nest: an inner scope's invalidations wait for the outermost scope to succeed.
/// The scope is task-local: work spawned onto other tasks is not covered.
pub async fn defer_invalidations<F, T, E>(scope: F) -> Result<T, E>
where
    F: Future<Output = Result<T, E>>,
{
    let (result, deferred) = DEFERRED
        .scope(RefCell::new(Vec::new()), async {
            let result = scope.await;
            let deferred = DEFERRED.with(RefCell::take);
            (result, deferred)
        })
        .await;
    if result.is_ok() {
        let handed_up = DEFERRED
            .try_with(|outer| outer.borrow_mut().extend(deferred.iter().cloned()))
            .is_ok();
        if !handed_up {
            for (cache, plan) in deferred {
                plan.apply(&cache).await;
            }
        }
    }
    result
}

/// Records `plan` in the enclosing scope, if there is one. Returns whether it was recorded.
pub(crate) fn defer(cache: &Cache, plan: &Plan) -> bool {
    DEFERRED
        .try_with(|d| d.borrow_mut().push((cache.clone(), plan.clone())))
        .is_ok()
}
