//! Scenario 6, batch reads: `Cache::get_many` of 100 stored keys (one MGET, each value
//! decoded) against a raw MGET of the same 100 keys plus the same decodes.

use std::hint::black_box;
use std::time::Instant;

use cache_bench::{user, User};

use crate::env::{Ctx, Env};
use crate::measure::{line, Hist, Results};
use crate::peers;

/// Keys per batch.
const KEYS: u64 = 100;

pub async fn run(env: &Env, ctx: &Ctx, out: &mut Results) {
    println!("batch of {KEYS} hits (per batch)");
    let keys: Vec<String> = (0..KEYS).map(|i| format!("bench.batch:{i}")).collect();
    let items: Vec<(String, User)> = keys.iter().cloned().zip((0..KEYS).map(user)).collect();
    ctx.redis_only
        .set_many(&items, None)
        .await
        .expect("set_many");
    let stored: Vec<String> = keys.iter().map(|k| format!("cache:{k}")).collect();
    let mut conn = ctx.raw.clone();
    let (mut ours, mut raw) = (Hist::default(), Hist::default());
    let rounds = env.pick(30, 150);
    for round in 0..rounds + 1 {
        let warm = round < 1;
        for _ in 0..20 {
            let start = Instant::now();
            let found = ctx
                .redis_only
                .get_many::<User, _>(black_box(&keys))
                .await
                .expect("get_many");
            if !warm {
                ours.since(start);
            }
            assert!(found.iter().all(Option::is_some));
        }
        for _ in 0..20 {
            let start = Instant::now();
            let found: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                .arg(black_box(&stored))
                .query_async(&mut conn)
                .await
                .expect("MGET");
            let users: Vec<User> = found.iter().flatten().map(|b| peers::decode(b)).collect();
            if !warm {
                raw.since(start);
            }
            assert_eq!(users.len() as u64, KEYS);
        }
    }
    out.set("batch.ours.p50_us", ours.q_us(0.5));
    out.set("batch.raw.p50_us", raw.q_us(0.5));
    line(
        "get_many of 100, p50",
        &format!("{:.1} us", ours.q_us(0.5)),
        &format!(
            "raw MGET + decode {:.1} us (x{:.2})",
            raw.q_us(0.5),
            ours.q_us(0.5) / raw.q_us(0.5)
        ),
    );
}
