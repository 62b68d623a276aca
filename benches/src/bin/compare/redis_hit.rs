//! Scenario 3, a Redis hit, one caller: a `#[cached]` call on a Redis-only cache
//! (`l1(false)`: one GET and a decode) against a raw redis-rs GET of the precomputed key plus
//! the bincode decode, and the `cached` crate's Redis-backed fn. Each call is timed; the three
//! alternate in short rounds so that drift on a noisy machine hits all of them.

use std::hint::black_box;
use std::time::Instant;

use cache_bench::get_user;

use crate::env::{Ctx, Env, HOT_ID};
use crate::measure::{line, Hist, Results};
use crate::peers;

/// Calls of one library before the next takes over.
const ROUND: u32 = 200;

pub async fn run(env: &Env, ctx: &Ctx, out: &mut Results) {
    println!("Redis hit, sequential (per call)");
    let mut conn = ctx.raw.clone();
    let (mut ours, mut raw, mut peer) = (Hist::default(), Hist::default(), Hist::default());
    let hits_before = ctx.redis_only.stats().hits;
    let rounds = env.pick(40, 250);
    for round in 0..rounds + 2 {
        let warm = round < 2;
        for _ in 0..ROUND {
            let start = Instant::now();
            black_box(get_user(&ctx.redis_only, black_box(HOT_ID)).await);
            if !warm {
                ours.since(start);
            }
        }
        for _ in 0..ROUND {
            let start = Instant::now();
            black_box(peers::raw_get(&mut conn, &ctx.hot_key).await);
            if !warm {
                raw.since(start);
            }
        }
        for _ in 0..ROUND {
            let start = Instant::now();
            black_box(peers::cached_crate_user(black_box(HOT_ID)).await.ok());
            if !warm {
                peer.since(start);
            }
        }
    }
    assert_eq!(
        ctx.redis_only.stats().hits - hits_before,
        u64::from(ROUND) * (rounds + 2),
        "every call must be a Redis hit"
    );
    for (name, hist) in [("ours", &ours), ("raw", &raw), ("cached_crate", &peer)] {
        out.set(format!("hit_seq.{name}.p50_us"), hist.q_us(0.5));
        out.set(format!("hit_seq.{name}.p99_us"), hist.q_us(0.99));
    }
    line(
        "Redis hit through #[cached] (l1 off), p50/p99",
        &format!("{:.1} / {:.1} us", ours.q_us(0.5), ours.q_us(0.99)),
        &format!(
            "raw GET+decode {:.1} / {:.1} us (x{:.3})",
            raw.q_us(0.5),
            raw.q_us(0.99),
            ours.q_us(0.5) / raw.q_us(0.5)
        ),
    );
    line(
        "  the cached crate's Redis hit, p50/p99",
        &format!("{:.1} / {:.1} us", peer.q_us(0.5), peer.q_us(0.99)),
        &format!("ours is x{:.3} of it", ours.q_us(0.5) / peer.q_us(0.5)),
    );
}

/// `--only count:LIB:N`: just `N` sequential hits of `LIB` (`ours`, `raw`, `cached_crate`),
/// for counting instructions per hit with callgrind (run it for two `N`, subtract, divide).
pub async fn count(spec: &str, ctx: &Ctx) {
    let (lib, n) = spec.split_once(':').expect("count:LIB:N");
    let n: u64 = n.parse().expect("count:LIB:N");
    let mut conn = ctx.raw.clone();
    for _ in 0..n {
        match lib {
            "ours" => drop(black_box(
                get_user(&ctx.redis_only, black_box(HOT_ID)).await,
            )),
            "raw" => drop(black_box(peers::raw_get(&mut conn, &ctx.hot_key).await)),
            "cached_crate" => drop(black_box(peers::cached_crate_user(HOT_ID).await.ok())),
            other => panic!("count: unknown library {other:?}"),
        }
    }
}
