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
//! [`Cache::memory()`](cache_runtime::Cache::memory) instead; `l1` counts L1 hits of the same
//! fn on a cache with its in-process tier, and `moka` the reference of those, a raw
//! `moka::future::Cache::get` of a precomputed key (a clone of the same value). Other
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
use std::time::Duration;

use cache_bench::by_hand::{encode, guarded_miss, raw_miss, CAS};
use cache_bench::count::on_redis;
use cache_bench::{get_user, user, User};
use cache_tests::redis_server::RedisServer;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let side = args.next().unwrap_or_else(|| "hit".to_owned());
    let server = RedisServer::start();
    let url = server.url();
    let l1_url = url.clone();
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
            "l1" => {
                // An L1 hit: the same fn on a cache with its in-process tier in front of
                // the server (the first call reads Redis and keeps a copy).
                let tiered = cache_runtime::Cache::builder()
                    .redis_url(l1_url.as_str())
                    .require_redis(true)
                    .build()
                    .await
                    .unwrap();
                assert!(tiered.wait_for_backplane(Duration::from_secs(5)).await);
                get_user(&tiered, 42).await;
                get_user(&tiered, 42).await;
                let before = tiered.stats().l1_hits;
                for _ in 0..n {
                    black_box(get_user(&tiered, black_box(42)).await);
                }
                assert_eq!(tiered.stats().l1_hits - before, n);
            }
            "moka" => {
                // The reference of the `compare` harness's `l1` scenario: a raw
                // `moka::future::Cache::get` of a precomputed key, a clone of the value.
                let moka: moka::future::Cache<String, User> = moka::future::Cache::new(10_000);
                let key = "cache:bench.user:v1.0:precomputed".to_owned();
                moka.insert(key.clone(), user(42)).await;
                for _ in 0..n {
                    black_box(moka.get(black_box(&key)).await);
                }
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
            other => panic!("unknown side {other:?}: hit, memory, l1, moka, miss, guard or raw"),
        }
    });
}
