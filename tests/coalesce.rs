//! Concurrent GETs on one Redis node merged into MGETs. `CLIENT PAUSE` holds the first GETs
//! at the server (up to 4 are in flight at once), so every later caller is known to queue
//! behind them: the counts of GET and MGET commands the server ran are then exact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use cache_runtime::Cache;
use cache_tests::fixture::Fixture;

/// A cache on the fixture's server with `coalesce_reads(on)`, at most 4 reads in flight,
/// a deadline long enough to wait out the pause, and no L1 (every read reaches Redis).
async fn cache(fx: &Fixture, on: bool) -> Arc<Cache> {
    Arc::new(
        fx.another(|b| {
            b.coalesce_reads(on)
                .max_reads_in_flight(4)
                .l1(false)
                .operation_timeout(Duration::from_secs(3))
        })
        .await,
    )
}

/// Pauses every client of the server for `ms` (the pausing connection is not paused).
async fn pause_server(fx: &Fixture, ms: u64) {
    let mut raw = fx.raw().await.unwrap();
    let () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(ms)
        .arg("ALL")
        .query_async(&mut raw)
        .await
        .unwrap();
}

/// `n` concurrent reads of `k0..k{n}` with the server paused as the first is sent; returns
/// each caller's value.
async fn read_all(fx: &Fixture, c: &Arc<Cache>, n: u64) -> Vec<Option<u64>> {
    pause_server(fx, 300).await;
    let mut calls = Vec::new();
    for i in 0..n {
        let c = c.clone();
        calls.push(tokio::spawn(async move {
            c.get::<u64>(format!("k{i}")).await.unwrap()
        }));
        if i == 0 {
            // Let the first GET reach the (paused) server before the others queue.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let mut values = Vec::new();
    for call in calls {
        values.push(call.await.unwrap());
    }
    values
}

/// 100 callers while the first GETs are held: 4 GETs (the most in flight), then 1 MGET for
/// the other 96; every caller gets its own value (the missing key, `None`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_behind_a_read_in_flight_become_one_mget() {
    let fx = Fixture::redis().await;
    let c = cache(&fx, true).await;
    for i in 0..99u64 {
        c.set(format!("k{i}"), &(i * 7), None).await.unwrap();
    }
    let (gets, mgets) = (
        fx.command_calls("get").await.unwrap(),
        fx.command_calls("mget").await.unwrap(),
    );
    let values = read_all(&fx, &c, 100).await;
    let want: Vec<Option<u64>> = (0..100u64).map(|i| (i < 99).then_some(i * 7)).collect();
    assert_eq!(values, want);
    assert_eq!(fx.command_calls("get").await.unwrap() - gets, 4);
    assert_eq!(fx.command_calls("mget").await.unwrap() - mgets, 1);
    let stats = c.stats();
    assert_eq!((stats.hits, stats.misses, stats.errors), (99, 1, 0));
}

/// With the default of 16 reads in flight, 100 held callers are 16 GETs and one MGET.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_keeps_16_reads_in_flight() {
    let fx = Fixture::redis().await;
    let c = Arc::new(
        fx.another(|b| b.l1(false).operation_timeout(Duration::from_secs(3)))
            .await,
    );
    let (gets, mgets) = (
        fx.command_calls("get").await.unwrap(),
        fx.command_calls("mget").await.unwrap(),
    );
    let values = read_all(&fx, &c, 100).await;
    assert_eq!(values, vec![None; 100]);
    assert_eq!(fx.command_calls("get").await.unwrap() - gets, 16);
    assert_eq!(fx.command_calls("mget").await.unwrap() - mgets, 1);
}

/// Turned off, every caller sends its own GET.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coalescing_off_sends_one_get_per_call() {
    let fx = Fixture::redis().await;
    let c = cache(&fx, false).await;
    for i in 0..20u64 {
        c.set(format!("k{i}"), &i, None).await.unwrap();
    }
    let gets = fx.command_calls("get").await.unwrap();
    let values = read_all(&fx, &c, 20).await;
    assert_eq!(values, (0..20u64).map(Some).collect::<Vec<_>>());
    assert_eq!(fx.command_calls("get").await.unwrap() - gets, 20);
    assert_eq!(fx.command_calls("mget").await.unwrap(), 0);
}

/// A caller holding a turn is cancelled while its GET is held: the queued callers (k4..k9,
/// behind the 4 GETs in flight) still get their values, in one MGET sent by the first of
/// them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_reader_passes_the_turn_on() {
    let fx = Fixture::redis().await;
    let c = cache(&fx, true).await;
    for i in 0..10u64 {
        c.set(format!("k{i}"), &i, None).await.unwrap();
    }
    let mgets = fx.command_calls("mget").await.unwrap();
    pause_server(&fx, 300).await;
    let first = {
        let c = c.clone();
        tokio::spawn(async move { c.get::<u64>("k0").await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut rest = Vec::new();
    for i in 1..10u64 {
        let c = c.clone();
        rest.push(tokio::spawn(async move {
            c.get::<u64>(format!("k{i}")).await.unwrap()
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    let mut values = Vec::new();
    for call in rest {
        values.push(call.await.unwrap());
    }
    assert_eq!(values, (1..10u64).map(Some).collect::<Vec<_>>());
    assert_eq!(fx.command_calls("mget").await.unwrap() - mgets, 1);
}

/// A batch whose MGET fails (the server killed under it): every caller of the batch gets
/// the error, none hangs, and reads work again after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_fails_each_caller() {
    let mut fx = Fixture::redis().await;
    let c = cache(&fx, true).await;
    c.set("k0", &1u64, None).await.unwrap();
    pause_server(&fx, 300).await;
    let mut calls = Vec::new();
    for i in 0..10u64 {
        let c = c.clone();
        calls.push(tokio::spawn(
            async move { c.get::<u64>(format!("k{i}")).await },
        ));
        if i == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    fx.server.as_mut().unwrap().kill();
    let mut failed = 0;
    for call in calls {
        if call.await.unwrap().is_err() {
            failed += 1;
        }
    }
    assert_eq!(failed, 10, "every queued caller got the batch's error");
    fx.server.as_mut().unwrap().restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while c.get::<u64>("k0").await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "no read after the restart"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
