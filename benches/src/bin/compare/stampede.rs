//! Scenario 7, a stampede: 1,000 tasks call at once for one cold key whose body sleeps
//! 50 ms. Measured: the wall time until the last caller has its value, and how many times
//! the body ran, for `#[cached]` (Redis, `l1(false)`; single flight in process, the fill
//! lease across processes) and for the `cached` crate's Redis-backed fn. The floor is the
//! same 1,000 tasks sharing one run of the body through a `tokio::sync::OnceCell` (no cache,
//! no Redis): what spawning, waking and joining 1,000 tasks around one 50 ms sleep costs on
//! this runtime, which no library can go below. For ours and the floor the wall time is
//! also split at the body's start and end: what a library adds shows before the body
//! (every caller's key, read and join) and after it (the fill, waking the callers).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use cache_bench::{user, User};
use cache_runtime::{cached, Cache};

use crate::env::{Ctx, Env};
use crate::measure::{line, Results};
use crate::peers;

/// Callers per stampede.
const CALLERS: usize = 1000;
/// How long the body takes.
pub const BODY: Duration = Duration::from_millis(50);

/// How many times [`slow_user`]'s body ran.
static SLOW_RUNS: AtomicU64 = AtomicU64::new(0);

/// When the last body (ours or the floor's) started and ended, in µs since [`EPOCH`].
static BODY_START: AtomicU64 = AtomicU64::new(0);
static BODY_END: AtomicU64 = AtomicU64::new(0);
static EPOCH: OnceLock<Instant> = OnceLock::new();

fn micros() -> u64 {
    let micros = EPOCH.get_or_init(Instant::now).elapsed().as_micros();
    u64::try_from(micros).unwrap_or(u64::MAX)
}

/// The body of ours and of the floor: sleeps [`BODY`], noting when it started and ended.
async fn timed_body() {
    BODY_START.store(micros(), Relaxed);
    tokio::time::sleep(BODY).await;
    BODY_END.store(micros(), Relaxed);
}

/// A row whose query takes 50 ms.
#[cached(cache = cache, namespace = "bench.stampede")]
async fn slow_user(cache: &Cache, id: u64) -> User {
    SLOW_RUNS.fetch_add(1, Relaxed);
    timed_body().await;
    user(id)
}

/// How many times the floor's body ran.
static FLOOR_RUNS: AtomicU64 = AtomicU64::new(0);

/// One stampede's wall time, body executions, and for ours and the floor the time before
/// the body started and after it ended.
struct Run {
    wall: Duration,
    bodies: u64,
    before_after: Option<(Duration, Duration)>,
}

/// One stampede of library `lib` (0: ours, 1: the cached crate, 2: the floor) on key `id`.
async fn once(lib: usize, cache: &Cache, id: u64) -> Run {
    let counter = match lib {
        0 => &SLOW_RUNS,
        1 => &peers::CACHED_CRATE_SLOW_RUNS,
        _ => &FLOOR_RUNS,
    };
    let runs_before = counter.load(Relaxed);
    let floor = Arc::new(OnceCell::<User>::new());
    let start = Instant::now();
    let t0 = micros();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..CALLERS {
        let (cache, floor) = (cache.clone(), floor.clone());
        set.spawn(async move {
            match lib {
                0 => slow_user(&cache, id).await.id,
                1 => peers::cached_crate_slow(id).await.map_or(0, |u| u.id),
                _ => {
                    let row = floor
                        .get_or_init(|| async {
                            FLOOR_RUNS.fetch_add(1, Relaxed);
                            timed_body().await;
                            user(id)
                        })
                        .await;
                    row.clone().id
                }
            }
        });
    }
    while let Some(done) = set.join_next().await {
        assert_eq!(done.expect("a caller"), id);
    }
    let wall = start.elapsed();
    let (body_start, body_end) = (BODY_START.load(Relaxed), BODY_END.load(Relaxed));
    let before_after = (lib != 1 && body_start >= t0).then(|| {
        (
            Duration::from_micros(body_start - t0),
            wall.saturating_sub(Duration::from_micros(body_end - t0)),
        )
    });
    Run {
        wall,
        bodies: counter.load(Relaxed) - runs_before,
        before_after,
    }
}

pub async fn run(env: &Env, ctx: &Ctx, out: &mut Results) {
    println!("stampede: {CALLERS} callers, cold key, 50 ms body");
    let runs = env.pick(3, 7);
    let mut id = 20_000_000u64;
    for (lib, name) in [(0, "ours"), (1, "cached_crate"), (2, "floor")] {
        let mut runs_of = Vec::new();
        for _ in 0..runs {
            id += 1;
            runs_of.push(once(lib, &ctx.redis_only, id).await);
        }
        runs_of.sort_by_key(|run| run.wall);
        let median = &runs_of[runs_of.len() / 2];
        let wall = median.wall.as_secs_f64() * 1000.0;
        let max_bodies = runs_of.iter().map(|run| run.bodies).max().unwrap_or(0);
        out.set(format!("stampede.{name}.wall_ms"), wall);
        out.set(format!("stampede.{name}.bodies"), max_bodies as f64);
        let split = match median.before_after {
            Some((before, after)) => {
                let (before, after) = (before.as_secs_f64() * 1e3, after.as_secs_f64() * 1e3);
                out.set(format!("stampede.{name}.before_body_ms"), before);
                out.set(format!("stampede.{name}.after_body_ms"), after);
                format!("; {before:.1} ms before the body, {after:.1} ms after")
            }
            None => String::new(),
        };
        line(
            &format!("stampede, {name}: median wall, max bodies"),
            &format!("{wall:.1} ms, {max_bodies} bodies{split}"),
            &format!("one body: 50 ms (x{:.2})", wall / 50.0),
        );
    }
}
