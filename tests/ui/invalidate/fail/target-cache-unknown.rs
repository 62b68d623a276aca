// A writer without `cache = ...` acts on the cache its target reads from; when the target's
// `cache = ...` reads what the target does not pass, the writer must name the cache.
use std::sync::Arc;

use cache_runtime::{cache_invalidate, cache_put, cached, Cache};

// `cache` is a parameter, never part of the key: `get_user(id)` does not pass it.
#[cached(cache = cache)]
async fn get_user(id: u64, cache: &Cache) -> u64 {
    id
}

#[cache_invalidate(get_user(id))]
async fn rename(id: u64, cache: &Cache) {}

#[cache_put(get_user(id))]
async fn save(id: u64, cache: &Cache) -> u64 {
    id
}

struct Users {
    cache: Arc<Cache>,
}

impl Users {
    #[cached(cache = self.cache)]
    pub async fn get(&self, id: u64) -> u64 {
        id
    }

    // `all(..)` passes no `self` to find `self.cache` with.
    #[cache_invalidate(all(Self::get))]
    pub async fn clear(&self) {}
}

fn main() {}
