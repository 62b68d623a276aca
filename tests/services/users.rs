//! Cached reads in their own module, as a service lays them out; `handlers` writes through
//! them with `use` imports.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cached, Cache};

#[cached(cache = cache, skip(reads), namespace = "layout.user")]
pub(crate) async fn get_user(id: u64, cache: &Cache, reads: &AtomicUsize) -> Option<String> {
    reads.fetch_add(1, SeqCst);
    Some(format!("user {id}"))
}

#[cached(cache = cache, skip(reads), namespace = "layout.profile")]
pub(crate) async fn get_profile(id: u64, cache: &Cache, reads: &AtomicUsize) -> String {
    reads.fetch_add(1, SeqCst);
    format!("profile {id}")
}
