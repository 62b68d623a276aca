// Parameters may use the names generated code would pick (`key`, `cache`, `result`, `value`,
// `handle`): generated names all start with `__cache_`.
use cache_runtime::{cached, Cache};

#[cached]
async fn sum(key: u64, cache: u64, result: u64, value: u64, handle: u64) -> u64 {
    key + cache + result + value + handle
}

#[cached(skip(cache), cache = cache)]
async fn with_cache(cache: &Cache, key: String) -> String {
    let _ = cache;
    key
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    assert_eq!(sum(1, 2, 3, 4, 5).await, 15);
    let cache = Cache::memory();
    assert_eq!(with_cache(&cache, "k".to_owned()).await, "k");
}
