//! The fill's compare-and-set on each server: one `SET key value IFEQ lease PX ttl` on
//! Valkey 8.1; on Redis 7.0, which refuses that form with a syntax error, the script, after
//! one refusal per connection; the question asked again after a reconnect (to another
//! server on the same port); and a fill refused after an invalidation on both paths, as the
//! server saw it (`MONITOR`). The stale-write races themselves run on both paths in the
//! shared suites (`suite::stale`, `suite::stampede`, in `redis_store` and `valkey_store`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cache_runtime::{cached, key_for, Cache};
use cache_tests::fixture::{Counts, Fixture};
use cache_tests::kind::ServerKind::{self, Redis, Valkey};
use cache_tests::redis_server::RedisServer;
use futures_util::StreamExt;
use tokio::sync::Notify;

#[cached(namespace = "cas.row", cache = cache, skip(runs))]
async fn row(id: u64, cache: &Cache, runs: &AtomicU64) -> String {
    runs.fetch_add(1, SeqCst);
    format!("row {id}")
}

/// Calls of one command from `INFO commandstats`: all, and those that failed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Calls {
    calls: u64,
    failed: u64,
}

/// `SET` and `EVALSHA` calls the server has run so far.
async fn calls(server: &RedisServer) -> (Calls, Calls) {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut server.raw().await)
        .await
        .unwrap();
    let of = |name: &str| {
        let head = format!("cmdstat_{name}:");
        let Some(line) = info.lines().find_map(|l| l.strip_prefix(head.as_str())) else {
            return Calls::default();
        };
        let field = |f: &str| {
            line.split(',')
                .find_map(|kv| kv.strip_prefix(f)?.strip_prefix('='))
                .map_or(0, |n| n.parse::<u64>().unwrap())
        };
        Calls {
            calls: field("calls"),
            failed: field("failed_calls") + field("rejected_calls"),
        }
    };
    (of("set"), of("evalsha"))
}

/// What the server ran between `before` and now: `(SET calls, failed SETs, EVALSHA calls
/// that ran)`. The `SET`s inside a script count as `SET` calls too.
async fn ran_since(server: &RedisServer, before: (Calls, Calls)) -> (u64, u64, u64) {
    let (set, evalsha) = calls(server).await;
    (
        set.calls - before.0.calls,
        set.failed - before.0.failed,
        (evalsha.calls - evalsha.failed) - (before.1.calls - before.1.failed),
    )
}

/// Whether the server takes `SET .. IFEQ`: asked on a key nobody uses (a missing key is
/// never created by it).
async fn takes_ifeq(server: &RedisServer) -> bool {
    let reply: redis::RedisResult<Option<String>> = redis::cmd("SET")
        .arg("cas-probe")
        .arg("v")
        .arg("IFEQ")
        .arg("x")
        .query_async(&mut server.raw().await)
        .await;
    reply.is_ok()
}

/// `n` misses (ids from `first`), then a hit of each: every value right, one body run each.
/// The server sees `n` lease `SET`s, `n` fills, and one more `SET`: after misses in a row the
/// first hit reads with the lease command (`observe/read_mode.rs`).
async fn misses_then_hits(cache: &Cache, first: u64, n: u64) {
    let runs = AtomicU64::new(0);
    let before = Counts::of(&cache.stats());
    for id in first..first + n {
        assert_eq!(row(id, cache, &runs).await, format!("row {id}"));
    }
    for id in first..first + n {
        assert_eq!(row(id, cache, &runs).await, format!("row {id}"));
    }
    assert_eq!(runs.load(SeqCst), n, "every miss was stored");
    let counts = Counts::of(&cache.stats()).since(before);
    assert_eq!(counts, Counts::calls(n, n, n));
}

/// On Valkey 8.1 a fill is one `SET .. IFEQ`: each miss sends the lease `SET` and the fill
/// `SET`, and no script runs.
#[tokio::test]
async fn valkey_fills_with_set_ifeq() {
    let fx = Fixture::valkey().await;
    let server = fx.server();
    assert!(
        takes_ifeq(server).await,
        "valkey-server 8.1 takes SET .. IFEQ"
    );
    let before = calls(server).await;
    misses_then_hits(&fx.cache, 0, 20).await;
    assert_eq!(ran_since(server, before).await, (20 + 20 + 1, 0, 0));
}

/// Redis 7.0 has no `SET .. IFEQ`: the first fill's `IFEQ` form is refused (a syntax error,
/// nothing written) and from then on the connection fills with the script, one `EVALSHA`
/// per miss.
#[tokio::test]
async fn redis_7_refuses_ifeq_once_then_fills_with_the_script() {
    let fx = Fixture::redis().await;
    let server = fx.server();
    assert!(
        !takes_ifeq(server).await,
        "this test needs a redis-server without SET .. IFEQ (Redis 7, as Debian bookworm has)"
    );
    let before = calls(server).await;
    misses_then_hits(&fx.cache, 0, 20).await;
    // The leases, the refused IFEQ form, the script's own SETs, the first hit's lease read.
    assert_eq!(ran_since(server, before).await, (20 + 1 + 20 + 1, 1, 20));
}

/// Waits (5 s at most) until the cache reaches the server on `url` again.
async fn until_reachable(cache: &Cache, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while cache.ping().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "the cache never reconnected to {url}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One cache, one port, three servers in turn: Redis 7 (the script, after one refusal),
/// Valkey 8.1 (`IFEQ` again: the connection error made the cache ask anew), Redis 7 again
/// (`IFEQ` refused once more, then the script; every value stored).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_is_asked_again_after_a_reconnect() {
    let mut server = RedisServer::start();
    let port = server.port();
    let cache = Cache::builder()
        .redis_url(server.url())
        .prefix("cas")
        .l1(false)
        .circuit_threshold(1_000)
        .build()
        .await
        .unwrap();
    let mut first = 0;
    for (round, kind) in [Redis, Valkey, Redis].into_iter().enumerate() {
        if round > 0 {
            tokio::task::block_in_place(|| server.kill());
            server = tokio::task::block_in_place(|| RedisServer::start_kind_on(kind, port, &[]));
            until_reachable(&cache, &server.url()).await;
        }
        let before = calls(&server).await;
        misses_then_hits(&cache, first, 5).await;
        let expected = match kind {
            Redis => (5 + 1 + 5 + 1, 1, 5),
            Valkey => (5 + 5 + 1, 0, 0),
        };
        assert_eq!(
            ran_since(&server, before).await,
            expected,
            "round {round}: {kind:?}"
        );
        first += 100;
    }
}

#[cached(namespace = "cas.gated", cache = cache, skip(reached, release))]
async fn gated(id: u64, cache: &Cache, reached: &Notify, release: &Notify) -> String {
    reached.notify_one();
    release.notified().await;
    format!("gated {id}")
}

/// Every command the server runs while `during` runs, as `MONITOR` prints them.
async fn monitored(server: &RedisServer, during: impl std::future::Future<Output = ()>) -> String {
    let monitor = server.client().get_async_monitor().await.unwrap();
    let mut lines = monitor.into_on_message::<String>();
    during.await;
    // A command the monitor will print last, after everything `during` sent.
    let () = redis::cmd("ECHO")
        .arg("cas-monitor-end")
        .query_async(&mut server.raw().await)
        .await
        .unwrap();
    let mut seen = String::new();
    let collect = async {
        while let Some(line) = lines.next().await {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("cas-monitor-end") {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), collect)
        .await
        .expect("MONITOR printed the end marker");
    seen
}

/// A key invalidated while its body runs: the fill is refused (nothing stored, the lease
/// gone) on both paths. On Valkey the refused fill is one `SET .. IFEQ` and no script runs;
/// on Redis 7 the `IFEQ` form is refused and the script runs and stores nothing.
async fn refused_fill_on(kind: ServerKind) {
    let fx = Fixture::on(kind).await;
    let (reached, release) = (Notify::new(), Notify::new());
    let key = key_for::<String>("cas.gated", 1, &(7u64,))
        .unwrap()
        .to_string();
    let log = monitored(fx.server(), async {
        let call = gated(7, &fx.cache, &reached, &release);
        let writer = async {
            reached.notified().await;
            assert!(fx.cache.invalidate_key(&key).await.unwrap());
            release.notify_one();
        };
        let (value, ()) = tokio::join!(call, writer);
        assert_eq!(value, "gated 7");
    })
    .await;
    assert_eq!(fx.cache.stats().stale_fills_refused, 1, "{kind:?}");
    assert_eq!(fx.raw_get(&fx.redis_key(&key)).await, None, "{kind:?}");
    let ifeq = log.lines().filter(|l| l.contains("\"IFEQ\"")).count();
    let scripts = log.lines().filter(|l| l.contains("\"EVALSHA\"")).count();
    let script_sets = log.lines().filter(|l| l.contains("lua] \"SET\"")).count();
    match kind {
        Valkey => assert_eq!((ifeq, scripts), (1, 0), "{kind:?}:\n{log}"),
        Redis => {
            assert_eq!(ifeq, 1, "{kind:?}: the refused IFEQ form:\n{log}");
            assert!(scripts >= 1, "{kind:?}: the script ran:\n{log}");
            assert_eq!(
                script_sets, 0,
                "{kind:?}: the script stored nothing:\n{log}"
            );
        }
    }
}

#[tokio::test]
async fn refused_fill_on_valkey_is_one_set_ifeq() {
    refused_fill_on(Valkey).await;
}

#[tokio::test]
async fn refused_fill_on_redis_7_is_the_script() {
    refused_fill_on(Redis).await;
}

#[cached(namespace = "cas.tagged", cache = cache, skip(runs), tags = ["group:{group}"])]
async fn tagged_row(id: u64, group: u64, cache: &Cache, runs: &AtomicU64) -> String {
    runs.fetch_add(1, SeqCst);
    format!("row {id} of {group}")
}

/// On a Valkey cluster every fill is a `SET .. IFEQ`, tagged ones too (their tag indexes
/// lie in other slots and are written apart): no script runs on any master, and a tag
/// invalidation still reaches the entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_cluster_fills_with_set_ifeq() {
    let fx = Fixture::cluster_on(Valkey).await;
    let runs = AtomicU64::new(0);
    let scripts = fx.command_calls("evalsha").await.unwrap();
    misses_then_hits(&fx.cache, 0, 10).await;
    for id in 0..10 {
        assert_eq!(
            tagged_row(id, id % 2, &fx.cache, &runs).await,
            format!("row {id} of {}", id % 2)
        );
    }
    assert_eq!(fx.command_calls("evalsha").await.unwrap() - scripts, 0);
    assert_eq!(fx.cache.invalidate_tag("group:1").await.unwrap(), 5);
    for id in 0..10 {
        tagged_row(id, id % 2, &fx.cache, &runs).await;
    }
    assert_eq!(runs.load(SeqCst), 15, "the 5 entries of group 1 ran again");
}
