//! What N Redis hits (or misses) through `#[cached]` cost in instructions, counted by
//! callgrind, which unlike a timer gives the same number on a busy machine:
//!
//! ```text
//! cargo bench -p cache-bench --bench hit_count --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/hit_count-* 1000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/hit_count-* 11000
//! ```
//!
//! The difference of the two totals over 10,000 is the cost of one hit (`l1(false)`, so
//! each hit is a GET and a decode); a second argument `memory` counts hits of the same fn on
//! [`Cache::memory()`](cache_runtime::Cache::memory) instead (what an L1 hit costs). Other
//! second arguments count misses, each of a key never seen (the body returns at once), done
//! three ways:
//!
//! - `miss`: through `#[cached]` (misses in a row: the lease command, then the fill);
//! - `guard`: the same guard by hand with redis-rs (`SET key lease NX PX .. GET`, then a
//!   compare-and-set script: [`cache_bench::by_hand::guarded_miss`], the `compare`
//!   harness's guarded side);
//! - `raw`: a GET that finds nothing, then `SET key value EX ttl` (`by_hand::raw_miss`).
//!
//! Not a criterion bench: it runs once and exits.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use cache_bench::by_hand::{encode, guarded_miss, raw_miss, CAS};
use cache_bench::count::on_redis;
use cache_bench::{get_user, user};
use cache_tests::redis_server::RedisServer;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let side = args.next().unwrap_or_else(|| "hit".to_owned());
    let server = RedisServer::start();
    let url = server.url();
    on_redis(&url, |cache, mut conn| async move {
        let cas = redis::Script::new(CAS);
        // One call of each kind first, so the counted ones find their script loaded and
        // `#[cached]` reading misses in a row with the lease command.
        match side.as_str() {
            "hit" => {
                get_user(&cache, 42).await;
                for _ in 0..n {
                    black_box(get_user(&cache, black_box(42)).await);
                }
                assert_eq!(cache.stats().hits, n);
            }
            "memory" => {
                // The in-process path: the same fn on the memory store, whose hits are what
                // an L1 hit costs (a moka get, the decoded value cloned).
                let memory = cache_runtime::Cache::memory();
                get_user(&memory, 42).await;
                for _ in 0..n {
                    black_box(get_user(&memory, black_box(42)).await);
                }
                assert_eq!(memory.stats().hits, n);
            }
            "miss" => {
                for id in 0..n + 2 {
                    black_box(get_user(&cache, black_box(id)).await);
                }
                assert_eq!(cache.stats().misses, n + 2);
            }
            "guard" => {
                for id in 0..n + 2 {
                    guarded_miss(&mut conn, &cas, black_box(id), || encode(&user(id))).await;
                }
            }
            "raw" => {
                for id in 0..n + 2 {
                    raw_miss(&mut conn, black_box(id), || encode(&user(id))).await;
                }
            }
            other => panic!("unknown side {other:?}: hit, memory, miss, guard or raw"),
        }
    });
}
