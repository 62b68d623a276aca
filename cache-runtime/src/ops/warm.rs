//! Warming: named functions that fill the cache ahead of traffic, run at start-up
//! ([`Cache::warm_all`]) or on demand ([`Cache::warm`], the admin API's `POST /warm`).
//!
//! A warmer is any async closure returning how many entries it filled; it usually calls
//! `#[cached]` functions, for which [`warm_each`] runs a list of argument tuples with bounded
//! concurrency. A failing warmer is reported (and logged), never fatal, and the others run.
//!
//! ```
//! use cache_runtime::{cached, warm_each, Cache};
//!
//! #[cached(namespace = "products")]
//! async fn product(id: u64) -> String {
//!     format!("product {id}")
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let cache = Cache::memory();
//! # cache_runtime::init(cache.clone()).ok();
//! cache.register_warmer("products", || async {
//!     Ok::<_, String>(warm_each(1..=100u64, 8, |id| product(id)).await)
//! });
//! let reports = cache.warm_all().await;
//! assert_eq!((reports[0].ok, reports[0].count), (true, 100));
//! # }
//! ```

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::stream::{self, StreamExt};

use crate::cache::Cache;
use crate::error::{Error, Result};

type WarmFuture = Pin<Box<dyn Future<Output = std::result::Result<u64, String>> + Send>>;
type WarmFn = Arc<dyn Fn() -> WarmFuture + Send + Sync>;

/// What one run of a warmer did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct WarmReport {
    /// The warmer's name.
    pub name: String,
    /// Whether it returned `Ok`.
    pub ok: bool,
    /// The count it returned (0 when it failed).
    pub count: u64,
    /// How long it ran, in milliseconds.
    pub duration_ms: u64,
    /// Its error, when it failed (or panicked).
    pub error: Option<String>,
}

/// A registered warmer and its runs so far.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct WarmerStats {
    /// The warmer's name.
    pub name: String,
    /// How many times it ran.
    pub runs: u64,
    /// How many of those failed.
    pub failures: u64,
    /// Its last run.
    pub last: Option<WarmReport>,
}

struct Entry {
    name: String,
    warm: WarmFn,
    runs: u64,
    failures: u64,
    last: Option<WarmReport>,
}

/// The warmers of one cache, in registration order.
#[derive(Default)]
pub(crate) struct Warmers(Mutex<Vec<Entry>>);

impl Warmers {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        match self.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl Cache {
    /// Registers `warmer` under `name` (replacing a warmer of that name). It returns how
    /// many entries it filled, or an error that [`warm_all`](Cache::warm_all) reports.
    pub fn register_warmer<F, Fut, E>(&self, name: impl Into<String>, warmer: F)
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = std::result::Result<u64, E>> + Send + 'static,
        E: Display,
    {
        let warm: WarmFn = Arc::new(move || {
            let run = warmer();
            Box::pin(async move { run.await.map_err(|e| e.to_string()) }) as WarmFuture
        });
        let name = name.into();
        let mut warmers = self.inner.warmers.lock();
        match warmers.iter_mut().find(|e| e.name == name) {
            Some(entry) => entry.warm = warm,
            None => warmers.push(Entry {
                name,
                warm,
                runs: 0,
                failures: 0,
                last: None,
            }),
        }
    }

    /// The registered warmers' names, in registration order.
    pub fn warmer_names(&self) -> Vec<String> {
        self.inner
            .warmers
            .lock()
            .iter()
            .map(|e| e.name.clone())
            .collect()
    }

    /// Runs every registered warmer, one after the other, and reports each. A failing
    /// (or panicking) warmer is logged and reported; the others still run.
    pub async fn warm_all(&self) -> Vec<WarmReport> {
        let names = self.warmer_names();
        let mut reports = Vec::with_capacity(names.len());
        for name in &names {
            if let Some(report) = self.run_warmer(name).await {
                reports.push(report);
            }
        }
        reports
    }

    /// Runs the warmers named in `names`, in that order.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first unknown warmer (then none runs).
    pub async fn warm(&self, names: &[&str]) -> Result<Vec<WarmReport>> {
        let known = self.warmer_names();
        if let Some(unknown) = names.iter().find(|n| !known.iter().any(|k| k == *n)) {
            return Err(Error::config(format_args!(
                "no warmer named {unknown:?} (registered: {known:?})"
            )));
        }
        let mut reports = Vec::with_capacity(names.len());
        for name in names {
            if let Some(report) = self.run_warmer(name).await {
                reports.push(report);
            }
        }
        Ok(reports)
    }

    /// Every registered warmer with its run counts and last report.
    pub fn warmers(&self) -> Vec<WarmerStats> {
        self.inner
            .warmers
            .lock()
            .iter()
            .map(|e| WarmerStats {
                name: e.name.clone(),
                runs: e.runs,
                failures: e.failures,
                last: e.last.clone(),
            })
            .collect()
    }

    async fn run_warmer(&self, name: &str) -> Option<WarmReport> {
        let warm = {
            let warmers = self.inner.warmers.lock();
            warmers.iter().find(|e| e.name == name)?.warm.clone()
        };
        let started = Instant::now();
        // A panicking warmer is reported like a failing one: run it on its own task.
        let outcome = match tokio::spawn(warm()).await {
            Ok(outcome) => outcome,
            Err(e) => Err(format!("the warmer panicked: {e}")),
        };
        let duration_ms = crate::millis(started.elapsed());
        let report = match outcome {
            Ok(count) => WarmReport {
                name: name.to_owned(),
                ok: true,
                count,
                duration_ms,
                error: None,
            },
            Err(error) => {
                tracing::warn!(warmer = name, %error, "cache warmer failed");
                WarmReport {
                    name: name.to_owned(),
                    ok: false,
                    count: 0,
                    duration_ms,
                    error: Some(error),
                }
            }
        };
        let mut warmers = self.inner.warmers.lock();
        if let Some(entry) = warmers.iter_mut().find(|e| e.name == name) {
            entry.runs += 1;
            entry.failures += u64::from(!report.ok);
            entry.last = Some(report.clone());
        }
        Some(report)
    }
}

/// Calls `call` once per item of `args` (say, the argument tuples of a `#[cached]` fn),
/// at most `concurrency` at a time, and returns how many calls were made: each call fills
/// the cache as a miss would.
pub async fn warm_each<A, I, F, Fut>(args: I, concurrency: usize, call: F) -> u64
where
    I: IntoIterator<Item = A>,
    F: Fn(A) -> Fut,
    Fut: Future,
{
    stream::iter(args)
        .map(call)
        .buffer_unordered(concurrency.max(1))
        .fold(0u64, |n, _| async move { n + 1 })
        .await
}
