//! Micro benchmarks of the hit path on the memory store and of key derivation.
//!
//! `cargo bench -p cache-bench --bench hit_path`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use cache_bench::{get_user, user, User};
use cache_runtime::{Cache, KeyBuilder};
use criterion::{criterion_group, criterion_main, Criterion};
use serde::Serialize;

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

#[derive(Serialize)]
struct Five {
    a: u64,
    b: String,
    c: bool,
    d: f64,
    e: Vec<u32>,
}

fn keys(c: &mut Criterion) {
    let five = Five {
        a: 7,
        b: "hello".into(),
        c: true,
        d: 1.5,
        e: vec![1, 2, 3],
    };
    let strings: Vec<String> = (0..20).map(|i| format!("item-{i}")).collect();
    let map: HashMap<String, u64> = (0..20).map(|i| (format!("k{i}"), i)).collect();
    let mut group = c.benchmark_group("key");
    macro_rules! pair {
        ($name:literal, $value:expr) => {
            group.bench_function(concat!("ours_", $name), |b| {
                b.iter(|| {
                    let mut kb = KeyBuilder::new();
                    kb.arg(std::hint::black_box($value));
                    kb.build::<u64>("bench", 1).unwrap()
                })
            });
            group.bench_function(concat!("bincode_blake3_", $name), |b| {
                b.iter(|| {
                    let bytes = bincode::serde::encode_to_vec(
                        std::hint::black_box($value),
                        bincode::config::standard(),
                    )
                    .unwrap();
                    blake3::hash(&bytes)
                })
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
