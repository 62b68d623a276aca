//! The load the fault tests drive: many tokio tasks calling one `#[cached]` fn in a loop,
//! each call checked and timed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_runtime::{cached, Cache, CircuitState, Stats};

/// How long the body of [`value`] sleeps.
pub(crate) const BODY: Duration = Duration::from_millis(1);

/// What a call may take on top of the operation timeout and the body: scheduling on a
/// shared 2-core machine running a debug build, several tests and their servers at once.
pub(crate) const SLACK: Duration = Duration::from_millis(200);

/// The longest any `#[cached]` call may take with this operation timeout: one operation that
/// runs into its deadline, then the body. A call stops using Redis after its first failure,
/// and the circuit breaker stops the others from paying the timeout again.
pub(crate) fn bound(operation_timeout: Duration) -> Duration {
    operation_timeout + BODY + SLACK
}

/// The value the body computes for `id`: what every call must return.
pub(crate) fn expected(id: u64) -> u64 {
    id * 7 + 1
}

/// The cached fn under load: deterministic, slow enough to be worth caching, and counting
/// its runs.
#[cached(namespace = "faults.value", ttl = "10m", cache = cache, skip(cache, runs))]
pub(crate) async fn value(id: u64, cache: &Cache, runs: &AtomicU64) -> u64 {
    runs.fetch_add(1, SeqCst);
    tokio::time::sleep(BODY).await;
    expected(id)
}

/// One call that took longer than the bound.
pub(crate) struct Slow {
    /// When it started, since the load started.
    pub(crate) at: Duration,
    pub(crate) took: Duration,
    pub(crate) id: u64,
}

/// Concurrent callers of [`value`], running until [`finish`](Load::finish).
pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    runs: Arc<AtomicU64>,
    tasks: Vec<tokio::task::JoinHandle<TaskLog>>,
    bound: Duration,
}

#[derive(Default)]
struct TaskLog {
    latencies: Vec<Duration>,
    wrong: Vec<(u64, u64)>,
    slow: Vec<Slow>,
}

impl Load {
    /// Starts `tasks` tasks, each calling `value(id)` for pseudo-random ids in `0..ids`
    /// (offset by `first`), pausing 1 ms between calls.
    pub(crate) fn start(cache: &Cache, tasks: u64, first: u64, ids: u64, bound: Duration) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let runs = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let tasks = (0..tasks)
            .map(|task| {
                let (cache, stop, runs) = (cache.clone(), stop.clone(), runs.clone());
                tokio::spawn(async move {
                    let mut log = TaskLog::default();
                    let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (task + 1).wrapping_mul(0xA24B_AED4);
                    while !stop.load(SeqCst) {
                        rng ^= rng << 13;
                        rng ^= rng >> 7;
                        rng ^= rng << 17;
                        let id = first + rng % ids;
                        let t = Instant::now();
                        let got = value(id, &cache, &runs).await;
                        let took = t.elapsed();
                        if got != expected(id) {
                            log.wrong.push((id, got));
                        }
                        if took > bound {
                            let at = t - started;
                            log.slow.push(Slow { at, took, id });
                        }
                        log.latencies.push(took);
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    log
                })
            })
            .collect();
        Load {
            stop,
            runs,
            tasks,
            bound,
        }
    }

    /// How many times the body ran so far.
    pub(crate) fn runs(&self) -> u64 {
        self.runs.load(SeqCst)
    }

    /// Stops every task and collects what they saw; a task that panicked fails the test.
    pub(crate) async fn finish(self) -> Report {
        self.stop.store(true, SeqCst);
        let mut report = Report {
            runs: 0,
            latencies: Vec::new(),
            wrong: Vec::new(),
            slow: Vec::new(),
            bound: self.bound,
        };
        for task in self.tasks {
            let log = match task.await {
                Ok(log) => log,
                Err(e) => match e.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    Err(e) => panic!("a load task failed: {e}"),
                },
            };
            report.latencies.extend(log.latencies);
            report.wrong.extend(log.wrong);
            report.slow.extend(log.slow);
        }
        report.runs = self.runs.load(SeqCst);
        report.latencies.sort();
        report.slow.sort_by_key(|s| s.at);
        report
    }
}

/// What a load saw.
pub(crate) struct Report {
    /// How many times the body ran, in all.
    pub(crate) runs: u64,
    pub(crate) latencies: Vec<Duration>,
    pub(crate) wrong: Vec<(u64, u64)>,
    pub(crate) slow: Vec<Slow>,
    pub(crate) bound: Duration,
}

impl Report {
    /// Prints the latency distribution, then asserts: calls were made, none returned a
    /// wrong value, none took longer than the bound.
    pub(crate) fn check(&self, name: &str) {
        print_latencies(name, &self.latencies, self.bound);
        assert!(!self.latencies.is_empty(), "{name}: no calls were made");
        assert!(
            self.wrong.is_empty(),
            "{name}: {} calls returned a wrong value, e.g. (id, got) {:?}",
            self.wrong.len(),
            &self.wrong[..self.wrong.len().min(10)]
        );
        let slow: Vec<String> = self
            .slow
            .iter()
            .take(10)
            .map(|s| format!("id {} started at {:?} took {:?}", s.id, s.at, s.took))
            .collect();
        assert!(
            self.slow.is_empty(),
            "{name}: {} of {} calls took longer than {:?}, e.g. {slow:#?}",
            self.slow.len(),
            self.latencies.len(),
            self.bound,
        );
    }
}

/// Prints `name: N calls, p50 .. p99 .. max .. (bound ..)` for sorted latencies.
pub(crate) fn print_latencies(name: &str, sorted: &[Duration], bound: Duration) {
    let at = |q: f64| {
        sorted
            .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{name}: {} calls, latency p50 {:?}, p99 {:?}, max {:?} (bound {bound:?})",
        sorted.len(),
        at(0.50),
        at(0.99),
        sorted.last().copied().unwrap_or_default(),
    );
}

/// Polls `done` every 10 ms until it holds, failing the test after `within`; returns how
/// long it took.
pub(crate) async fn poll(
    cache: &Cache,
    within: Duration,
    what: &str,
    done: impl Fn(&Stats) -> bool,
) -> Duration {
    let started = Instant::now();
    let deadline = started + within;
    loop {
        let stats = cache.stats();
        if done(&stats) {
            return started.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "not within {within:?}: {what}; stats now {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Samples the circuit's state every 10 ms for `period`.
pub(crate) async fn sample_circuit(cache: &Cache, period: Duration) -> Vec<CircuitState> {
    let end = Instant::now() + period;
    let mut seen = Vec::new();
    while Instant::now() < end {
        seen.push(cache.stats().circuit);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    seen
}

/// How many samples were in each state, for printing.
pub(crate) fn tally(samples: &[CircuitState]) -> String {
    let count = |s: CircuitState| samples.iter().filter(|&&x| x == s).count();
    format!(
        "closed {}, open {}, half_open {}",
        count(CircuitState::Closed),
        count(CircuitState::Open),
        count(CircuitState::HalfOpen)
    )
}

/// Prints the resilience counters of `stats`.
pub(crate) fn print_stats(name: &str, stats: &Stats) {
    println!(
        "{name}: hits {}, misses {}, errors {}, timeouts {}, write_errors {}, circuit {} \
         (opened {}, short-circuited {})",
        stats.hits,
        stats.misses,
        stats.errors,
        stats.timeouts,
        stats.write_errors,
        stats.circuit,
        stats.circuit_opened,
        stats.short_circuited
    );
}
