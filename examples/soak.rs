//! A soak test: many tasks reading, writing and invalidating cached rows on Redis for a
//! minute, while Redis is killed and restarted twice. No call may surface an error, and no
//! read may return a value older than a write whose invalidation had completed.
//!
//! ```text
//! cargo run --release -p cache-examples --bin soak                   # 64 tasks, 10,000 keys, 60 s
//! cargo run -p cache-examples --bin soak -- --secs 5 --tasks 16      # a short run
//! ```
//!
//! It starts its own `redis-server` on a free loopback port (never one you run), and kills
//! it (`SIGKILL`) at 1/3 and 2/3 of the run, restarting it empty on the same port after a
//! pause. Each task loops over pseudo-random keys (half of the calls on 1,000 hot keys):
//!
//! * **read** (80 %): `read_row(id)`, a `#[cached]` fn whose body reads the row's generation
//!   from the "database" (process memory). The value must be row `id`, at a generation no
//!   older than the last write of that row that had *completed* (bump, then invalidation)
//!   before the read started;
//! * **write** (10 %): `write_row(id)` bumps the generation and invalidates `read_row(id)`
//!   (`#[cache_invalidate]`);
//! * **invalidate** (10 %): `cache.invalidate_key(key_for(..))` of a row, by hand.
//!
//! At the end it prints the counts, the latency distribution, the cache's counters and the
//! peak RSS, and exits non-zero if any call surfaced an error or any read was wrong.
//! Settings: `--secs`, `--tasks`, `--keys`, `--l1 on|off` (or `SOAK_SECS`, `SOAK_TASKS`,
//! `SOAK_KEYS`, `SOAK_L1`). With `--l1 off` every read reaches Redis, so single flight's
//! early join (callers of a key being read wait for that read) is exercised on every hot key.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_runtime::{cache_invalidate, cached, key_for, Cache, CircuitState};
use cache_tests::redis_server::RedisServer;
use serde::{Deserialize, Serialize};

/// The run's settings.
struct Settings {
    secs: f64,
    tasks: u64,
    keys: u64,
    /// Whether the cache has its in-process tier; without it every read reaches Redis.
    l1: bool,
}

impl Settings {
    fn parse() -> Result<Settings, String> {
        let mut settings = Settings {
            secs: 60.0,
            tasks: 64,
            keys: 10_000,
            l1: true,
        };
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut given: Vec<(String, String)> = [
            ("--secs", "SOAK_SECS"),
            ("--tasks", "SOAK_TASKS"),
            ("--keys", "SOAK_KEYS"),
            ("--l1", "SOAK_L1"),
        ]
        .iter()
        .filter_map(|(flag, var)| env(var).map(|v| ((*flag).to_owned(), v)))
        .collect();
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            given.push((flag, value));
        }
        for (flag, value) in given {
            let bad = |e: &dyn std::fmt::Display| format!("{flag} {value:?}: {e}");
            match flag.as_str() {
                "--secs" => settings.secs = value.parse().map_err(|e| bad(&e))?,
                "--tasks" => settings.tasks = value.parse().map_err(|e| bad(&e))?,
                "--keys" => settings.keys = value.parse().map_err(|e| bad(&e))?,
                "--l1" => {
                    settings.l1 = match value.as_str() {
                        "on" => true,
                        "off" => false,
                        _ => return Err(bad(&"expected on or off")),
                    }
                }
                _ => {
                    return Err(format!(
                        "unknown argument {flag}; use --secs, --tasks, --keys, --l1"
                    ))
                }
            }
        }
        if settings.secs <= 0.0 || settings.tasks == 0 || settings.keys == 0 {
            return Err("--secs, --tasks and --keys must be greater than zero".to_owned());
        }
        Ok(settings)
    }
}

/// The "database": a generation per row, bumped by every write.
struct Db {
    /// The row's generation, as the database holds it.
    generation: Vec<AtomicU64>,
    /// The newest generation whose write and invalidation have both completed: no read that
    /// starts afterwards may return an older one.
    committed: Vec<AtomicU64>,
}

/// What a read returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    id: u64,
    generation: u64,
}

/// A database read, cached. The body never fails: an `Err` here would be the cache
/// surfacing an error.
#[cached(namespace = "soak.row", ttl = "10m", cache = cache, skip(cache, db))]
async fn read_row(id: u64, cache: &Cache, db: &Db) -> Result<Row, String> {
    let generation = db.generation[id as usize].load(SeqCst);
    tokio::time::sleep(Duration::from_millis(1)).await; // the query
    Ok(Row { id, generation })
}

/// A database write, which invalidates the cached read of its row. Returns the new
/// generation.
#[cache_invalidate(read_row(id), cache = cache)]
async fn write_row(id: u64, cache: &Cache, db: &Db) -> Result<u64, String> {
    Ok(db.generation[id as usize].fetch_add(1, SeqCst) + 1)
}

/// Latencies in log-linear buckets (32 per power of two, so about 3 % precision), bounded
/// in size however many calls are made; the maximum is exact.
#[derive(Clone)]
struct Histogram {
    buckets: Vec<u64>,
    max_us: u64,
}

impl Histogram {
    const SUB: u64 = 32;

    fn new() -> Self {
        Histogram {
            buckets: vec![0; 64 * Self::SUB as usize],
            max_us: 0,
        }
    }

    fn bucket(us: u64) -> usize {
        if us < Self::SUB {
            return us as usize;
        }
        let exp = 63 - u64::from(us.leading_zeros()); // >= 5
        let sub = (us >> (exp - 5)) & (Self::SUB - 1);
        ((exp - 4) * Self::SUB + sub) as usize
    }

    /// The smallest value of a bucket.
    fn floor(bucket: usize) -> u64 {
        let b = bucket as u64;
        if b < Self::SUB {
            return b;
        }
        let exp = b / Self::SUB + 4;
        (Self::SUB + b % Self::SUB) << (exp - 5)
    }

    fn record(&mut self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let last = self.buckets.len() - 1;
        self.buckets[Self::bucket(us).min(last)] += 1;
        self.max_us = self.max_us.max(us);
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.max_us = self.max_us.max(other.max_us);
    }

    fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    fn quantile(&self, q: f64) -> Duration {
        let rank = ((self.count() as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Duration::from_micros(Self::floor(i).min(self.max_us));
            }
        }
        Duration::from_micros(self.max_us)
    }

    fn summary(&self) -> String {
        format!(
            "p50 {:?}, p99 {:?}, max {:?}",
            self.quantile(0.50),
            self.quantile(0.99),
            Duration::from_micros(self.max_us)
        )
    }
}

/// What one task did.
struct Tally {
    reads: Histogram,
    writes: Histogram,
    invalidations: u64,
    failed_invalidations: u64,
    surfaced_errors: u64,
    wrong: u64,
    first_wrong: Option<String>,
}

async fn worker(task: u64, keys: u64, cache: Cache, db: Arc<Db>, stop: Arc<AtomicBool>) -> Tally {
    let mut tally = Tally {
        reads: Histogram::new(),
        writes: Histogram::new(),
        invalidations: 0,
        failed_invalidations: 0,
        surfaced_errors: 0,
        wrong: 0,
        first_wrong: None,
    };
    let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (task + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let hot = keys.min(1_000);
    while !stop.load(SeqCst) {
        // An L1 hit completes without awaiting anything: yield, so that tasks take turns.
        tokio::task::yield_now().await;
        let r = next();
        let id = if r & 1 == 0 {
            (r >> 8) % hot
        } else {
            (r >> 8) % keys
        };
        let slot = id as usize;
        match (r >> 1) % 10 {
            0 => {
                let t = Instant::now();
                match write_row(id, &cache, &db).await {
                    Ok(generation) => {
                        db.committed[slot].fetch_max(generation, SeqCst);
                    }
                    Err(_) => tally.surfaced_errors += 1,
                }
                tally.writes.record(t.elapsed());
            }
            1 => {
                tally.invalidations += 1;
                let key = key_for::<Row>("soak.row", 1, &(id,));
                match key {
                    Ok(key) => {
                        // The manual API reports store errors by design (Redis down): only
                        // counted here.
                        if cache.invalidate_key(key).await.is_err() {
                            tally.failed_invalidations += 1;
                        }
                    }
                    Err(_) => tally.surfaced_errors += 1,
                }
            }
            _ => {
                let floor = db.committed[slot].load(SeqCst);
                let t = Instant::now();
                let got = read_row(id, &cache, &db).await;
                tally.reads.record(t.elapsed());
                match got {
                    Ok(row) if row.id == id && row.generation >= floor => {}
                    Ok(row) => {
                        tally.wrong += 1;
                        tally.first_wrong.get_or_insert_with(|| {
                            format!("read_row({id}) returned {row:?}, committed generation {floor}")
                        });
                    }
                    Err(_) => tally.surfaced_errors += 1,
                }
            }
        }
    }
    tally
}

/// Peak resident set of this process (`VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Kills Redis, waits `down`, restarts it on the same port, and reports how long the cache
/// took to close its circuit again.
async fn outage(n: u32, server: &mut RedisServer, cache: &Cache, down: Duration, start: Instant) {
    let at = start.elapsed();
    tokio::task::block_in_place(|| server.kill());
    tokio::time::sleep(down).await;
    tokio::task::block_in_place(|| server.restart());
    let restarted = Instant::now();
    let hits = cache.stats().hits;
    // Recovered: the circuit is closed and reads hit again.
    let deadline = restarted + Duration::from_secs(10);
    let recovered = loop {
        let stats = cache.stats();
        if stats.circuit == CircuitState::Closed && stats.hits > hits {
            break Some(restarted.elapsed());
        }
        if Instant::now() >= deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    match recovered {
        Some(after) => println!(
            "outage {n}: killed at {:.2} s, restarted {:.2} s later, hits again with the circuit closed {:?} after the restart",
            at.as_secs_f64(),
            (restarted - start - at).as_secs_f64(),
            after
        ),
        None => println!(
            "outage {n}: killed at {:.2} s, restarted, NOT recovered within 10 s: {:?}",
            at.as_secs_f64(),
            cache.stats()
        ),
    }
}

async fn soak(settings: Settings) -> Result<bool, String> {
    let mut server = tokio::task::block_in_place(RedisServer::start);
    let cache = Cache::builder()
        .redis_url(server.url())
        .prefix("soak")
        .l1(settings.l1)
        .build()
        .await
        .map_err(|e| e.to_string())?;
    if settings.l1 {
        cache.wait_for_backplane(Duration::from_secs(5)).await;
    }
    let duration = Duration::from_secs_f64(settings.secs);
    let down = (duration / 15).clamp(Duration::from_millis(250), Duration::from_secs(2));
    println!(
        "soak: {} tasks, {} keys, L1 {}, {:.1} s on redis-server port {}; Redis killed at 1/3 and 2/3, down {:?} each time",
        settings.tasks,
        settings.keys,
        if settings.l1 { "on" } else { "off" },
        settings.secs,
        server.port(),
        down
    );
    let db = Arc::new(Db {
        generation: (0..settings.keys).map(|_| AtomicU64::new(0)).collect(),
        committed: (0..settings.keys).map(|_| AtomicU64::new(0)).collect(),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let workers: Vec<_> = (0..settings.tasks)
        .map(|task| {
            tokio::spawn(worker(
                task,
                settings.keys,
                cache.clone(),
                db.clone(),
                stop.clone(),
            ))
        })
        .collect();

    tokio::time::sleep_until((start + duration / 3).into()).await;
    outage(1, &mut server, &cache, down, start).await;
    tokio::time::sleep_until((start + duration * 2 / 3).into()).await;
    outage(2, &mut server, &cache, down, start).await;
    tokio::time::sleep_until((start + duration).into()).await;
    stop.store(true, SeqCst);

    let mut reads = Histogram::new();
    let mut writes = Histogram::new();
    let (mut invalidations, mut failed_invalidations) = (0, 0);
    let (mut surfaced, mut wrong, mut panicked) = (0, 0, 0);
    let mut first_wrong = None;
    for w in workers {
        match w.await {
            Ok(t) => {
                reads.merge(&t.reads);
                writes.merge(&t.writes);
                invalidations += t.invalidations;
                failed_invalidations += t.failed_invalidations;
                surfaced += t.surfaced_errors;
                wrong += t.wrong;
                if first_wrong.is_none() {
                    first_wrong = t.first_wrong;
                }
            }
            Err(e) => {
                panicked += 1;
                eprintln!("a task failed: {e}");
            }
        }
    }
    let elapsed = start.elapsed();
    let stats = cache.stats();
    let mut all = reads.clone();
    all.merge(&writes);
    let calls = reads.count() + writes.count() + invalidations;
    println!(
        "calls: {calls} in {:.1} s ({:.0}/s): {} reads, {} writes, {invalidations} invalidations",
        elapsed.as_secs_f64(),
        calls as f64 / elapsed.as_secs_f64(),
        reads.count(),
        writes.count()
    );
    println!("errors surfaced to callers: {surfaced}");
    println!("wrong values: {wrong}");
    if let Some(first) = &first_wrong {
        println!("first wrong value: {first}");
    }
    println!("panicked tasks: {panicked}");
    println!("latency of reads: {}", reads.summary());
    println!("latency of writes: {}", writes.summary());
    println!(
        "latency of #[cached] and #[cache_invalidate] calls: {}",
        all.summary()
    );
    println!(
        "hit rate: {:.3} ({} hits, of which {} from L1 and {} coalesced; {} misses)",
        stats.hit_rate(),
        stats.hits,
        stats.l1_hits,
        stats.coalesced,
        stats.misses
    );
    println!(
        "cache stats: errors {}, timeouts {}, write_errors {}, circuit_opened {}, short_circuited {}, \
         decode_errors {}, stale_fills_refused {}, writes {}, circuit {}",
        stats.errors,
        stats.timeouts,
        stats.write_errors,
        stats.circuit_opened,
        stats.short_circuited,
        stats.decode_errors,
        stats.stale_fills_refused,
        stats.writes,
        stats.circuit
    );
    println!(
        "manual invalidations that reported a store error (Redis down; by design): {failed_invalidations}"
    );
    match peak_rss_kib() {
        Some(kib) => println!("peak RSS: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("peak RSS: unknown (no /proc/self/status)"),
    }
    Ok(surfaced == 0 && wrong == 0 && panicked == 0)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let result = match Settings::parse() {
        Ok(settings) => soak(settings).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(true) => {
            println!("soak: passed");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            println!("soak: FAILED");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
