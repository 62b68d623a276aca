//! A Redis hit through `#[cached]` against raw redis-rs on the same connection kind, all
//! against one redis-server this bench starts on a free loopback port.
//!
//! `cargo bench -p cache-bench --bench redis_hit` (pin with `taskset -c 0` to see the
//! library's own cost rather than the cost of waking an idle CPU).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use cache_bench::{get_user, User};
use cache_runtime::Cache;
use cache_tests::redis_server::RedisServer;
use criterion::{criterion_group, criterion_main, Criterion};

fn redis_hits(c: &mut Criterion) {
    let server = RedisServer::start();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Redis only (every hit is a GET), and Redis with the in-process tier in front.
    let cache = rt
        .block_on(Cache::builder().redis_url(server.url()).l1(false).build())
        .unwrap();
    let tiered = rt
        .block_on(Cache::builder().redis_url(server.url()).build())
        .unwrap();
    rt.block_on(tiered.wait_for_backplane(std::time::Duration::from_secs(5)));
    rt.block_on(get_user(&cache, 42));
    rt.block_on(get_user(&tiered, 42));
    rt.block_on(get_user(&tiered, 42));
    let key = cache_runtime::key_for::<User>("bench.user", 1, &(42u64,)).unwrap();
    let redis_key = format!("cache:{key}");
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = rt
        .block_on(redis::aio::ConnectionManager::new(client))
        .unwrap();

    let mut group = c.benchmark_group("redis_hit");
    group.bench_function("cached_fn", |b| {
        b.iter(|| rt.block_on(get_user(&cache, std::hint::black_box(42))))
    });
    group.bench_function("cached_fn_l1", |b| {
        b.iter(|| rt.block_on(get_user(&tiered, std::hint::black_box(42))))
    });
    group.bench_function("raw_get_decode", |b| {
        b.iter(|| {
            rt.block_on(async {
                let bytes: Vec<u8> = redis::cmd("GET")
                    .arg(&redis_key)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                let (user, _): (User, usize) =
                    bincode::serde::decode_from_slice(&bytes[12..], bincode::config::standard())
                        .unwrap();
                user
            })
        })
    });
    let lease = [0xCBu8; 26];
    group.bench_function("raw_set_nx_get_decode", |b| {
        b.iter(|| {
            rt.block_on(async {
                let bytes: Vec<u8> = redis::cmd("SET")
                    .arg(&redis_key)
                    .arg(&lease[..])
                    .arg("NX")
                    .arg("PX")
                    .arg(30_000)
                    .arg("GET")
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                let (user, _): (User, usize) =
                    bincode::serde::decode_from_slice(&bytes[12..], bincode::config::standard())
                        .unwrap();
                user
            })
        })
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, redis_hits);
criterion_main!(benches);
