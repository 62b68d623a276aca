// Methods on `&self` (inherent or trait impls) work, `cache = self.cache` picks the struct's
// own cache, and `self` is not part of the key.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cache_runtime::{cached, Cache};

struct Users {
    cache: Cache,
    runs: AtomicUsize,
}

impl Users {
    #[cached(cache = self.cache)]
    async fn name(&self, id: u64) -> String {
        self.runs.fetch_add(1, Ordering::SeqCst);
        format!("user {id}")
    }

    #[cached(cache = self.cache, namespace = "users.shout")]
    pub async fn shout(&self, id: u64) -> String {
        self.name(id).await.to_uppercase()
    }
}

trait Count {
    async fn count(&self, table: String) -> u64;
}

impl Count for Users {
    #[cached(cache = self.cache)]
    async fn count(&self, table: String) -> u64 {
        self.runs.fetch_add(1, Ordering::SeqCst);
        table.len() as u64
    }
}

struct Shared {
    cache: Arc<Cache>,
}

impl Shared {
    #[cached(cache = &self.cache)]
    async fn double(&self, n: u64) -> u64 {
        n * 2
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let users = Users {
        cache: Cache::memory(),
        runs: AtomicUsize::new(0),
    };
    assert_eq!(users.name(1).await, "user 1");
    assert_eq!(users.name(1).await, "user 1");
    assert_eq!(users.shout(1).await, "USER 1");
    assert_eq!(users.runs.load(Ordering::SeqCst), 1);
    assert_eq!(users.count("abc".to_owned()).await, 3);
    assert_eq!(users.count("abc".to_owned()).await, 3);
    assert_eq!(users.runs.load(Ordering::SeqCst), 2);
    let shared = Shared {
        cache: Arc::new(Cache::memory()),
    };
    assert_eq!(shared.double(21).await, 42);
}
