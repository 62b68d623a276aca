// A method target `Self::get(self, id)` with the struct's own cache. A method gets the hidden
// key fn only with an explicit visibility: a private one writes `pub(self)`.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cache_invalidate, cached, Cache};

#[derive(Debug)]
struct DbError;

struct Users {
    cache: Cache,
    runs: AtomicUsize,
}

impl Users {
    #[cached(cache = self.cache)]
    pub async fn get(&self, id: u64) -> Result<String, DbError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        Ok(format!("user {id}"))
    }

    #[cached(cache = self.cache, namespace = "users.count")]
    pub(self) async fn count(&self) -> u64 {
        self.runs.fetch_add(1, Ordering::SeqCst);
        2
    }

    #[cache_invalidate(Self::get(self, id), Users::count(self), cache = self.cache)]
    pub async fn update(&self, id: u64, name: &str) -> Result<(), DbError> {
        let _ = name;
        Ok(())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let users = Users {
        cache: Cache::memory(),
        runs: AtomicUsize::new(0),
    };
    assert_eq!(users.get(1).await.unwrap(), "user 1");
    assert_eq!(users.get(1).await.unwrap(), "user 1");
    assert_eq!(users.count().await, 2);
    assert_eq!(users.count().await, 2);
    assert_eq!(users.runs.load(Ordering::SeqCst), 2);
    let stats = users.cache.stats();
    assert_eq!((stats.misses, stats.hits), (2, 2));

    users.update(1, "ann").await.unwrap();
    assert_eq!(users.get(1).await.unwrap(), "user 1");
    assert_eq!(users.count().await, 2);
    assert_eq!(users.runs.load(Ordering::SeqCst), 4);
    let stats = users.cache.stats();
    assert_eq!((stats.misses, stats.hits), (4, 2));
}
