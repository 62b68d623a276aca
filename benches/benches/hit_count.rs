//! What N Redis hits through `#[cached]` cost in instructions, counted by callgrind, which
//! unlike a timer gives the same number on a busy machine:
//!
//! ```text
//! cargo bench -p cache-bench --bench hit_count --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/hit_count-* 1000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/hit_count-* 11000
//! ```
//!
//! The difference of the two totals over 10,000 is the cost of one hit (`l1(false)`, so
//! each hit is a GET and a decode). Not a criterion bench: it runs once and exits.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use cache_bench::get_user;
use cache_runtime::Cache;
use cache_tests::redis_server::RedisServer;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let server = RedisServer::start();
    let url = server.url();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cache = Cache::builder()
            .redis_url(url)
            .l1(false)
            .build()
            .await
            .unwrap();
        get_user(&cache, 42).await;
        for _ in 0..n {
            std::hint::black_box(get_user(&cache, std::hint::black_box(42)).await);
        }
        assert_eq!(cache.stats().hits, n);
    });
}
