//! Scenario 5, the miss path with a body that returns at once: a `#[cached]` call of a key
//! never seen (on `l1(false)`) against a raw GET that finds nothing followed by
//! `SET key value EX ttl` of the same encoded row, and against the same guard as ours done
//! by hand (a lease taken with `SET key lease NX PX .. GET`, then a script that stores the
//! row only if the lease is still there): what any stale-write guard of this kind costs on
//! the wire. Misses in a row read with the lease command at once (`read_mode`): the lease
//! and the fill. A miss right after a hit of the same fn reads with a GET first (the GET,
//! the lease, the fill): that side runs a hit before each timed miss. Each call is timed;
//! the four alternate in short rounds.

use std::hint::black_box;
use std::time::Instant;

use cache_bench::by_hand::{self, guarded_miss, raw_miss, CAS};
use cache_bench::{get_user, user};

use crate::env::{Ctx, Env};
use crate::measure::{line, Hist, Results};

/// Calls of one side before the other takes over.
const ROUND: u64 = 100;

/// Calls per command name, from `INFO commandstats`.
async fn command_counts(conn: &mut redis::aio::ConnectionManager) -> Vec<(String, u64)> {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .expect("INFO");
    info.lines()
        .filter_map(|l| {
            let (name, rest) = l.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest
                .strip_prefix("calls=")?
                .split(',')
                .next()?
                .parse()
                .ok()?;
            Some((name.to_owned(), calls))
        })
        .collect()
}

/// The commands one `#[cached]` miss sends, from `INFO commandstats` around `n` misses.
async fn commands_per_miss(ctx: &Ctx, first_id: u64, n: u64) -> String {
    let mut conn = ctx.raw.clone();
    let before = command_counts(&mut conn).await;
    for id in first_id..first_id + n {
        black_box(get_user(&ctx.redis_only, id).await);
    }
    let after = command_counts(&mut conn).await;
    let mut per = Vec::new();
    for (name, calls) in after {
        let old = before
            .iter()
            .find(|(b, _)| *b == name)
            .map_or(0, |(_, c)| *c);
        // The INFO calls themselves are not the miss's.
        let delta = calls - old - u64::from(name == "info");
        if delta > 0 {
            per.push(format!("{name} x{:.2}", delta as f64 / n as f64));
        }
    }
    per.join(", ")
}

pub async fn run(env: &Env, ctx: &Ctx, out: &mut Results) {
    println!("miss + store, sequential (per call)");
    let mut conn = ctx.raw.clone();
    let (mut ours, mut raw, mut guarded) = (Hist::default(), Hist::default(), Hist::default());
    let mut after_hit = Hist::default();
    // The key the hits before `after_hit`'s misses read.
    const HIT_ID: u64 = 9_999_999;
    black_box(get_user(&ctx.redis_only, HIT_ID).await);
    let cas = redis::Script::new(CAS);
    let misses_before = ctx.redis_only.stats().misses;
    let rounds: u64 = env.pick(20, 100);
    // Ids no other scenario uses, so every call misses.
    let mut id = 10_000_000u64;
    for round in 0..rounds + 1 {
        let warm = round < 1;
        for _ in 0..ROUND {
            id += 1;
            let start = Instant::now();
            black_box(get_user(&ctx.redis_only, black_box(id)).await);
            if !warm {
                ours.since(start);
            }
        }
        for _ in 0..ROUND {
            id += 1;
            let start = Instant::now();
            raw_miss(&mut conn, black_box(id), || by_hand::encode(&user(id))).await;
            if !warm {
                raw.since(start);
            }
        }
        for _ in 0..ROUND {
            id += 1;
            let start = Instant::now();
            guarded_miss(&mut conn, &cas, black_box(id), || {
                by_hand::encode(&user(id))
            })
            .await;
            if !warm {
                guarded.since(start);
            }
        }
        for _ in 0..ROUND {
            id += 1;
            black_box(get_user(&ctx.redis_only, HIT_ID).await);
            let start = Instant::now();
            black_box(get_user(&ctx.redis_only, black_box(id)).await);
            if !warm {
                after_hit.since(start);
            }
        }
    }
    assert_eq!(
        ctx.redis_only.stats().misses - misses_before,
        2 * ROUND * (rounds + 1),
        "every call but the hits before `after_hit`'s must be a miss"
    );
    // Two misses first, so the 100 counted are misses in a row.
    black_box(get_user(&ctx.redis_only, id + 1).await);
    black_box(get_user(&ctx.redis_only, id + 2).await);
    let per_miss = commands_per_miss(ctx, id + 3, 100).await;
    println!(
        "  commands per #[cached] miss in a row: {per_miss} (a fill is one SET .. IFEQ where \
         the server has it, else an EVALSHA, whose GET and SET count too; raw: get x1.00, \
         set x1.00)"
    );
    out.set("miss.ours.p50_us", ours.q_us(0.5));
    out.set("miss.ours.p99_us", ours.q_us(0.99));
    out.set("miss.raw.p50_us", raw.q_us(0.5));
    out.set("miss.raw.p99_us", raw.q_us(0.99));
    out.set("miss.guarded.p50_us", guarded.q_us(0.5));
    out.set("miss.guarded.p99_us", guarded.q_us(0.99));
    out.set("miss.after_hit.p50_us", after_hit.q_us(0.5));
    out.set("miss.after_hit.p99_us", after_hit.q_us(0.99));
    line(
        "miss + store through #[cached], p50/p99",
        &format!("{:.1} / {:.1} us", ours.q_us(0.5), ours.q_us(0.99)),
        &format!(
            "raw GET, SET EX {:.1} / {:.1} us (x{:.2})",
            raw.q_us(0.5),
            raw.q_us(0.99),
            ours.q_us(0.5) / raw.q_us(0.5)
        ),
    );
    line(
        "the same against the guard by hand, p50/p99",
        "",
        &format!(
            "SET NX PX GET, EVALSHA {:.1} / {:.1} us (x{:.2})",
            guarded.q_us(0.5),
            guarded.q_us(0.99),
            ours.q_us(0.5) / guarded.q_us(0.5)
        ),
    );
    line(
        "a miss right after a hit (GET, lease, fill), p50/p99",
        &format!(
            "{:.1} / {:.1} us",
            after_hit.q_us(0.5),
            after_hit.q_us(0.99)
        ),
        &format!(
            "raw GET, SET EX (x{:.2})",
            after_hit.q_us(0.5) / raw.q_us(0.5)
        ),
    );
}
