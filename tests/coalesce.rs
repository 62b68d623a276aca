//! Concurrent GETs on one Redis node merged into MGETs. The tests run on a current-thread
//! runtime, where tasks spawned together first run one after the other in one turn of the
//! scheduler: which of them are sent alone and which are gathered into a batch is then
//! known, and the counts of GET and MGET commands the server ran are exact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use cache_runtime::{cached, Cache};
use cache_tests::fixture::Fixture;

/// A cache on the fixture's server with `coalesce_reads(on)`, at most 4 reads in flight,
/// a deadline long enough to wait out a pause, and no L1 (every read reaches Redis).
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

/// `n` concurrent reads of `k0..k{n}`, all made in one instant: on this current-thread
/// runtime the spawned tasks first run, one after the other, when the test task awaits the
/// first of them. Returns each caller's value.
async fn read_all(c: &Arc<Cache>, n: u64) -> Vec<Option<u64>> {
    let calls: Vec<_> = (0..n)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.get::<u64>(format!("k{i}")).await.unwrap() })
        })
        .collect();
    let mut values = Vec::new();
    for call in calls {
        values.push(call.await.unwrap());
    }
    values
}

/// 100 callers in one instant: the first 4 are sent at once (the most in flight), the 5th
/// gathers the other 95 into its batch, and the batch goes out as one MGET of 96 keys; every
/// caller gets its own value (the missing key, `None`).
#[tokio::test(flavor = "current_thread")]
async fn gets_made_while_reads_are_in_flight_become_one_mget() {
    let fx = Fixture::redis().await;
    let c = cache(&fx, true).await;
    for i in 0..99u64 {
        c.set(format!("k{i}"), &(i * 7), None).await.unwrap();
    }
    let (gets, mgets) = (
        fx.command_calls("get").await.unwrap(),
        fx.command_calls("mget").await.unwrap(),
    );
    let values = read_all(&c, 100).await;
    let want: Vec<Option<u64>> = (0..100u64).map(|i| (i < 99).then_some(i * 7)).collect();
    assert_eq!(values, want);
    assert_eq!(fx.command_calls("get").await.unwrap() - gets, 4);
    assert_eq!(fx.command_calls("mget").await.unwrap() - mgets, 1);
    let stats = c.stats();
    assert_eq!((stats.hits, stats.misses, stats.errors), (99, 1, 0));
}

/// A batch holds at most 128 keys: of 300 callers in one instant, the first 4 are sent
/// alone, the 5th gathers 127 more, the 133rd finds that batch full, seals it and gathers
/// the next 127, and the 261st gathers the last 39: 4 GETs and MGETs of 128, 128 and 40.
#[tokio::test(flavor = "current_thread")]
async fn a_full_batch_is_sealed_and_the_next_caller_gathers_another() {
    let fx = Fixture::redis().await;
    let c = cache(&fx, true).await;
    let (gets, mgets) = (
        fx.command_calls("get").await.unwrap(),
        fx.command_calls("mget").await.unwrap(),
    );
    assert_eq!(read_all(&c, 300).await, vec![None; 300]);
    assert_eq!(fx.command_calls("get").await.unwrap() - gets, 4);
    assert_eq!(fx.command_calls("mget").await.unwrap() - mgets, 3);
}

/// Once a batch was gathered the cache is busy: the next instant's 100 callers send no GET
/// alone, all 100 go in one MGET (so the MGET is not written after GETs the yield let
/// through). A caller that then reads on its own gathers nobody and makes the cache quiet
/// again: the instant after it sends its first 4 GETs alone, as a fresh cache does.
#[tokio::test(flavor = "current_thread")]
async fn a_busy_cache_gathers_from_the_first_get_until_a_caller_is_alone() {
    let fx = Fixture::redis().await;
    let c = cache(&fx, true).await;
    c.set("k0", &3u64, None).await.unwrap();
    let counts = || async {
        (
            fx.command_calls("get").await.unwrap(),
            fx.command_calls("mget").await.unwrap(),
        )
    };
    let mut want: Vec<Option<u64>> = vec![None; 100];
    want[0] = Some(3);
    let before = counts().await;
    assert_eq!(read_all(&c, 100).await, want);
    let after = counts().await;
    assert_eq!((after.0 - before.0, after.1 - before.1), (4, 1), "quiet");
    assert_eq!(read_all(&c, 100).await, want);
    let busy = counts().await;
    assert_eq!((busy.0 - after.0, busy.1 - after.1), (0, 1), "busy");
    assert_eq!(c.get::<u64>("k0").await.unwrap(), Some(3));
    let alone = counts().await;
    assert_eq!((alone.0 - busy.0, alone.1 - busy.1), (1, 0), "alone");
    assert_eq!(read_all(&c, 100).await, want);
    let quiet = counts().await;
    assert_eq!(
        (quiet.0 - alone.0, quiet.1 - alone.1),
        (4, 1),
        "quiet again"
    );
}

/// A gather past the in-flight bound makes the cache busy even when nobody joined it: 5
/// callers in one instant are 4 GETs and a 5th sent from an empty batch, and the next 5
/// are one MGET.
#[tokio::test(flavor = "current_thread")]
async fn a_gather_past_the_bound_makes_the_cache_busy_though_nobody_joined() {
    let fx = Fixture::redis().await;
    let c = cache(&fx, true).await;
    let (gets, mgets) = (
        fx.command_calls("get").await.unwrap(),
        fx.command_calls("mget").await.unwrap(),
    );
    assert_eq!(read_all(&c, 5).await, vec![None; 5]);
    assert_eq!(fx.command_calls("get").await.unwrap() - gets, 5);
    assert_eq!(fx.command_calls("mget").await.unwrap() - mgets, 0);
    assert_eq!(read_all(&c, 5).await, vec![None; 5]);
    assert_eq!(fx.command_calls("get").await.unwrap() - gets, 5);
    assert_eq!(fx.command_calls("mget").await.unwrap() - mgets, 1);
}

/// With the default of 2 reads in flight, 100 callers in one instant are 2 GETs and one
/// MGET.
#[tokio::test(flavor = "current_thread")]
async fn the_default_keeps_2_reads_in_flight() {
    let fx = Fixture::redis().await;
    let c = Arc::new(
        fx.another(|b| b.l1(false).operation_timeout(Duration::from_secs(3)))
            .await,
    );
    let (gets, mgets) = (
        fx.command_calls("get").await.unwrap(),
        fx.command_calls("mget").await.unwrap(),
    );
    assert_eq!(read_all(&c, 100).await, vec![None; 100]);
    assert_eq!(fx.command_calls("get").await.unwrap() - gets, 2);
    assert_eq!(fx.command_calls("mget").await.unwrap() - mgets, 1);
}

/// Reads made one after the other never wait for a batch: each is a GET of its own.
#[tokio::test(flavor = "current_thread")]
async fn sequential_reads_are_plain_gets() {
    let fx = Fixture::redis().await;
    let c = cache(&fx, true).await;
    c.set("k0", &5u64, None).await.unwrap();
    let (gets, mgets) = (
        fx.command_calls("get").await.unwrap(),
        fx.command_calls("mget").await.unwrap(),
    );
    for _ in 0..10 {
        assert_eq!(c.get::<u64>("k0").await.unwrap(), Some(5));
    }
    assert_eq!(fx.command_calls("get").await.unwrap() - gets, 10);
    assert_eq!(fx.command_calls("mget").await.unwrap() - mgets, 0);
}

/// Turned off, every caller sends its own GET.
#[tokio::test(flavor = "current_thread")]
async fn coalescing_off_sends_one_get_per_call() {
    let fx = Fixture::redis().await;
    let c = cache(&fx, false).await;
    for i in 0..20u64 {
        c.set(format!("k{i}"), &i, None).await.unwrap();
    }
    let gets = fx.command_calls("get").await.unwrap();
    let values = read_all(&c, 20).await;
    assert_eq!(values, (0..20u64).map(Some).collect::<Vec<_>>());
    assert_eq!(fx.command_calls("get").await.unwrap() - gets, 20);
    assert_eq!(fx.command_calls("mget").await.unwrap(), 0);
}

/// Stores `k0..k{n}`, then reads them all in one instant with the caller of `k4` (the
/// gatherer: behind the 4 GETs in flight) cancelled while it waits for the rest of its
/// instant. Asserts every other caller got its value, and returns the GETs and MGETs the
/// server ran for the reads.
async fn read_with_the_gatherer_cancelled(fx: &Fixture, n: u64) -> (u64, u64) {
    let c = cache(fx, true).await;
    for i in 0..n {
        c.set(format!("k{i}"), &i, None).await.unwrap();
    }
    let (gets, mgets) = (
        fx.command_calls("get").await.unwrap(),
        fx.command_calls("mget").await.unwrap(),
    );
    let spawn = |i: u64| {
        let c = c.clone();
        tokio::spawn(async move { c.get::<u64>(format!("k{i}")).await.unwrap() })
    };
    let ahead: Vec<_> = (0..4).map(spawn).collect();
    let gatherer = spawn(4);
    let rest: Vec<_> = (5..n).map(spawn).collect();
    // Runs after the gatherer yielded and before it resumes (it resumes after the runtime
    // has run every task ready now).
    let abort = gatherer.abort_handle();
    let canceller = tokio::spawn(async move { abort.abort() });
    canceller.await.unwrap();
    assert!(gatherer.await.unwrap_err().is_cancelled());
    let mut values = Vec::new();
    for call in ahead.into_iter().chain(rest) {
        values.push(call.await.unwrap());
    }
    let want: Vec<Option<u64>> = (0..n).filter(|&i| i != 4).map(Some).collect();
    assert_eq!(values, want);
    (
        fx.command_calls("get").await.unwrap() - gets,
        fx.command_calls("mget").await.unwrap() - mgets,
    )
}

/// The gatherer of k4..k9 is cancelled: the callers that joined it (k5..k9) still get
/// their values, in one MGET sent by the first of them.
#[tokio::test(flavor = "current_thread")]
async fn a_cancelled_gatherer_hands_its_batch_on() {
    let fx = Fixture::redis().await;
    assert_eq!(read_with_the_gatherer_cancelled(&fx, 10).await, (4, 1));
}

/// The gatherer is cancelled after its batch was sealed (full at 128 keys, k4..k131; k132
/// gathered the next, k133..k140): the first caller of the sealed batch still sends it, so
/// every caller gets its value in 2 MGETs, behind the 4 GETs sent alone.
#[tokio::test(flavor = "current_thread")]
async fn a_cancelled_gatherer_of_a_sealed_batch_hands_it_on() {
    let fx = Fixture::redis().await;
    assert_eq!(read_with_the_gatherer_cancelled(&fx, 141).await, (4, 2));
}

/// A batch whose MGET fails (the server killed under it): every caller of the batch gets
/// the error, none hangs, and reads work again after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_fails_each_caller() {
    let mut fx = Fixture::redis().await;
    let c = cache(&fx, true).await;
    c.set("k0", &1u64, None).await.unwrap();
    fx.pause_clients(300).await;
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

#[cached(cache = cache, namespace = "coalesce.text")]
async fn text(cache: &Cache, id: u64) -> String {
    format!("text {id}")
}

/// A Redis list under a `#[cached]` key, read in a batch: MGET reads it as nil (GET would
/// answer WRONGTYPE), and the fill lease then meets it. It is still a miss, deleted and
/// counted once as unreadable, and the body's value replaces it.
#[tokio::test(flavor = "current_thread")]
async fn another_redis_type_read_in_a_batch_is_dropped_and_filled() {
    let fx = Fixture::redis().await;
    let c = cache(&fx, true).await;
    let key = cache_runtime::key_for::<String>("coalesce.text", 1, &(1u64,)).unwrap();
    let redis_key = fx.redis_key(key.as_str());
    let mut raw = fx.raw().await.unwrap();
    let _: u64 = redis::cmd("RPUSH")
        .arg(&redis_key)
        .arg("x")
        .query_async(&mut raw)
        .await
        .unwrap();
    let mgets = fx.command_calls("mget").await.unwrap();
    // 4 reads in flight, then the cached call gathers a batch that one more read joins.
    let spawn_get = |i: u64| {
        let c = c.clone();
        tokio::spawn(async move { c.get::<u64>(format!("k{i}")).await.unwrap() })
    };
    let ahead: Vec<_> = (0..4).map(spawn_get).collect();
    let call = {
        let c = c.clone();
        tokio::spawn(async move { text(&c, 1).await })
    };
    let joined = spawn_get(4);
    assert_eq!(call.await.unwrap(), "text 1");
    for read in ahead.into_iter().chain([joined]) {
        assert_eq!(read.await.unwrap(), None);
    }
    assert_eq!(fx.command_calls("mget").await.unwrap() - mgets, 1);
    let stats = c.stats();
    assert_eq!(
        (
            stats.misses,
            stats.decode_errors,
            stats.errors,
            stats.writes
        ),
        (6, 1, 0, 1),
        "{stats:?}"
    );
    assert_eq!(
        c.get::<String>(&key).await.unwrap().as_deref(),
        Some("text 1")
    );
}
