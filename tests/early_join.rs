//! Callers that arrive while their key is being read join its single flight before reading
//! (`cache-runtime/src/early.rs`): a stampede on a cold key sends two reads, not one per
//! caller. On a current-thread runtime, tasks spawned together first run one after the
//! other in one turn of the scheduler, so who reads and who waits is known and the counts of
//! commands the server ran are exact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use cache_runtime::{cached, Cache};
use cache_tests::fixture::Fixture;

/// How many times [`slow`]'s body ran, by id (each test has its own ids).
static RUNS: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

fn runs(id: u64) -> u64 {
    RUNS[id as usize].load(SeqCst)
}

/// A body that takes 20 ms; its value says which run made it.
#[cached(cache = cache, namespace = "early.slow")]
async fn slow(cache: &Cache, id: u64) -> (u64, u64) {
    let run = RUNS[id as usize].fetch_add(1, SeqCst) + 1;
    tokio::time::sleep(Duration::from_millis(20)).await;
    (id, run)
}

/// A cache on the fixture's server with no L1 (every read reaches Redis), the default read
/// coalescing (2 reads in flight), and a deadline long enough to wait out a pause.
async fn cache(fx: &Fixture) -> Arc<Cache> {
    Arc::new(
        fx.another(|b| b.l1(false).operation_timeout(Duration::from_secs(3)))
            .await,
    )
}

/// What a test watches: the commands the server ran (GET, MGET, SET: the fill lease,
/// EVALSHA: the fill) and the cache's hits, misses and coalesced calls. `INFO commandstats`
/// also counts the commands a script runs: the fill's EVALSHA adds a GET and a SET.
type Seen = [u64; 7];

/// The column names of [`Seen`], for assertion messages.
const SEEN: &str = "GET, MGET, SET, EVALSHA; hits, misses, coalesced";

async fn seen(fx: &Fixture, c: &Cache) -> Seen {
    let mut seen = [0; 7];
    for (count, name) in seen.iter_mut().zip(["get", "mget", "set", "evalsha"]) {
        *count = fx.command_calls(name).await.unwrap();
    }
    let stats = c.stats();
    seen[4..].copy_from_slice(&[stats.hits, stats.misses, stats.coalesced]);
    seen
}

async fn seen_since(fx: &Fixture, c: &Cache, before: Seen) -> Seen {
    let now = seen(fx, c).await;
    std::array::from_fn(|i| now[i] - before[i])
}

/// `n` callers of `slow(id)` spawned in one instant.
fn spawn_callers(c: &Arc<Cache>, id: u64, n: usize) -> Vec<tokio::task::JoinHandle<(u64, u64)>> {
    (0..n)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { slow(&c, id).await })
        })
        .collect()
}

async fn values(calls: Vec<tokio::task::JoinHandle<(u64, u64)>>) -> Vec<(u64, u64)> {
    let mut values = Vec::with_capacity(calls.len());
    for call in calls {
        values.push(call.await.unwrap());
    }
    values
}

/// 1,000 callers of a cold key in one instant: the first reads alone; the second finds that
/// read in progress and starts a flight, the other 998 wait for it without reading. So the
/// server sees 2 GETs, no MGET, one fill lease and one fill (3 GETs and 2 SETs with the
/// script's own), and the body runs once.
#[tokio::test(flavor = "current_thread")]
async fn a_stampede_on_a_cold_key_sends_two_reads_and_runs_one_body() {
    let fx = Fixture::redis().await;
    let c = cache(&fx).await;
    // Loads the fill script, so the stampede's fill is one EVALSHA.
    slow(&c, 0).await;
    let before = seen(&fx, &c).await;
    let got = values(spawn_callers(&c, 1, 1000)).await;
    assert_eq!(runs(1), 1, "the body ran once");
    assert!(got.iter().all(|&v| v == (1, 1)), "one value for all");
    // The first caller, which read for itself, also waits for the flight (it missed).
    let want = [3, 0, 2, 1, 999, 1, 999];
    assert_eq!(seen_since(&fx, &c, before).await, want, "{SEEN}");
    assert_eq!(c.stats().errors, 0);
}

/// 100 callers of a stored key in one instant: two GETs serve all of them (the first
/// caller's own, and the flight's, which 98 callers wait for). Callers served by a flight
/// count as hits, and also as coalesced.
#[tokio::test(flavor = "current_thread")]
async fn concurrent_hits_of_one_key_share_one_read() {
    let fx = Fixture::redis().await;
    let c = cache(&fx).await;
    let stored = slow(&c, 2).await;
    let before = seen(&fx, &c).await;
    let got = values(spawn_callers(&c, 2, 100)).await;
    assert!(got.iter().all(|&v| v == stored));
    let want = [2, 0, 0, 0, 100, 0, 98];
    assert_eq!(seen_since(&fx, &c, before).await, want, "{SEEN}");
}

/// Callers arriving after the flight's read went out do not wait for it: that read may
/// have been answered before they started (say, before an invalidation they saw finish).
/// With the server paused, 10 callers make the two GETs above; 10 more, 50 ms later, read
/// for themselves, gathered into one MGET since two reads are in flight.
#[tokio::test(flavor = "current_thread")]
async fn callers_arriving_after_the_read_went_out_read_for_themselves() {
    let fx = Fixture::redis().await;
    let c = cache(&fx).await;
    let stored = slow(&c, 3).await;
    let before = seen(&fx, &c).await;
    fx.pause_clients(300).await;
    let first = spawn_callers(&c, 3, 10);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = spawn_callers(&c, 3, 10);
    let mut got = values(first).await;
    got.extend(values(second).await);
    assert!(got.iter().all(|&v| v == stored));
    let want = [2, 1, 0, 0, 20, 0, 8];
    assert_eq!(seen_since(&fx, &c, before).await, want, "{SEEN}");
}

/// The flight's leader cancelled while its read is in progress: one of the callers waiting
/// for it takes over, reads again and runs the body; every caller left gets its value, and
/// the body runs once.
#[tokio::test(flavor = "current_thread")]
async fn a_cancelled_early_leader_hands_its_flight_to_a_waiter() {
    let fx = Fixture::redis().await;
    let c = cache(&fx).await;
    slow(&c, 5).await;
    fx.pause_clients(200).await;
    // The first caller reads alone, the second leads the flight, the rest wait for it.
    let mut calls = spawn_callers(&c, 4, 10);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let leader = calls.remove(1);
    leader.abort();
    assert!(leader.await.unwrap_err().is_cancelled());
    let got = values(calls).await;
    assert_eq!(runs(4), 1, "the body ran once");
    assert!(got.iter().all(|&v| v == (4, 1)), "one value for all");
    assert_eq!(c.stats().errors, 0);
}
