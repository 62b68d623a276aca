//! What every scenario shares: the mode and length of the run, and the caches and raw
//! connections built once against the child's `redis-server`.

use std::time::Duration;

use cache_bench::User;
use cache_runtime::Cache;
use cache_tests::kind::ServerKind;
use cache_tests::redis_server::RedisServer;
use redis::aio::ConnectionManager;

/// Which part of the run a process measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Client, `redis-server` and `redis-benchmark` on CPU 0 (`taskset -c 0`).
    Pinned,
    /// Client and server free to use both CPUs.
    Spread,
    /// The memory-store RSS scenario.
    Memory,
}

impl Mode {
    pub fn parse(name: &str) -> Mode {
        match name {
            "pinned" => Mode::Pinned,
            "spread" => Mode::Spread,
            "memory" => Mode::Memory,
            other => panic!("unknown mode {other:?}"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Pinned => "pinned",
            Mode::Spread => "spread",
            Mode::Memory => "memory",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Mode::Pinned => "pinned: harness and redis-server on CPU 0 (taskset -c 0)",
            Mode::Spread => "spread: harness on CPU 1, redis-server on CPU 0",
            Mode::Memory => "memory: 1,000,000 distinct entries into a bounded memory store",
        }
    }
}

/// The mode and how long to measure.
pub struct Env {
    pub mode: Mode,
    pub quick: bool,
    /// `--only`: the one scenario to run.
    pub only: Option<String>,
    /// `--server`: the server the child starts.
    pub server: ServerKind,
}

impl Env {
    pub fn new(mode: Mode, quick: bool, only: Option<String>, server: ServerKind) -> Env {
        Env {
            mode,
            quick,
            only,
            server,
        }
    }

    /// Whether scenario `name` runs (all do without `--only`).
    pub fn runs(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|only| only == name)
    }

    /// `quick` in quick mode, else `full`.
    pub fn pick<T>(&self, quick: T, full: T) -> T {
        if self.quick {
            quick
        } else {
            full
        }
    }
}

/// The namespace and version of `cache_bench::get_user`, and so the stored key of its id 42.
pub const HOT_ID: u64 = 42;

/// The first of the ids read by the tasks of the distinct-key concurrency runs (task `i`
/// reads id `DISTINCT_ID + i`).
pub const DISTINCT_ID: u64 = 1_000;

/// The caches and raw connections of one child, all against the same server.
pub struct Ctx {
    pub url: String,
    /// Redis only (`l1(false)`): every hit is one GET and a decode.
    pub redis_only: Cache,
    /// Redis with the in-process tier (L1) in front, subscribed to the backplane.
    pub tiered: Cache,
    /// A raw redis-rs connection of the kind the cache uses.
    pub raw: ConnectionManager,
    /// The Redis key (with the cache's `cache:` prefix) under which `get_user(42)` is stored.
    pub hot_key: String,
    /// The Redis keys of `get_user(DISTINCT_ID + i)`, one per task of the largest level.
    pub distinct_keys: Vec<String>,
}

/// The Redis key (with the cache's `cache:` prefix) under which `get_user(id)` is stored.
fn stored_key(id: u64) -> String {
    let key = cache_runtime::key_for::<User>("bench.user", 1, &(id,)).expect("a key");
    format!("cache:{key}")
}

impl Ctx {
    pub async fn connect(server: &RedisServer) -> Ctx {
        let url = server.url();
        // `CACHE_BENCH_MAX_READS=N` measures another `max_reads_in_flight` than the default.
        let mut redis_only = Cache::builder();
        if let Some(n) = std::env::var("CACHE_BENCH_MAX_READS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            redis_only = redis_only.max_reads_in_flight(n);
        }
        let redis_only = redis_only
            .redis_url(url.clone())
            .l1(false)
            .require_redis(true)
            .build()
            .await
            .expect("a Redis-only cache");
        let tiered = Cache::builder()
            .redis_url(url.clone())
            .require_redis(true)
            .build()
            .await
            .expect("a tiered cache");
        tiered.wait_for_backplane(Duration::from_secs(5)).await;
        let raw = ConnectionManager::new(server.client())
            .await
            .expect("a raw ConnectionManager");
        let tasks = crate::concurrency::LEVELS
            .iter()
            .copied()
            .max()
            .unwrap_or(0) as u64;
        let ctx = Ctx {
            url,
            redis_only,
            tiered,
            raw,
            hot_key: stored_key(HOT_ID),
            distinct_keys: (0..tasks).map(|i| stored_key(DISTINCT_ID + i)).collect(),
        };
        // Store the hot value (a miss, then a hit that must not run the body).
        cache_bench::get_user(&ctx.redis_only, HOT_ID).await;
        crate::peers::init(&ctx.url).await;
        // And the distinct ones, for ours (and so raw) and the cached crate.
        for i in 0..tasks {
            cache_bench::get_user(&ctx.redis_only, DISTINCT_ID + i).await;
            let _ = crate::peers::cached_crate_user(DISTINCT_ID + i).await;
        }
        ctx
    }
}

/// The CPU model and core count, from `/proc/cpuinfo`, and the server's version.
pub fn machine_line(server: ServerKind) -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = info.lines().filter(|l| l.starts_with("processor")).count();
    let redis = std::process::Command::new(server.server())
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("machine: {cpus} CPUs, {model}; {redis}")
}
