//! The arguments of the key-derivation measurements (the compare harness's `keys`
//! scenario, `key_count`, the criterion `key` group): a `u64`, a struct of 5 fields, a
//! `Vec<String>` of 20 and a `HashMap<String, u64>` of 20, each with a `#[cached]` fn taking
//! it (whose hidden `<name>::key` fn is the macro's own key path), plus the two ways
//! of deriving a key from them that are compared.

use std::collections::HashMap;
use std::hint::black_box;

use cache_runtime::{cached, Cache, CacheKey, KeyBuilder};
use serde::Serialize;

use crate::User;

/// A struct of 5 fields, as an argument.
#[derive(Serialize)]
pub struct Five {
    a: u64,
    b: String,
    c: bool,
    d: f64,
    e: Vec<u32>,
}

/// The measured 5-field struct.
pub fn five() -> Five {
    Five {
        a: 7,
        b: "hello".into(),
        c: true,
        d: 1.5,
        e: vec![1, 2, 3],
    }
}

/// The measured `Vec<String>` of 20.
pub fn strings() -> Vec<String> {
    (0..20).map(|i| format!("item-{i}")).collect()
}

/// The measured `HashMap<String, u64>` of 20.
pub fn map() -> HashMap<String, u64> {
    (0..20).map(|i| (format!("k{i}"), i)).collect()
}

/// A `#[cached]` fn of a `u64`.
#[cached(cache = cache, namespace = "bench.keys")]
pub async fn k_u64(cache: &Cache, a: u64) -> u64 {
    a
}

/// A `#[cached]` fn of the 5-field struct.
#[cached(cache = cache, namespace = "bench.keys")]
pub async fn k_struct5(cache: &Cache, a: Five) -> u64 {
    a.a
}

/// A `#[cached]` fn of a `Vec<String>`.
#[cached(cache = cache, namespace = "bench.keys")]
pub async fn k_vec_string20(cache: &Cache, a: Vec<String>) -> u64 {
    a.len() as u64
}

/// A `#[cached]` fn of a `HashMap<String, u64>`.
#[cached(cache = cache, namespace = "bench.keys")]
pub async fn k_hashmap20(cache: &Cache, a: HashMap<String, u64>) -> u64 {
    a.len() as u64
}

/// Our key, through the public `KeyBuilder` (which renders the namespace head per call).
#[allow(clippy::expect_used)] // the measured arguments always make a key
pub fn ours<T: Serialize + ?Sized>(value: &T) -> CacheKey {
    let mut kb = KeyBuilder::new();
    kb.arg(black_box(value));
    kb.build::<User>("bench.user", 1).expect("a key")
}

/// The map reference made order-independent, as a key must be (a `HashMap` iterates in a
/// different order in every process): the entries sorted by key, then bincode to a `Vec`,
/// then `blake3::hash`.
#[allow(clippy::expect_used)] // and always encode
pub fn by_hand_sorted(map: &HashMap<String, u64>) -> blake3::Hash {
    let mut entries: Vec<(&String, &u64)> = black_box(map).iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let bytes =
        bincode::serde::encode_to_vec(&entries, bincode::config::standard()).expect("bincode");
    blake3::hash(&bytes)
}

/// The reference: bincode to a `Vec`, then `blake3::hash`.
#[allow(clippy::expect_used)] // and always encode
pub fn by_hand<T: Serialize + ?Sized>(value: &T) -> blake3::Hash {
    let bytes = bincode::serde::encode_to_vec(black_box(value), bincode::config::standard())
        .expect("bincode");
    blake3::hash(&bytes)
}
