//! The in-process tier (L1) in front of Redis, and what keeps the L1 of every process
//! coherent (tracking, or the backplane). The fixture is a cache with L1 in use.
//!
//! With tracking, a value this process writes goes into L1 at its next read (Redis echoes
//! the write as an invalidation); with the backplane only, at once. [`in_l1`] reads until
//! the value is served from L1, so the tests hold in both.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cache_runtime::{cached, key_for, Cache};

use crate::fixture::Fixture;

/// How many times a body has run.
pub fn runs(calls: &AtomicUsize) -> usize {
    calls.load(SeqCst)
}

/// `"user {id} v{n}"`, `n` the number of body runs so far; tagged `user:{id}`.
#[cached(namespace = "tier.user", cache = cache, skip(calls), tags = ["user:{id}"])]
pub async fn user(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("user {id} v{}", runs(calls))
}

#[cached(namespace = "tier.short", ttl = "300ms", cache = cache, skip(calls))]
async fn short_lived(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id
}

#[cached(namespace = "tier.no_l1", l1 = false, cache = cache, skip(calls))]
async fn never_in_l1(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id
}

#[cached(namespace = "tier.brief_l1", l1_ttl = "200ms", cache = cache, skip(calls))]
async fn brief_in_l1(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id
}

/// Reads with `read` until a read is served from L1 (at most 4 reads, each returning what
/// the first returned); returns the value.
pub async fn in_l1<T, F>(cache: &Cache, mut read: impl FnMut() -> F) -> T
where
    T: PartialEq + std::fmt::Debug,
    F: std::future::Future<Output = T>,
{
    let first = read().await;
    let l1_hits = cache.stats().l1_hits;
    for _ in 0..3 {
        assert_eq!(read().await, first);
        if cache.stats().l1_hits > l1_hits {
            return first;
        }
    }
    panic!("never served from L1: {:?}", cache.stats());
}

/// How many reads and writes of entries every node has run (`INFO commandstats`).
async fn data_commands(fx: &Fixture) -> u64 {
    let mut total = 0;
    for name in ["get", "mget", "set", "evalsha", "eval", "fcall"] {
        total += fx.command_calls(name).await.unwrap();
    }
    total
}

/// An L1 hit does no I/O: no command reaches Redis.
pub async fn l1_hits_do_no_io(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(in_l1(c, || user(1, c, &calls)).await, "user 1 v1");
    let (commands, before) = (data_commands(fx).await, c.stats());
    for _ in 0..3 {
        assert_eq!(user(1, c, &calls).await, "user 1 v1");
    }
    let after = c.stats();
    assert_eq!(
        (after.hits - before.hits, after.l1_hits - before.l1_hits),
        (3, 3)
    );
    assert_eq!(data_commands(fx).await, commands);
    assert_eq!(runs(&calls), 1);
}

/// A Redis hit fills L1; an entry never stays in L1 longer than its Redis TTL.
pub async fn l1_never_outlives_the_redis_entry(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    in_l1(c, || short_lived(1, c, &calls)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    short_lived(1, c, &calls).await;
    assert_eq!(runs(&calls), 2, "expired in Redis, so expired in L1");

    // A second process reading what the first wrote gets it from Redis, then from L1.
    let other = fx.another(|b| b).await;
    assert!(other.wait_for_backplane(Duration::from_secs(5)).await);
    user(2, &other, &calls).await;
    let before = c.stats();
    assert_eq!(in_l1(c, || user(2, c, &calls)).await, "user 2 v3");
    let after = c.stats();
    assert_eq!(after.misses, before.misses, "Redis hits, then an L1 hit");
    assert_eq!(runs(&calls), 3);
}

/// `l1 = false` keeps a fn out of L1; `l1_ttl` caps its stay.
pub async fn per_function_l1_settings(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    never_in_l1(1, c, &calls).await;
    never_in_l1(1, c, &calls).await;
    let stats = c.stats();
    assert_eq!((stats.hits, stats.l1_hits), (1, 0));

    in_l1(c, || brief_in_l1(1, c, &calls)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = c.stats();
    brief_in_l1(1, c, &calls).await;
    let after = c.stats();
    assert_eq!(
        (after.hits - before.hits, after.l1_hits - before.l1_hits),
        (1, 0),
        "the read after the L1 TTL came from Redis"
    );
    assert_eq!(runs(&calls), 2);
}

/// Polls `read` until it returns `want` (at most 2 s); returns how long it took.
async fn until<F: std::future::Future<Output = String>>(
    want: &str,
    mut read: impl FnMut() -> F,
) -> Duration {
    let start = Instant::now();
    loop {
        if read().await == want {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "still not {want:?} after 2 s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Two caches on one Redis, each with its own L1 (two processes in one): every kind of
/// invalidation made through one reaches the other's L1.
pub async fn invalidations_reach_every_l1(fx: &Fixture) {
    let a = &fx.cache;
    let b = fx.another(|b| b).await;
    assert!(b.wait_for_backplane(Duration::from_secs(5)).await);
    let calls = AtomicUsize::new(0);
    let key = key_for::<String>("tier.user", 1, &(1u64,)).unwrap();

    assert_eq!(in_l1(a, || user(1, a, &calls)).await, "user 1 v1");
    b.invalidate_key(&key).await.unwrap();
    until("user 1 v2", || user(1, a, &calls)).await;

    in_l1(a, || user(1, a, &calls)).await;
    b.invalidate_tag("user:1").await.unwrap();
    until("user 1 v3", || user(1, a, &calls)).await;

    in_l1(a, || user(1, a, &calls)).await;
    b.invalidate_namespace("tier.user").await.unwrap();
    until("user 1 v4", || user(1, a, &calls)).await;

    in_l1(a, || user(1, a, &calls)).await;
    b.set(&key, &"written by b".to_owned(), None).await.unwrap();
    until("written by b", || user(1, a, &calls)).await;
    assert_eq!(runs(&calls), 4);
}

/// A cache without L1 of its own still tells the other processes: its invalidations and
/// writes reach their L1.
pub async fn caches_without_l1_still_publish(fx: &Fixture) {
    let a = &fx.cache;
    let b = fx.another(|b| b.l1(false)).await;
    let calls = AtomicUsize::new(0);
    let key = key_for::<String>("tier.user", 1, &(1u64,)).unwrap();
    in_l1(a, || user(1, a, &calls)).await;
    b.invalidate_key(&key).await.unwrap();
    until("user 1 v2", || user(1, a, &calls)).await;
    b.set(&key, &"from b".to_owned(), None).await.unwrap();
    until("from b", || user(1, a, &calls)).await;
}

/// Kills the connection that keeps the fixture cache's L1 coherent: its tracking
/// connection (flag `t` in `CLIENT LIST`), or its backplane subscription. Returns how many
/// connections went.
async fn kill_coherence_connection(fx: &Fixture) -> u64 {
    let tracking = fx.cache.stats().coherence == Some(cache_runtime::Coherence::Tracking);
    let mut killed = 0u64;
    for mut node in fx.raw_nodes().await {
        if tracking {
            let list: String = redis::cmd("CLIENT")
                .arg("LIST")
                .query_async(&mut node)
                .await
                .unwrap();
            for line in list.lines() {
                let field = |name: &str| {
                    line.split(' ')
                        .find_map(|f| f.strip_prefix(name))
                        .unwrap_or("")
                        .to_owned()
                };
                if field("flags=").contains('t') {
                    let n: u64 = redis::cmd("CLIENT")
                        .arg("KILL")
                        .arg("ID")
                        .arg(field("id="))
                        .query_async(&mut node)
                        .await
                        .unwrap();
                    killed += n;
                }
            }
        } else {
            let n: u64 = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg("pubsub")
                .query_async(&mut node)
                .await
                .unwrap();
            killed += n;
        }
    }
    killed
}

/// When the connection that keeps L1 coherent drops, L1 is not served until it is back,
/// and it comes back empty (invalidations sent meanwhile are lost).
pub async fn reconnecting_starts_with_an_empty_l1(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    in_l1(c, || user(1, c, &calls)).await;
    assert_eq!(kill_coherence_connection(fx).await, 1, "one connection");
    let start = Instant::now();
    while c.l1_active() && start.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert!(
        c.wait_for_backplane(Duration::from_secs(5)).await,
        "reconnected"
    );
    let before = c.stats();
    user(1, c, &calls).await;
    let after = c.stats();
    assert_eq!(
        (after.hits - before.hits, after.l1_hits - before.l1_hits),
        (1, 0),
        "served by Redis, not a stale L1"
    );
    user(1, c, &calls).await;
    assert_eq!(c.stats().l1_hits, after.l1_hits + 1);
    assert_eq!(runs(&calls), 1);
}
