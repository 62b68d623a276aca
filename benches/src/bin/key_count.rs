//! What N key derivations cost in instructions, counted by callgrind (which, unlike a timer,
//! gives the same number on a busy machine), for the four arguments of the compare
//! harness's `keys` scenario:
//!
//! ```text
//! cargo build --release -p cache-bench --bin key_count
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/key_count u64 site 1000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/key_count u64 site 11000
//! ```
//!
//! The difference of the two totals over 10,000 is the cost of one key. Cases: `u64`,
//! `struct5`, `vec20`, `map20`. Paths: `ours` (`KeyBuilder::build`, which renders the head),
//! `site` (the `#[cached]` path: the hidden key fn, then `plan_key`), `push` (the `Plan`
//! push that `site` includes, with a precomputed key: subtract it), `hand` (bincode to a
//! `Vec`, then `blake3::hash`), and for `map20` also `hand_sorted` (the entries sorted by
//! key first, as an order-independent key needs). Not a criterion bench: it runs once and
//! exits.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use cache_bench::key_args::{self, by_hand as hand, ours};
use cache_bench::key_args::{k_hashmap20, k_struct5, k_u64, k_vec_string20};
use cache_runtime::__private::plan_key;
use cache_runtime::{Cache, Plan};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (case, path) = (args[1].as_str(), args[2].as_str());
    let n: u64 = args[3].parse().expect("N");
    let cache = Cache::memory();
    let five = key_args::five();
    let strings = key_args::strings();
    let map = key_args::map();
    if path == "hand_sorted" {
        assert_eq!(case, "map20", "hand_sorted is for map20");
        for _ in 0..n {
            black_box(key_args::by_hand_sorted(&map));
        }
        return;
    }
    macro_rules! run {
        ($value:expr, $key_fn:path) => {{
            let value = $value;
            let precomputed = ours(value);
            for _ in 0..n {
                match path {
                    "ours" => drop(black_box(ours(value))),
                    "hand" => drop(black_box(hand(value))),
                    "site" => {
                        let mut plan = Plan::new();
                        plan_key(&cache, &mut plan, $key_fn(black_box(value)));
                        black_box(&plan);
                    }
                    "push" => {
                        let mut plan = Plan::new();
                        plan.key(black_box(&precomputed).clone());
                        black_box(&plan);
                    }
                    _ => panic!("path: ours, site, push, hand or (map20) hand_sorted"),
                }
            }
        }};
    }
    match case {
        "u64" => run!(&42u64, k_u64::key),
        "struct5" => run!(&five, k_struct5::key),
        "vec20" => run!(&strings, k_vec_string20::key),
        "map20" => run!(&map, k_hashmap20::key),
        _ => panic!("case: u64, struct5, vec20 or map20"),
    }
}
