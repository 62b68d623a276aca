// Generic parameters, lifetimes and where clauses are kept as written; each value type gets its
// own entries.
use std::fmt::Display;

use cache_runtime::{cached, Cache};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[cached]
async fn describe<'a, T>(item: &'a T, times: usize) -> String
where
    T: Display + Serialize + ?Sized,
{
    item.to_string().repeat(times)
}

#[cached(namespace = "defaults")]
async fn default_of<T>(id: u64) -> T
where
    T: Default + Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let _ = id;
    T::default()
}

#[cached]
async fn fill<const N: usize>(value: u8) -> Vec<u8> {
    vec![value; N]
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    assert_eq!(describe("ab", 2).await, "abab");
    assert_eq!(describe(&7u8, 3).await, "777");
    assert_eq!(default_of::<u64>(1).await, 0);
    assert_eq!(default_of::<String>(1).await, "");
    assert_eq!(fill::<3>(1).await, vec![1, 1, 1]);
}
