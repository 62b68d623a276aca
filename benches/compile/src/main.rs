//! Calls each of the ten fns of `users` twice, on the embedded memory cache: the binary
//! whose rebuild `benches/compile/run.sh` times (with `--features cached`, the fns carry
//! `#[cached]`).

mod users;

#[tokio::main(flavor = "current_thread")]
async fn main() -> cache_runtime::Result<()> {
    cache_runtime::init(cache_runtime::Cache::memory())?;
    for _ in 0..2 {
        users::call_all().await;
    }
    let stats = cache_runtime::global().stats();
    println!("hits {} misses {}", stats.hits, stats.misses);
    Ok(())
}
