// A method is a target when `#[cached]` could emit its hidden items: with a visibility, or
// under `#[cache_targets]` (which a trait impl needs). The error says what to add.
use cache_runtime::{cache_invalidate, cache_put, cached, Cache};

trait Repo {
    async fn get(&self, id: u64) -> Option<String>;
}

struct Users {
    cache: Cache,
}

// No `#[cache_targets]`: `get` caches, but is not a target.
impl Repo for Users {
    #[cached(cache = self.cache)]
    async fn get(&self, id: u64) -> Option<String> {
        Some(format!("user {id}"))
    }
}

impl Users {
    // Private, without `#[cache_targets]`.
    #[cached(cache = self.cache)]
    async fn name(&self, id: u64) -> String {
        format!("user {id}")
    }

    // Not `#[cached]` at all.
    async fn plain(&self, id: u64) -> u64 {
        id
    }

    #[cache_invalidate(<Self as Repo>::get(self, id), Self::name(self, id))]
    pub async fn rename(&self, id: u64) {}

    #[cache_invalidate(all(Self::name))]
    pub async fn clear(&self) {}

    #[cache_put(Self::plain(self, id))]
    pub async fn save(&self, id: u64) -> u64 {
        id
    }
}

fn main() {}
