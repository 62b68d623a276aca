//! What a Redis hit costs the client in instructions when T tasks read at once, counted by
//! callgrind, for `#[cached]` (`l1(false)`, so each hit is a Redis read, merged into MGETs by
//! the read coalescer) and for raw redis-rs (GET + decode on a `ConnectionManager`, which
//! pipelines the tasks' GETs on one socket):
//!
//! ```text
//! cargo build --release -p cache-bench --bin conc_count
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/conc_count ours 64 20
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/conc_count ours 64 220
//! ```
//!
//! Arguments: `ours`, `cluster` (ours on a 3-master Redis Cluster the run starts) or `raw`,
//! the number of tasks T, and K, the hits each task makes, each
//! task on its own key, all on one current-thread runtime. The difference of the two totals
//! over 200 × T is the cost of one hit. Only the client is counted: the server is another
//! process. Not a criterion bench: it runs once and exits.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use cache_bench::by_hand::raw_get;
use cache_bench::count::on_redis;
use cache_bench::{get_user, User};
use cache_runtime::Cache;
use cache_tests::cluster::RedisCluster;
use cache_tests::redis_server::RedisServer;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: conc_count ours|cluster|raw TASKS HITS_PER_TASK";
    let (Some(lib), Some(tasks), Some(hits)) = (args.get(1), args.get(2), args.get(3)) else {
        panic!("{usage}");
    };
    let (ours, cluster) = match lib.as_str() {
        "ours" => (true, None),
        "cluster" => (true, Some(RedisCluster::start(3, 0))),
        "raw" => (false, None),
        other => panic!("unknown library {other:?}; {usage}"),
    };
    let tasks: u64 = tasks.parse().expect(usage);
    let hits: u64 = hits.parse().expect(usage);
    let server = RedisServer::start();
    let url = server.url();
    on_redis(&url, |single, conn| async move {
        let cache = match &cluster {
            Some(cluster) => Cache::builder()
                .cluster_nodes(cluster.nodes())
                .l1(false)
                .build()
                .await
                .expect("a cache on the cluster"),
            None => single,
        };
        // Each task's entry, stored by a first (missing) call.
        for id in 0..tasks {
            get_user(&cache, id).await;
        }
        let mut set = tokio::task::JoinSet::new();
        for id in 0..tasks {
            let (cache, mut conn) = (cache.clone(), conn.clone());
            let key = cache_runtime::key_for::<User>("bench.user", 1, &(id,)).unwrap();
            let key = format!("cache:{key}");
            set.spawn(async move {
                for _ in 0..hits {
                    if ours {
                        black_box(get_user(&cache, black_box(id)).await);
                    } else {
                        black_box(raw_get(&mut conn, &key).await);
                    }
                }
            });
        }
        while set.join_next().await.is_some() {}
        if ours {
            assert_eq!(cache.stats().hits, tasks * hits, "every counted call a hit");
        }
    });
}
