//! Scenario 7, a stampede: 1,000 tasks call at once for one cold key whose body sleeps
//! 50 ms. Measured: the wall time until the last caller has its value, and how many times
//! the body ran, for `#[cached]` (Redis, `l1(false)`; single flight in process, the fill
//! lease across processes) and for the `cached` crate's Redis-backed fn. The floor is the
//! same 1,000 tasks sharing one run of the body through a `tokio::sync::OnceCell` (no cache,
//! no Redis): what spawning, waking and joining 1,000 tasks around one 50 ms sleep costs on
//! this runtime, which no library can go below.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
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

/// A row whose query takes 50 ms.
#[cached(cache = cache, namespace = "bench.stampede")]
async fn slow_user(cache: &Cache, id: u64) -> User {
    SLOW_RUNS.fetch_add(1, Relaxed);
    tokio::time::sleep(BODY).await;
    user(id)
}

/// How many times the floor's body ran.
static FLOOR_RUNS: AtomicU64 = AtomicU64::new(0);

/// One stampede of library `lib` (0: ours, 1: the cached crate, 2: the floor) on key `id`:
/// wall time and body executions.
async fn once(lib: usize, cache: &Cache, id: u64) -> (Duration, u64) {
    let counter = match lib {
        0 => &SLOW_RUNS,
        1 => &peers::CACHED_CRATE_SLOW_RUNS,
        _ => &FLOOR_RUNS,
    };
    let runs_before = counter.load(Relaxed);
    let floor = Arc::new(OnceCell::<User>::new());
    let start = Instant::now();
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
                            tokio::time::sleep(BODY).await;
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
    (start.elapsed(), counter.load(Relaxed) - runs_before)
}

pub async fn run(env: &Env, ctx: &Ctx, out: &mut Results) {
    println!("stampede: {CALLERS} callers, cold key, 50 ms body");
    let runs = env.pick(3, 7);
    let mut id = 20_000_000u64;
    for (lib, name) in [(0, "ours"), (1, "cached_crate"), (2, "floor")] {
        let mut walls = Vec::new();
        let mut max_bodies = 0;
        for _ in 0..runs {
            id += 1;
            let (wall, bodies) = once(lib, &ctx.redis_only, id).await;
            walls.push(wall.as_secs_f64() * 1000.0);
            max_bodies = max_bodies.max(bodies);
        }
        walls.sort_by(f64::total_cmp);
        let wall = walls[walls.len() / 2];
        out.set(format!("stampede.{name}.wall_ms"), wall);
        out.set(format!("stampede.{name}.bodies"), max_bodies as f64);
        line(
            &format!("stampede, {name}: median wall, max bodies"),
            &format!("{wall:.1} ms, {max_bodies} bodies"),
            &format!("one body: 50 ms (x{:.2})", wall / 50.0),
        );
    }
}
