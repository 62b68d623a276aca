//! Scenario 4, the Redis hit path under concurrency: N tasks (1, 8, 64, 256) each calling
//! in a loop for a fixed time, on the child's current-thread runtime, for `#[cached]`
//! (`l1(false)`), raw redis-rs (GET + decode, one `ConnectionManager` clone per task) and the
//! `cached` crate. Each library's connection multiplexes its tasks' requests (pipelining them
//! on one socket). Libraries alternate in rounds; the figure is the mean of the rounds.
//!
//! Twice: every task reading one hot key (`conc.*`, the figures of the chart and the
//! `ratios:` line), where `#[cached]` callers arriving while that key is being read share
//! the read (single flight's early join), and every task reading its own key
//! (`conc_distinct.*`), where only merging GETs into MGETs helps.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_bench::get_user;
use cache_runtime::Cache;
use redis::aio::ConnectionManager;

use crate::env::{Ctx, Env, DISTINCT_ID, HOT_ID};
use crate::measure::{line, Results};
use crate::peers;

/// The concurrency levels measured.
pub const LEVELS: [usize; 4] = [1, 8, 64, 256];

/// The libraries compared, as named in the figures.
pub const LIBS: [&str; 3] = ["ours", "raw", "cached_crate"];

/// Runs `tasks` tasks of library `LIBS[lib]` for `time`, on the hot key or (`distinct`) each
/// on its own key; returns completed calls per second.
async fn ops_per_sec(
    lib: usize,
    (tasks, distinct): (usize, bool),
    time: Duration,
    cache: &Cache,
    ctx: &Ctx,
) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut set = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let (stop, done) = (stop.clone(), done.clone());
        let (id, key) = match distinct {
            true => (DISTINCT_ID + task as u64, ctx.distinct_keys[task].clone()),
            false => (HOT_ID, ctx.hot_key.clone()),
        };
        let (cache, mut conn): (Cache, ConnectionManager) = (cache.clone(), ctx.raw.clone());
        set.spawn(async move {
            let mut n = 0u64;
            while !stop.load(Relaxed) {
                match lib {
                    0 => drop(std::hint::black_box(get_user(&cache, id).await)),
                    1 => drop(std::hint::black_box(peers::raw_get(&mut conn, &key).await)),
                    _ => drop(std::hint::black_box(
                        peers::cached_crate_user(id).await.ok(),
                    )),
                }
                n += 1;
            }
            done.fetch_add(n, Relaxed);
        });
    }
    let start = Instant::now();
    tokio::time::sleep(time).await;
    stop.store(true, Relaxed);
    while set.join_next().await.is_some() {}
    // Calls still in flight when the time was up finish after it: count the whole span.
    done.load(Relaxed) as f64 / start.elapsed().as_secs_f64()
}

pub async fn run(env: &Env, ctx: &Ctx, out: &mut Results) {
    let time = Duration::from_millis(env.pick(300, 1000));
    let rounds = env.pick(2, 5);
    for (name, distinct, what) in [
        ("conc", false, "one hot key"),
        ("conc_distinct", true, "a key per task"),
    ] {
        println!("Redis hit, concurrent tasks (calls per second), {what}");
        // `--quick` measures the hot key at 64 tasks only (for the `ratios:` line): the chart
        // and the judged figures are a key per task.
        let levels: &[usize] = match distinct {
            false => env.pick(&[64], &LEVELS),
            true => &LEVELS,
        };
        for &tasks in levels {
            let mut sums = [0.0f64; 3];
            for round in 0..rounds {
                // Rotate the order so no library always runs first after the previous level.
                for i in 0..LIBS.len() {
                    let lib = (i + round) % LIBS.len();
                    sums[lib] +=
                        ops_per_sec(lib, (tasks, distinct), time, &ctx.redis_only, ctx).await;
                }
            }
            let mean = sums.map(|s| s / rounds as f64);
            for (lib, ops) in LIBS.iter().zip(mean) {
                out.set(format!("{name}.{tasks}.{lib}"), ops);
            }
            line(
                &format!("{tasks} tasks: ours vs raw / cached crate"),
                &format!("{:.0} k/s", mean[0] / 1000.0),
                &format!(
                    "raw {:.0} k/s (x{:.2}), cached crate {:.0} k/s (x{:.2})",
                    mean[1] / 1000.0,
                    mean[0] / mean[1],
                    mean[2] / 1000.0,
                    mean[0] / mean[2]
                ),
            );
        }
    }
}
