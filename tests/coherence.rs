//! L1 follows Redis itself (server-assisted client-side caching): a change of a key in
//! Redis made by another OS process (`redis-cli`), for any reason, drops this process's L1
//! copy. Each test runs on Redis and on Valkey.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cache_runtime::{key_for, Cache, Coherence};
use cache_tests::coherence::{self, item, item_key, PATIENCE};
use cache_tests::fixture::Fixture;
use cache_tests::kind::ServerKind;
use cache_tests::redis_server::RedisServer;

/// `redis-cli` on the fixture's server.
fn cli(server: &RedisServer, args: &[&str]) -> String {
    coherence::cli(server.kind(), server.port(), args)
}

async fn into_l1(fx: &Fixture, id: u64, calls: &AtomicUsize) -> String {
    coherence::into_l1(&fx.cache, id, calls).await
}

async fn until_not(fx: &Fixture, id: u64, calls: &AtomicUsize, old: &str, what: &str) -> String {
    coherence::until_not(&fx.cache, id, calls, old, what).await
}

/// A tiered cache on its own server of `kind` (started with `extra` arguments), with
/// tracking in place.
async fn tracked(kind: ServerKind, extra: &[&str]) -> Fixture {
    let fx = Fixture::on_server(RedisServer::start_kind(kind, extra), |b| b).await;
    assert!(fx.cache.wait_for_backplane(Duration::from_secs(5)).await);
    assert_eq!(fx.cache.stats().coherence, Some(Coherence::Tracking));
    fx
}

async fn external_del(kind: ServerKind) {
    let fx = tracked(kind, &[]).await;
    let calls = AtomicUsize::new(0);
    assert_eq!(into_l1(&fx, 1, &calls).await, "item 1 v1");
    let key = item_key(&fx, 1);
    assert_eq!(cli(fx.server(), &["DEL", &key]), "1");
    let now = until_not(&fx, 1, &calls, "item 1 v1", "DEL from redis-cli").await;
    assert_eq!(now, "item 1 v2");
    assert_eq!(calls.load(SeqCst), 2);
}

/// A tracked fixture with items 1 and 2 in L1 (`"item 1 v1"`, `"item 2 v2"`), their body
/// run counter, and their Redis keys.
async fn two_in_l1(kind: ServerKind) -> (Fixture, AtomicUsize, String, String) {
    let fx = tracked(kind, &[]).await;
    let calls = AtomicUsize::new(0);
    assert_eq!(into_l1(&fx, 1, &calls).await, "item 1 v1");
    assert_eq!(into_l1(&fx, 2, &calls).await, "item 2 v2");
    let (k1, k2) = (item_key(&fx, 1), item_key(&fx, 2));
    (fx, calls, k1, k2)
}

async fn external_unlink_of_many(kind: ServerKind) {
    let (fx, calls, k1, k2) = two_in_l1(kind).await;
    assert_eq!(cli(fx.server(), &["UNLINK", &k1, &k2]), "2");
    assert_eq!(
        until_not(&fx, 1, &calls, "item 1 v1", "UNLINK").await,
        "item 1 v3"
    );
    assert_eq!(
        until_not(&fx, 2, &calls, "item 2 v2", "UNLINK").await,
        "item 2 v4"
    );
}

async fn external_set(kind: ServerKind) {
    let (fx, calls, k1, k2) = two_in_l1(kind).await;
    // Another writer replaces item 1 with a value it encoded itself (here: item 2's).
    assert_eq!(cli(fx.server(), &["COPY", &k2, &k1, "REPLACE"]), "1");
    let now = until_not(
        &fx,
        1,
        &calls,
        "item 1 v1",
        "COPY .. REPLACE from redis-cli",
    )
    .await;
    assert_eq!(
        now, "item 2 v2",
        "the other writer's value, read from Redis"
    );
    assert_eq!(calls.load(SeqCst), 2, "no body ran");
}

async fn external_flushall(kind: ServerKind) {
    let fx = tracked(kind, &[]).await;
    let calls = AtomicUsize::new(0);
    assert_eq!(into_l1(&fx, 1, &calls).await, "item 1 v1");
    assert_eq!(cli(fx.server(), &["FLUSHALL"]), "OK");
    let now = until_not(&fx, 1, &calls, "item 1 v1", "FLUSHALL").await;
    assert_eq!(now, "item 1 v2");
}

async fn expired_in_redis_before_l1(kind: ServerKind) {
    let fx = tracked(kind, &[]).await;
    let calls = AtomicUsize::new(0);
    // The entry's TTL is 600 s (L1 would keep it 30 s); another client shortens it in
    // Redis to 1 s before this process copies it into L1.
    let first = item(1, &fx.cache, &calls).await;
    let key = item_key(&fx, 1);
    assert_eq!(cli(fx.server(), &["PEXPIRE", &key, "1000"]), "1");
    // Redis hits until one is copied into L1 (a read that overlaps the PEXPIRE's own
    // invalidation is not), then an L1 hit.
    assert_eq!(into_l1(&fx, 1, &calls).await, first);
    let now = until_not(&fx, 1, &calls, &first, "the key expired in Redis").await;
    assert_eq!(now, "item 1 v2");
    assert_eq!(cli(fx.server(), &["EXISTS", &key]), "1", "stored again");
}

async fn evicted(kind: ServerKind) {
    let fx = tracked(
        kind,
        &["--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru"],
    )
    .await;
    let calls = AtomicUsize::new(0);
    assert_eq!(into_l1(&fx, 1, &calls).await, "item 1 v1");
    let key = item_key(&fx, 1);
    // Another client writes until the server has evicted the entry.
    let mut raw = fx.server().raw().await;
    let filler = vec![b'x'; 16 * 1024];
    let mut n = 0u32;
    loop {
        let mut pipe = redis::pipe();
        for _ in 0..32 {
            pipe.set(format!("filler:{n}"), &filler).ignore();
            n += 1;
        }
        let () = pipe.query_async(&mut raw).await.unwrap();
        let exists: bool = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(&mut raw)
            .await
            .unwrap();
        if !exists {
            break;
        }
        assert!(n < 100_000, "the entry was never evicted");
    }
    let now = until_not(&fx, 1, &calls, "item 1 v1", "its eviction").await;
    assert_eq!(now, "item 1 v2");
}

async fn restarted_server(kind: ServerKind) {
    let mut fx = tracked(kind, &[]).await;
    let calls = AtomicUsize::new(0);
    assert_eq!(into_l1(&fx, 1, &calls).await, "item 1 v1");
    let server = fx.server.as_mut().unwrap();
    server.kill();
    tokio::task::block_in_place(|| server.restart());
    // The restarted server is empty: the old copy is not served once it answers (calls
    // made while it is down run the body).
    until_not(&fx, 1, &calls, "item 1 v1", "the restart").await;
    assert!(fx.cache.wait_for_backplane(Duration::from_secs(5)).await);
    // Tracking is in place again: another client's DEL reaches L1.
    let value = into_l1(&fx, 1, &calls).await;
    assert_eq!(cli(fx.server(), &["DEL", &item_key(&fx, 1)]), "1");
    let runs = calls.load(SeqCst);
    let now = until_not(&fx, 1, &calls, &value, "DEL after the restart").await;
    assert_eq!(now, format!("item 1 v{}", runs + 1));
}

/// The fixture's cache reports tracking in its stats and its health.
async fn reported(kind: ServerKind) {
    let fx = tracked(kind, &[]).await;
    let health = fx.cache.health().await;
    assert_eq!(
        (health.coherence, health.backplane),
        (Some(Coherence::Tracking), Some(true))
    );
    assert_eq!(fx.cache.stats().coherence, Some(Coherence::Tracking));
    let off =
        Fixture::on_server(RedisServer::start_kind(kind, &[]), |b| b.l1_tracking(false)).await;
    assert!(off.cache.wait_for_backplane(Duration::from_secs(5)).await);
    assert_eq!(off.cache.stats().coherence, Some(Coherence::Backplane));
    let none = Fixture::on(kind).await;
    assert_eq!(none.cache.stats().coherence, None, "no L1");
}

/// A server started with `args` that refuses RESP3 or tracking (to the user `carol`): the
/// cache falls back to the backplane at connect, says so in its stats and health, and keeps
/// L1 coherent with its own invalidations (not with other clients' writes).
async fn falls_back(kind: ServerKind, args: &[&str]) {
    let what = format!("{args:?}");
    let server = RedisServer::start_kind(kind, args);
    let build = || {
        Cache::builder()
            .redis_url(server.url())
            .redis_username("carol")
            .redis_password("Pw-carol-51ab")
            .prefix(cache_tests::fixture::REDIS_PREFIX)
            .build()
    };
    let (a, b) = (build().await.unwrap(), build().await.unwrap());
    for c in [&a, &b] {
        assert!(c.wait_for_backplane(Duration::from_secs(5)).await);
        assert_eq!(c.stats().coherence, Some(Coherence::Backplane), "{what}");
        assert_eq!(c.health().await.coherence, Some(Coherence::Backplane));
    }
    let calls = AtomicUsize::new(0);
    item(1, &a, &calls).await;
    assert_eq!(item(1, &a, &calls).await, "item 1 v1");
    assert_eq!(a.stats().l1_hits, 1, "a fill goes into L1 at once");
    let key = key_for::<String>("coherence.item", 1, &(1u64,)).unwrap();
    b.invalidate_key(&key).await.unwrap();
    let start = Instant::now();
    while item(1, &a, &calls).await == "item 1 v1" {
        assert!(
            start.elapsed() < PATIENCE,
            "the backplane message never came"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(calls.load(SeqCst), 2);
}

/// The ACL rule that lets `carol` run everything but `denied`.
const CAROL: [&str; 8] = [
    "--user",
    "carol",
    "on",
    ">Pw-carol-51ab",
    "~*",
    "&*",
    "+@all",
    "",
];

async fn falls_back_without_tracking(kind: ServerKind) {
    let mut args = CAROL;
    args[7] = "-client|tracking";
    falls_back(kind, &args).await;
}

async fn falls_back_without_resp3(kind: ServerKind) {
    let mut args = CAROL.to_vec();
    args[7] = "+@all";
    args.extend(["--rename-command", "HELLO", ""]);
    falls_back(kind, &args).await;
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod redis_server {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(cache_tests::kind::ServerKind::Redis).await;
                }
            )*
        }
        mod valkey_server {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(cache_tests::kind::ServerKind::Valkey).await;
                }
            )*
        }
    };
}

on_both!(
    external_del,
    external_unlink_of_many,
    external_set,
    external_flushall,
    expired_in_redis_before_l1,
    evicted,
    restarted_server,
    reported,
    falls_back_without_tracking,
    falls_back_without_resp3,
);
