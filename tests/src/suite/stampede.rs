//! Stampede protection in one process: concurrent misses of one key share one body.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_runtime::{cached, Cache};

use crate::fixture::Fixture;

#[cached(namespace = "stampede.slow", cache = cache, skip(started, finished))]
async fn slow(
    id: u64,
    cache: Cache,
    started: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
    millis: u64,
) -> u64 {
    started.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(millis)).await;
    finished.fetch_add(1, SeqCst);
    id * 2
}

#[cached(namespace = "stampede.panics", cache = cache, skip(started))]
async fn panics_first(id: u64, cache: Cache, started: Arc<AtomicUsize>) -> u64 {
    let n = started.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(n > 0, "the first body panics");
    id
}

#[cached(namespace = "stampede.detached", cache = cache, detach = true, skip(started, finished))]
async fn detached(
    id: u64,
    cache: Cache,
    started: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
) -> u64 {
    started.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    finished.fetch_add(1, SeqCst);
    id * 3
}

#[cached(namespace = "stampede.refresh", cache = cache, ttl = 60, refresh = "300ms", skip(runs))]
async fn refreshed(id: u64, cache: Cache, runs: Arc<AtomicUsize>) -> String {
    let n = runs.fetch_add(1, SeqCst) + 1;
    format!("{id} v{n}")
}

#[cached(namespace = "stampede.soft", cache = cache, ttl = "300ms", stale_if_error = "1m", soft_timeout = "50ms", skip(runs))]
async fn slow_quote(id: u64, cache: Cache, runs: Arc<AtomicUsize>) -> Result<u64, String> {
    let n = runs.fetch_add(1, SeqCst) as u64 + 1;
    if n > 1 {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(id * 1000 + n)
}

fn counters() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)))
}

/// 1,000 concurrent callers of one cold key: the body runs exactly once, every caller gets
/// the value, and 999 of them are counted as coalesced hits.
pub async fn thousand_callers_one_body(fx: &Fixture) {
    let (started, finished) = counters();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let call = slow(7, fx.cache.clone(), started.clone(), finished.clone(), 50);
            tokio::spawn(call)
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 14);
    }
    assert_eq!((started.load(SeqCst), finished.load(SeqCst)), (1, 1));
    let stats = fx.cache.stats();
    assert_eq!((stats.misses, stats.hits, stats.coalesced), (1, 999, 999));
}

/// A caller dropped mid-body (a timeout, a client gone away) does not stall the others:
/// one waiter takes over and gets the value in about one body time.
pub async fn cancelled_leader_hands_over(fx: &Fixture) {
    let (started, finished) = counters();
    let mut first = Box::pin(slow(
        3,
        fx.cache.clone(),
        started.clone(),
        finished.clone(),
        100,
    ));
    // Drive the first caller until its body runs: it leads the flight.
    tokio::select! {
        _ = &mut first => panic!("the 100 ms body finished first"),
        _ = async {
            while started.load(SeqCst) == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        } => {}
    }
    let second = tokio::spawn(slow(
        3,
        fx.cache.clone(),
        started.clone(),
        finished.clone(),
        100,
    ));
    let begin = Instant::now();
    assert!(tokio::time::timeout(Duration::from_millis(10), first)
        .await
        .is_err());
    assert_eq!(second.await.unwrap(), 6);
    let took = begin.elapsed();
    assert!(took < Duration::from_secs(1), "took {took:?}");
    // The dropped leader's body was cancelled; the waiter ran its own, once.
    assert_eq!((started.load(SeqCst), finished.load(SeqCst)), (2, 1));
    // And it was stored: the lease of the cancelled leader did not block the fill.
    assert_eq!(
        slow(3, fx.cache.clone(), started.clone(), finished.clone(), 100).await,
        6
    );
    assert_eq!(started.load(SeqCst), 2);
}

/// A leader whose body panics does not leave its waiters hanging: one takes over.
pub async fn panicking_leader_hands_over(fx: &Fixture) {
    let started = Arc::new(AtomicUsize::new(0));
    let leader = tokio::spawn(panics_first(1, fx.cache.clone(), started.clone()));
    // The waiters come once the leader's body runs (a fixed sleep was shorter than a
    // cluster's read now and then: a waiter then led, and the leader waited).
    tokio::time::timeout(Duration::from_secs(5), async {
        while started.load(SeqCst) == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the leader's body never started");
    let waiters: Vec<_> = (0..10)
        .map(|_| tokio::spawn(panics_first(1, fx.cache.clone(), started.clone())))
        .collect();
    assert!(leader.await.unwrap_err().is_panic());
    for waiter in waiters {
        let value = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("a waiter hung after its leader panicked");
        assert_eq!(value.unwrap(), 1);
    }
    assert_eq!(
        started.load(SeqCst),
        2,
        "the panicked body and one taker-over"
    );
}

/// `detach = true`: the first caller is dropped after 10 ms of a 100 ms body; the body runs
/// on, the second caller gets its value in about one body time, and the body ran once.
pub async fn detached_body_survives_a_dropped_caller(fx: &Fixture) {
    let (started, finished) = counters();
    let begin = Instant::now();
    let first = detached(4, fx.cache.clone(), started.clone(), finished.clone());
    assert!(tokio::time::timeout(Duration::from_millis(10), first)
        .await
        .is_err());
    let second = detached(4, fx.cache.clone(), started.clone(), finished.clone()).await;
    let took = begin.elapsed();
    assert_eq!(second, 12);
    assert_eq!((started.load(SeqCst), finished.load(SeqCst)), (1, 1));
    assert!(took < Duration::from_secs(1), "took {took:?}");
    // A hit now, with no spawn and no body.
    assert_eq!(
        detached(4, fx.cache.clone(), started.clone(), finished.clone()).await,
        12
    );
    assert_eq!(started.load(SeqCst), 1);
}

/// `refresh = "300ms"`: a hit on an older entry returns it at once and recomputes it in the
/// background, once; the next hit sees the new value. Younger entries are not refreshed.
pub async fn refresh_ahead(fx: &Fixture) {
    let runs = Arc::new(AtomicUsize::new(0));
    let c = &fx.cache;
    assert_eq!(refreshed(1, c.clone(), runs.clone()).await, "1 v1");
    // On Redis, the first read after the fill fills L1; from then on hits are in-process.
    assert_eq!(refreshed(1, c.clone(), runs.clone()).await, "1 v1");
    assert_eq!(runs.load(SeqCst), 1, "young entries are not refreshed");
    tokio::time::sleep(Duration::from_millis(400)).await;
    let begin = Instant::now();
    assert_eq!(
        refreshed(1, c.clone(), runs.clone()).await,
        "1 v1",
        "served at once"
    );
    assert_eq!(refreshed(1, c.clone(), runs.clone()).await, "1 v1");
    assert!(begin.elapsed() < Duration::from_millis(100));
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let value = refreshed(1, c.clone(), runs.clone()).await;
        if value == "1 v2" {
            break;
        }
        assert!(Instant::now() < deadline, "still {value} after 2 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(runs.load(SeqCst), 2, "one background refresh");
}

/// `soft_timeout = "50ms"` with a stale entry: a 300 ms body is cut short, the stale value is
/// returned within about 50 ms, and the body finishes in the background and stores its value.
pub async fn soft_timeout_serves_stale(fx: &Fixture) {
    let runs = Arc::new(AtomicUsize::new(0));
    let c = &fx.cache;
    assert_eq!(slow_quote(1, c.clone(), runs.clone()).await, Ok(1001));
    tokio::time::sleep(Duration::from_millis(400)).await; // now stale
    let begin = Instant::now();
    assert_eq!(
        slow_quote(1, c.clone(), runs.clone()).await,
        Ok(1001),
        "the stale value"
    );
    let took = begin.elapsed();
    assert!(took < Duration::from_millis(250), "took {took:?}");
    assert_eq!(c.stats().stale_served, 1);
    // The body goes on in the background and fills the entry.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if c.get::<u64>(cache_runtime::key_for::<u64>("stampede.soft", 1, &(1u64,)).unwrap())
            .await
            .unwrap()
            == Some(1002)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the background body did not store its value"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(slow_quote(1, c.clone(), runs.clone()).await, Ok(1002));
    assert_eq!(runs.load(SeqCst), 2);
}
