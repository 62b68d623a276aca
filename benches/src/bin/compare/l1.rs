//! Scenario 2, in-process hits: a `#[cached]` call served by L1 (a Redis cache with its
//! in-process tier) and by the memory store, against a raw `moka::future::Cache::get` of a
//! precomputed key. All three return a clone of the same `User`. No `block_on` per call: the
//! loops run inside one task.

use std::hint::black_box;
use std::time::Instant;

use cache_bench::{get_user, user, User};
use cache_runtime::Cache;

use crate::env::{Ctx, Env, HOT_ID};
use crate::measure::{line, Hist, Results};

/// Calls per timed sample: one hit takes well under a microsecond.
const BATCH: u32 = 64;

pub async fn run(env: &Env, ctx: &Ctx, out: &mut Results) {
    println!("in-process hits (median per call)");
    let memory = Cache::memory();
    // Fill L1 (the first call reads Redis and keeps a copy) and the memory store.
    get_user(&ctx.tiered, HOT_ID).await;
    get_user(&memory, HOT_ID).await;
    let l1_before = ctx.tiered.stats().l1_hits;
    let moka: moka::future::Cache<String, User> = moka::future::Cache::new(10_000);
    moka.insert(ctx.hot_key.clone(), user(HOT_ID)).await;

    let (mut l1, mut mem, mut raw) = (Hist::default(), Hist::default(), Hist::default());
    let rounds = env.pick(400, 4000);
    for round in 0..rounds + 20 {
        let warm = round < 20;
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(get_user(&ctx.tiered, black_box(HOT_ID)).await);
        }
        if !warm {
            l1.record(start.elapsed().as_nanos() as u64 / u64::from(BATCH));
        }
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(get_user(&memory, black_box(HOT_ID)).await);
        }
        if !warm {
            mem.record(start.elapsed().as_nanos() as u64 / u64::from(BATCH));
        }
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(moka.get(black_box(&ctx.hot_key)).await);
        }
        if !warm {
            raw.record(start.elapsed().as_nanos() as u64 / u64::from(BATCH));
        }
    }
    let l1_hits = ctx.tiered.stats().l1_hits - l1_before;
    assert_eq!(
        l1_hits,
        u64::from(BATCH) * (rounds + 20),
        "every tiered call must be an L1 hit"
    );
    let (l1_ns, mem_ns, raw_ns) = (l1.q_ns(0.5), mem.q_ns(0.5), raw.q_ns(0.5));
    out.set("l1.ours_ns", l1_ns);
    out.set("l1.memory_ns", mem_ns);
    out.set("l1.moka_ns", raw_ns);
    line(
        "L1 hit through #[cached]",
        &format!("{l1_ns:.0} ns"),
        &format!("raw moka get {raw_ns:.0} ns (x{:.2})", l1_ns / raw_ns),
    );
    line(
        "memory-store hit through #[cached]",
        &format!("{mem_ns:.0} ns"),
        &format!("raw moka get {raw_ns:.0} ns (x{:.2})", mem_ns / raw_ns),
    );
}
