//! Helpers of the L1 coherence tests (`tests/coherence.rs`, `tests/coherence_cluster.rs`):
//! a counting `#[cached]` fn, `redis-cli` as the other writer, and bounded polls.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cache_runtime::{cached, key_for, Cache};

use crate::fixture::Fixture;
use crate::kind::ServerKind;

/// The longest a test waits for an invalidation to arrive: far above the milliseconds it
/// takes, far below the L1 TTL (30 s) that would otherwise end the stale copy.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// `"item {id} v{n}"`, `n` the number of body runs so far.
#[cached(namespace = "coherence.item", ttl = "600s", cache = cache, skip(calls))]
pub async fn item(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    let n = calls.fetch_add(1, SeqCst) + 1;
    format!("item {id} v{n}")
}

/// The Redis key of `item(id)` in the fixture's cache.
pub fn item_key(fx: &Fixture, id: u64) -> String {
    let key = key_for::<String>("coherence.item", 1, &(id,)).unwrap();
    fx.redis_key(key.as_str())
}

/// Runs `redis-cli -p {port} {args..}` (the CLI of `kind`) as its own process: another
/// client, in another OS process, than the cache under test. Returns its output.
pub fn cli(kind: ServerKind, port: u16, args: &[&str]) -> String {
    let out = Command::new(kind.cli())
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "running {}: {e}; {}",
                kind.cli().display(),
                kind.install_hint()
            )
        });
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Reads `item(id)` until it is served from L1: a miss (the body runs and stores it), a
/// Redis hit (which copies it into L1, unless an invalidation of the key came during the
/// read: then the next one), then an L1 hit. Returns the value.
pub async fn into_l1(c: &Cache, id: u64, calls: &AtomicUsize) -> String {
    let first = item(id, c, calls).await;
    let l1_hits = c.stats().l1_hits;
    for _ in 0..3 {
        assert_eq!(item(id, c, calls).await, first, "{:?}", c.stats());
        if c.stats().l1_hits > l1_hits {
            return first;
        }
    }
    panic!("never served from L1: {:?}", c.stats());
}

/// Reads `item(id)` until it is no longer `old` (at most [`PATIENCE`]); returns what it
/// read then.
pub async fn until_not(c: &Cache, id: u64, calls: &AtomicUsize, old: &str, what: &str) -> String {
    let start = Instant::now();
    loop {
        let now = item(id, c, calls).await;
        if now != old {
            return now;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "L1 still serves {old:?} {PATIENCE:?} after {what}: {:?}",
            c.stats()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
