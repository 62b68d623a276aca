//! `get_or_compute` and `try_get_or_compute`: the `#[cached]` path for hand-built keys.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use cache_runtime::ComputeOptions;

use crate::fixture::{Counts, Fixture};

/// A miss computes and stores; the next call is a hit and does not compute.
pub async fn get_or_compute_caches(fx: &Fixture) {
    let (c, runs) = (&fx.cache, AtomicUsize::new(0));
    let options = ComputeOptions::new().ttl(Duration::from_secs(60));
    let compute = || async {
        runs.fetch_add(1, SeqCst);
        vec![1u32, 2, 3]
    };
    let before = fx.counts();
    assert_eq!(
        c.get_or_compute("gc:list", &options, compute).await,
        [1, 2, 3]
    );
    assert_eq!(
        c.get_or_compute("gc:list", &options, compute).await,
        [1, 2, 3]
    );
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(fx.counts().since(before), Counts::calls(1, 1, 1));
    assert_eq!(
        c.get::<Vec<u32>>("gc:list").await.unwrap(),
        Some(vec![1, 2, 3])
    );
    let ttl = c.ttl("gc:list").await.unwrap().unwrap();
    assert!(
        ttl <= Duration::from_secs(60) && ttl > Duration::from_secs(50),
        "{ttl:?}"
    );
}

/// An `Err` is returned and not cached; an `Ok` is.
pub async fn try_get_or_compute_skips_errors(fx: &Fixture) {
    let (c, runs) = (&fx.cache, AtomicUsize::new(0));
    let options = ComputeOptions::new();
    let failing = || async {
        runs.fetch_add(1, SeqCst);
        Err::<u64, String>("down".into())
    };
    assert_eq!(
        c.try_get_or_compute("gc:try", &options, failing).await,
        Err("down".into())
    );
    assert_eq!(
        c.try_get_or_compute("gc:try", &options, failing).await,
        Err("down".into())
    );
    assert_eq!(runs.load(SeqCst), 2);
    let working = || async {
        runs.fetch_add(1, SeqCst);
        Ok::<u64, String>(5)
    };
    assert_eq!(
        c.try_get_or_compute("gc:try", &options, working).await,
        Ok(5)
    );
    assert_eq!(
        c.try_get_or_compute("gc:try", &options, working).await,
        Ok(5)
    );
    assert_eq!(runs.load(SeqCst), 3);
}

/// Tags given in the options record the entry: invalidating one drops it.
pub async fn compute_options_tags(fx: &Fixture) {
    let (c, runs) = (&fx.cache, AtomicUsize::new(0));
    let options = ComputeOptions::new().tags(["team:9", "report"]);
    let compute = || async { runs.fetch_add(1, SeqCst) as u64 };
    assert_eq!(c.get_or_compute("gc:tagged", &options, compute).await, 0);
    assert_eq!(c.get_or_compute("gc:tagged", &options, compute).await, 0);
    assert_eq!(c.invalidate_tag("team:9").await.unwrap(), 1);
    assert_eq!(c.get_or_compute("gc:tagged", &options, compute).await, 1);
    assert_eq!(runs.load(SeqCst), 2);
}

/// Concurrent calls of one key compute once.
pub async fn compute_single_flight(fx: &Fixture) {
    let runs = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (cache, runs) = (fx.cache.clone(), runs.clone());
            tokio::spawn(async move {
                let options = ComputeOptions::new();
                cache
                    .get_or_compute("gc:flight", &options, || async {
                        runs.fetch_add(1, SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        42u64
                    })
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 42);
    }
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(fx.cache.stats().coalesced, 99);
}

/// Detached computation: the first caller is dropped after 10 ms of a 100 ms computation;
/// the computation goes on, a second caller gets its value in about one computation time,
/// and it ran once.
pub async fn detached_survives_a_dropped_caller(fx: &Fixture) {
    let runs = Arc::new(AtomicUsize::new(0));
    let compute = |runs: Arc<AtomicUsize>| {
        move || async move {
            runs.fetch_add(1, SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
            7u64
        }
    };
    let options = ComputeOptions::new();
    let start = std::time::Instant::now();
    let first = fx
        .cache
        .get_or_compute_detached("gc:detached", &options, compute(runs.clone()));
    assert!(tokio::time::timeout(Duration::from_millis(10), first)
        .await
        .is_err());
    let second = fx
        .cache
        .get_or_compute_detached("gc:detached", &options, compute(runs.clone()))
        .await;
    let took = start.elapsed();
    assert_eq!(second, 7);
    assert_eq!(
        runs.load(SeqCst),
        1,
        "the dropped caller's computation was not cancelled"
    );
    assert!(took < Duration::from_millis(1000), "took {took:?}");
    // And it was stored.
    assert_eq!(fx.cache.get::<u64>("gc:detached").await.unwrap(), Some(7));
}

/// `refresh` and `soft_timeout` through the detached manual methods.
pub async fn detached_refresh_and_soft_timeout(fx: &Fixture) {
    let runs = Arc::new(AtomicUsize::new(0));
    let next = |runs: &Arc<AtomicUsize>, slow: bool| {
        let runs = runs.clone();
        move || async move {
            let n = runs.fetch_add(1, SeqCst) as u64 + 1;
            if slow && n > 1 {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Ok::<u64, String>(n)
        }
    };
    let c = &fx.cache;
    let options = ComputeOptions::new()
        .ttl(Duration::from_secs(60))
        .refresh(Duration::from_millis(200));
    assert_eq!(
        c.try_get_or_compute_detached("gc:refresh", &options, next(&runs, false))
            .await,
        Ok(1)
    );
    assert_eq!(
        c.try_get_or_compute_detached("gc:refresh", &options, next(&runs, false))
            .await,
        Ok(1)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        c.try_get_or_compute_detached("gc:refresh", &options, next(&runs, false))
            .await,
        Ok(1)
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while c
        .try_get_or_compute_detached("gc:refresh", &options, next(&runs, false))
        .await
        != Ok(2)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no background refresh"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let soft = Arc::new(AtomicUsize::new(0));
    let options = ComputeOptions::new()
        .ttl(Duration::from_millis(200))
        .stale_if_error(Duration::from_secs(60))
        .soft_timeout(Duration::from_millis(50));
    assert_eq!(
        c.try_get_or_compute_detached("gc:soft", &options, next(&soft, true))
            .await,
        Ok(1)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let begin = std::time::Instant::now();
    assert_eq!(
        c.try_get_or_compute_detached("gc:soft", &options, next(&soft, true))
            .await,
        Ok(1)
    );
    assert!(
        begin.elapsed() < Duration::from_millis(250),
        "{:?}",
        begin.elapsed()
    );
}
