//! A namespace whose calls keep missing sends the fill lease as its first read
//! (`cache-runtime/src/read_mode.rs`): after two misses from Redis in a row, a miss is the
//! lease command and the fill (two round trips) instead of a GET, the lease and the fill;
//! the first hit switches it back to plain GETs. The counts of commands the server ran are
//! exact: `INFO commandstats` also counts the commands a script runs, so each fill's
//! `EVALSHA` adds a GET and a SET.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::Duration;

use cache_runtime::{cached, Cache};
use cache_tests::fixture::Fixture;

/// How many times [`row`]'s body ran.
static RUNS: AtomicU64 = AtomicU64::new(0);

#[cached(cache = cache, namespace = "mode.row")]
async fn row(cache: &Cache, id: u64) -> String {
    RUNS.fetch_add(1, SeqCst);
    format!("row {id}")
}

/// A cache on the fixture's server with no L1, so every call reads Redis.
async fn cache(fx: &Fixture) -> Cache {
    fx.another(|b| b.l1(false).operation_timeout(Duration::from_secs(3)))
        .await
}

/// GET, SET, EVALSHA commands; body runs; hits, misses.
type Seen = [u64; 6];

const SEEN: &str = "GET, SET, EVALSHA; body runs; hits, misses";

async fn seen(fx: &Fixture, c: &Cache) -> Seen {
    let mut seen = [0; 6];
    for (count, name) in seen.iter_mut().zip(["get", "set", "evalsha"]) {
        *count = fx.command_calls(name).await.unwrap();
    }
    let stats = c.stats();
    seen[3..].copy_from_slice(&[RUNS.load(SeqCst), stats.hits, stats.misses]);
    seen
}

/// Calls `row(id)` for each id, checking each value, and returns what they cost.
async fn calls(fx: &Fixture, c: &Cache, ids: std::ops::RangeInclusive<u64>) -> Seen {
    let before = seen(fx, c).await;
    for id in ids {
        assert_eq!(row(c, id).await, format!("row {id}"));
    }
    let after = seen(fx, c).await;
    std::array::from_fn(|i| after[i] - before[i])
}

/// The body-run counts are exact because this is the binary's only test. On a
/// current-thread runtime, tasks spawned together first run one after the other in one turn
/// of the scheduler, so who leads a flight and who waits is known.
#[tokio::test(flavor = "current_thread")]
async fn misses_in_a_row_read_with_the_lease_and_a_hit_goes_back_to_get() {
    let fx = Fixture::redis().await;
    let c = cache(&fx).await;
    // Loads the fill script (so each fill is one EVALSHA); the hit ends the streak.
    row(&c, 0).await;
    row(&c, 0).await;
    // The first two misses read with a GET, then take the lease: 3 round trips each.
    assert_eq!(
        calls(&fx, &c, 1..=2).await,
        [2 + 2, 2 + 2, 2, 2, 0, 2],
        "{SEEN}"
    );
    // From then on a miss is the lease command and the fill: no GET of its own.
    assert_eq!(
        calls(&fx, &c, 3..=12).await,
        [10, 10 + 10, 10, 10, 0, 10],
        "{SEEN}"
    );
    // The first hit still reads with the lease command (which finds the value and writes
    // nothing); it ends the streak, and the other hits are plain GETs.
    assert_eq!(calls(&fx, &c, 3..=12).await, [9, 1, 0, 0, 10, 0], "{SEEN}");
    // One miss after hits is no streak: GET, lease, fill.
    assert_eq!(calls(&fx, &c, 13..=13).await, [2, 2, 1, 1, 0, 1], "{SEEN}");
    assert_eq!(c.stats().errors, 0);

    // A stampede in that mode: 100 callers of a cold key in one instant all join the
    // flight before reading; its leader's lease command and fill are the only commands.
    assert_eq!(calls(&fx, &c, 14..=15).await[5], 2);
    let before = seen(&fx, &c).await;
    let shared = std::sync::Arc::new(c);
    let callers: Vec<_> = (0..100)
        .map(|_| {
            let c = shared.clone();
            tokio::spawn(async move { row(&c, 16).await })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap(), "row 16");
    }
    let c = std::sync::Arc::into_inner(shared).unwrap();
    let after = seen(&fx, &c).await;
    let spent: Seen = std::array::from_fn(|i| after[i] - before[i]);
    assert_eq!(spent, [1, 1 + 1, 1, 1, 99, 1], "{SEEN}");
    assert_eq!(c.stats().coalesced, 99);

    // The lease command's hit copies the entry into L1 like a GET's: the next call of that
    // key is an L1 hit, with no command at all. (Another cache, so another streak; row 30
    // is written by the first.)
    assert_eq!(row(&c, 30).await, "row 30");
    let c = fx
        .another(|b| b.operation_timeout(Duration::from_secs(3)))
        .await;
    // Two misses in a row through the cache with L1.
    assert_eq!(calls(&fx, &c, 31..=32).await[5], 2);
    assert_eq!(calls(&fx, &c, 30..=30).await, [0, 1, 0, 0, 1, 0], "{SEEN}");
    assert_eq!(calls(&fx, &c, 30..=30).await, [0, 0, 0, 0, 1, 0], "{SEEN}");
    assert_eq!(c.stats().l1_hits, 1);
}
