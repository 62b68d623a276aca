// `crate = path` finds the runtime under another name (a renamed dependency or a re-export).
extern crate cache_runtime as my_cache;

mod reexport {
    pub use ::cache_runtime as runtime;
}

#[my_cache::cached(crate = my_cache)]
async fn double(n: u64) -> u64 {
    n * 2
}

#[reexport::runtime::cached(crate = crate::reexport::runtime, ttl = "1h")]
async fn triple(n: u64) -> Option<u64> {
    n.checked_mul(3)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    my_cache::init(my_cache::Cache::memory()).unwrap();
    assert_eq!(double(2).await, 4);
    assert_eq!(triple(2).await, Some(6));
}
