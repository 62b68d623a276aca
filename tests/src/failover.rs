//! The load the failover tests (`tests/cluster/failover.rs`, `tests/sentinel/failover.rs`)
//! put on a cache while a master is killed: [`TASKS`] tasks calling a `#[cached]` fn over
//! [`KEYS`] keys, each call checked and timed, and the cache's counters sampled every 10 ms.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_runtime::{cached, Cache, Stats};

/// How many keys the load calls.
pub const KEYS: u64 = 300;
/// How many tasks call at once.
pub const TASKS: usize = 16;

/// The cached fn of the load: `id * 3 + 1`, counting its runs in `runs`.
#[cached(namespace = "fo.value", cache = cache, skip(cache, runs))]
pub async fn value(id: u64, cache: &Cache, runs: &AtomicUsize) -> u64 {
    runs.fetch_add(1, SeqCst);
    id * 3 + 1
}

/// What the load tasks saw.
#[derive(Default)]
pub struct Load {
    /// Calls made.
    pub calls: AtomicU64,
    /// Calls that returned another value than `id * 3 + 1`.
    pub wrong: AtomicU64,
    /// The slowest call, in µs.
    pub slowest_us: AtomicU64,
    stop: AtomicBool,
}

/// One sample of the cache's counters, `at` after the kill.
pub struct Sample {
    /// When, after the kill.
    pub at: Duration,
    /// The counters then.
    pub stats: Stats,
}

/// The running load.
pub struct Running {
    /// What the tasks saw so far.
    pub load: Arc<Load>,
    cache: Arc<Cache>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    sampler: Option<tokio::task::JoinHandle<Vec<Sample>>>,
}

/// Fills every key once (asserting each value and that each ran its body), then starts the
/// load tasks.
pub async fn start(cache: Arc<Cache>, runs: Arc<AtomicUsize>) -> Running {
    for id in 0..KEYS {
        assert_eq!(value(id, &cache, &runs).await, id * 3 + 1);
    }
    assert_eq!(runs.load(SeqCst), KEYS as usize);
    let load = Arc::new(Load::default());
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let (cache, runs, load) = (cache.clone(), runs.clone(), load.clone());
        tasks.push(tokio::spawn(async move {
            let mut id = t as u64 * 17;
            while !load.stop.load(SeqCst) {
                id = (id + 7) % KEYS;
                let started = Instant::now();
                let got = value(id, &cache, &runs).await;
                let took = started.elapsed().as_micros() as u64;
                load.slowest_us.fetch_max(took, SeqCst);
                load.calls.fetch_add(1, SeqCst);
                if got != id * 3 + 1 {
                    load.wrong.fetch_add(1, SeqCst);
                }
            }
        }));
    }
    Running {
        load,
        cache,
        tasks,
        sampler: None,
    }
}

impl Running {
    /// Starts sampling the cache's counters every 10 ms, timed from `killed_at`.
    pub fn sample_from(&mut self, killed_at: Instant) {
        let (cache, load) = (self.cache.clone(), self.load.clone());
        self.sampler = Some(tokio::spawn(async move {
            let mut samples = Vec::new();
            while !load.stop.load(SeqCst) {
                samples.push(Sample {
                    at: killed_at.elapsed(),
                    stats: cache.stats(),
                });
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            samples
        }));
    }

    /// Waits until the cache has had a clean second (no error, no short circuit, and hits);
    /// returns when that second began, after `killed_at`. Fails 30 s after the kill.
    pub async fn clean_second(&self, killed_at: Instant) -> Duration {
        loop {
            let s = self.cache.stats();
            tokio::time::sleep(Duration::from_secs(1)).await;
            let t = self.cache.stats();
            if t.errors == s.errors && t.short_circuited == s.short_circuited && t.hits > s.hits {
                return killed_at.elapsed() - Duration::from_secs(1);
            }
            assert!(
                killed_at.elapsed() < Duration::from_secs(30),
                "calls still fail 30 s after the kill: {t:?}"
            );
        }
    }

    /// Stops the tasks; returns the samples.
    pub async fn stop(self) -> (Arc<Load>, Vec<Sample>) {
        self.load.stop.store(true, SeqCst);
        for task in self.tasks {
            task.await.unwrap();
        }
        let samples = match self.sampler {
            Some(sampler) => sampler.await.unwrap(),
            None => Vec::new(),
        };
        (self.load, samples)
    }
}

impl Load {
    /// Asserts that no call returned a wrong value, and that the slowest call stayed within
    /// 3 s: a miss makes up to three operations (read, lease, fill), each bounded by the
    /// 250 ms deadline, and a single-flight waiter whose leader's fill was refused makes its
    /// own three: 6 x 250 ms, plus scheduling on a loaded 2-core machine. Never unbounded.
    pub fn assert_right_and_bounded(&self) {
        assert_eq!(self.wrong.load(SeqCst), 0, "a call returned a wrong value");
        assert!(
            self.slowest_us.load(SeqCst) < 3_000_000,
            "a call took {} ms: the operation deadlines do not hold",
            self.slowest_us.load(SeqCst) / 1000
        );
    }
}

/// Calls every key once more: each must be a hit, with no body run and no error.
pub async fn assert_all_hits(cache: &Cache, runs: &AtomicUsize) {
    let before = cache.stats();
    let runs_before = runs.load(SeqCst);
    for id in 0..KEYS {
        assert_eq!(value(id, cache, runs).await, id * 3 + 1);
    }
    let after = cache.stats();
    assert_eq!(
        (after.hits - before.hits, after.misses - before.misses),
        (KEYS, 0),
        "every key is a hit after the failover"
    );
    assert_eq!(runs.load(SeqCst), runs_before);
    assert_eq!(after.errors, before.errors);
}
