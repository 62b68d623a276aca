//! Scenario 1, key derivation: the key `#[cached]` derives from typical arguments (through
//! the public `KeyBuilder`, the builder the macro feeds) against "bincode to a `Vec`, then
//! `blake3::hash`" by hand, in time per key and allocations per key.
//!
//! `KeyBuilder::build` (what `key_for` and the manual API use) renders the
//! `{namespace}:v{version}.{type}:` head on every call; a `#[cached]` fn renders it once per
//! function and reuses it. The macro's own path is measured too, through the hidden key fn
//! every `#[cached]` fn has (`<name>::key`, which `#[cache_invalidate]` uses):
//! `plan_key` builds the key exactly as the call does and pushes it into a `Plan`; the cost
//! of that push (measured with a precomputed key) is subtracted.

use std::hint::black_box;
use std::time::Instant;

use cache_bench::key_args::{self, by_hand, ours};
use cache_bench::key_args::{k_hashmap20, k_struct5, k_u64, k_vec_string20};
use cache_runtime::__private::plan_key;
use cache_runtime::{Cache, Plan};
use stats_alloc::Region;

use crate::env::Env;
use crate::measure::{line, Hist, Results};

/// Keys per timed sample: one key takes well under a microsecond.
const BATCH: u32 = 256;

/// Median ns per key of `f`, interleaved with `g` (rounds alternate, so drift hits both).
fn pair(env: &Env, mut f: impl FnMut(), mut g: impl FnMut()) -> (f64, f64) {
    let (mut a, mut b) = (Hist::default(), Hist::default());
    let rounds = env.pick(300, 3000);
    for _ in 0..BATCH * 4 {
        f();
        g();
    }
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..BATCH {
            f();
        }
        a.record(start.elapsed().as_nanos() as u64 / u64::from(BATCH));
        let start = Instant::now();
        for _ in 0..BATCH {
            g();
        }
        b.record(start.elapsed().as_nanos() as u64 / u64::from(BATCH));
    }
    (a.q_ns(0.5), b.q_ns(0.5))
}

/// Allocations per call of `f`, counted by the global allocator.
fn allocations(mut f: impl FnMut()) -> f64 {
    const N: usize = 1000;
    f();
    let region = Region::new(crate::GLOBAL);
    for _ in 0..N {
        f();
    }
    region.change().allocations as f64 / N as f64
}

pub fn run(env: &Env, out: &mut Results) {
    println!("key derivation (ns per key, median; allocations per key)");
    let five = key_args::five();
    let strings = key_args::strings();
    let map = key_args::map();
    let cache = Cache::memory();
    macro_rules! case {
        ($name:literal, $value:expr, $key_fn:path) => {{
            let value = $value;
            let (us, them) = pair(
                env,
                || {
                    black_box(ours(value));
                },
                || {
                    black_box(by_hand(value));
                },
            );
            let us_allocs = allocations(|| {
                black_box(ours(value));
            });
            let them_allocs = allocations(|| {
                black_box(by_hand(value));
            });
            // The macro's path: its hidden key fn, then `plan_key`, less a plain Plan push.
            let precomputed = ours(value);
            let (site, push) = pair(
                env,
                || {
                    let mut plan = Plan::new();
                    plan_key(&cache, &mut plan, $key_fn(black_box(value)));
                    black_box(&plan);
                },
                || {
                    let mut plan = Plan::new();
                    plan.key(black_box(&precomputed).clone());
                    black_box(&plan);
                },
            );
            let site = (site - push).max(0.0);
            out.set(concat!("keys.", $name, ".site_ns"), site);
            out.set(concat!("keys.", $name, ".ours_ns"), us);
            out.set(concat!("keys.", $name, ".ref_ns"), them);
            out.set(concat!("keys.", $name, ".ours_allocs"), us_allocs);
            out.set(concat!("keys.", $name, ".ref_allocs"), them_allocs);
            line(
                concat!("key of ", $name),
                &format!("{us:.0} ns ({site:.0} #[cached]), {us_allocs:.1} allocs"),
                &format!(
                    "bincode+blake3 {them:.0} ns, {them_allocs:.1} allocs (x{:.2})",
                    us / them
                ),
            );
        }};
    }
    case!("u64", &42u64, k_u64::key);
    case!("struct5", &five, k_struct5::key);
    case!("vec_string20", &strings, k_vec_string20::key);
    case!("hashmap20", &map, k_hashmap20::key);
    // The map again, against a reference that is a valid key: a `HashMap` iterates in a
    // different order in every process, so by hand its entries must be sorted first.
    let (us, sorted) = pair(
        env,
        || {
            black_box(ours(&map));
        },
        || {
            black_box(key_args::by_hand_sorted(&map));
        },
    );
    out.set("keys.hashmap20.sorted_ref_ns", sorted);
    line(
        "key of hashmap20, against it sorted by hand",
        &format!("{us:.0} ns"),
        &format!("sort, bincode+blake3 {sorted:.0} ns (x{:.2})", us / sorted),
    );
}
