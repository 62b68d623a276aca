//! Micro benchmarks of the hit path on the memory store and of key derivation.
//!
//! `cargo bench -p cache-bench --bench hit_path`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use cache_bench::key_args::{self, by_hand, ours};
use cache_bench::{get_user, user, User};
use cache_runtime::Cache;
use criterion::{criterion_group, criterion_main, Criterion};

fn hits(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cache = Cache::memory();
    rt.block_on(get_user(&cache, 42));
    let mut group = c.benchmark_group("memory_hit");
    group.bench_function("cached_fn", |b| {
        b.iter(|| rt.block_on(get_user(&cache, std::hint::black_box(42))))
    });
    let moka: moka::future::Cache<String, User> = moka::future::Cache::new(10_000);
    let key = cache_runtime::key_for::<User>("bench.user", 1, &(42u64,))
        .unwrap()
        .to_string();
    rt.block_on(moka.insert(key.clone(), user(42)));
    group.bench_function("raw_moka_future_get", |b| {
        b.iter(|| rt.block_on(moka.get(std::hint::black_box(&key))))
    });
    group.finish();
}

fn keys(c: &mut Criterion) {
    let five = key_args::five();
    let strings = key_args::strings();
    let map = key_args::map();
    let mut group = c.benchmark_group("key");
    macro_rules! pair {
        ($name:literal, $value:expr) => {
            group.bench_function(concat!("ours_", $name), |b| b.iter(|| ours($value)));
            group.bench_function(concat!("bincode_blake3_", $name), |b| {
                b.iter(|| by_hand($value))
            });
        };
    }
    pair!("u64", &42u64);
    pair!("struct5", &five);
    pair!("vec_string20", &strings);
    pair!("hashmap20", &map);
    group.finish();
}

criterion_group!(benches, hits, keys);
criterion_main!(benches);
