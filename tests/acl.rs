//! The cache as a least-privilege ACL user: its own keys and channel, and only the commands
//! it sends (no KEYS, no CONFIG, no FLUSHALL). `ACL LOG` must stay empty while every feature
//! runs; a user missing a command gets counted failures, never a hang or a wrong value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use cache_runtime::{cached, Cache};
use cache_tests::redis_server::RedisServer;

const PREFIX: &str = "aclapp";
const PASSWORD: &str = "acl-test-password-1";

/// The commands the cache sends, as docs/security.md gives them. Without any one of them a
/// test below fails, except `+asking` (only sent while a cluster slot migrates) and `+role`
/// (only behind Sentinel); GET, SET, UNLINK, PEXPIRE, ZADD and SUBSCRIBE are plainly needed.
/// `AUTH` and `HELLO` need no permission.
const COMMANDS: &str = "-@all +get +mget +set +unlink +del +type +pexpire +pttl +zadd +zrange \
                        +zrem +zremrangebyscore +scan +evalsha +script|load +publish \
                        +subscribe +ping +client|tracking +cluster|slots +cluster|nodes \
                        +asking +role";

/// `ACL SETUSER {user} on >{password} resetkeys ~{prefix}:* ~{prefix}#* resetchannels
/// &{prefix}:#backplane {commands}`.
fn setuser(user: &str, commands: &str) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "SETUSER".into(),
        user.into(),
        "reset".into(),
        "on".into(),
        format!(">{PASSWORD}"),
        format!("~{PREFIX}:*"),
        format!("~{PREFIX}#*"),
        format!("&{PREFIX}:#backplane"),
    ];
    args.extend(commands.split_whitespace().map(str::to_owned));
    args
}

async fn create_user(server: &RedisServer, user: &str, commands: &str) {
    let mut conn = server.raw().await;
    let () = redis::cmd("ACL")
        .arg(setuser(user, commands))
        .query_async(&mut conn)
        .await
        .unwrap();
}

async fn acl_log(server: &RedisServer) -> Vec<redis::Value> {
    let mut conn = server.raw().await;
    redis::cmd("ACL")
        .arg("LOG")
        .query_async(&mut conn)
        .await
        .unwrap()
}

async fn cache_as(server: &RedisServer, user: &str, l1: bool) -> Cache {
    Cache::builder()
        .redis_url(server.url())
        .redis_username(user)
        .redis_password(PASSWORD)
        .prefix(PREFIX)
        .l1(l1)
        .require_redis(true)
        .build()
        .await
        .unwrap()
}

#[cached(namespace = "acl.user", tags = ["org:{org}"], cache = cache, skip(cache, runs))]
async fn user(org: u64, id: u64, cache: &Cache, runs: &AtomicUsize) -> String {
    runs.fetch_add(1, SeqCst);
    format!("user {id} of {org}")
}

#[cached(namespace = "acl.locked", lock = true, cache = cache, skip(cache, runs))]
async fn locked(id: u64, cache: &Cache, runs: &AtomicUsize) -> u64 {
    runs.fetch_add(1, SeqCst);
    id + 1
}

#[cached(namespace = "acl.failing", cache = cache, skip(cache))]
async fn failing(id: u64, cache: &Cache) -> Result<u64, String> {
    Err(format!("no row {id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feature_runs_as_the_least_privileged_user() {
    let server = RedisServer::start();
    create_user(&server, "cacheapp", COMMANDS).await;
    let cache = cache_as(&server, "cacheapp", true).await;
    let other = cache_as(&server, "cacheapp", true).await;
    assert!(cache.wait_for_backplane(Duration::from_secs(5)).await);
    assert!(other.wait_for_backplane(Duration::from_secs(5)).await);
    let runs = AtomicUsize::new(0);

    // get/set/delete, many, TTLs.
    cache.set("k", &"v".to_owned(), None).await.unwrap();
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );
    cache
        .set_many(&[("a", 1u32), ("b", 2u32)], None)
        .await
        .unwrap();
    assert_eq!(
        cache.get_many::<u32, &str>(&["a", "b"]).await.unwrap(),
        vec![Some(1), Some(2)]
    );
    assert!(cache.expire("a", Duration::from_secs(60)).await.unwrap());
    assert!(cache.ttl("a").await.unwrap().is_some());
    assert!(cache.exists("b").await.unwrap());
    assert!(cache.delete("k").await.unwrap());
    assert_eq!(cache.delete_many(&["a", "b"]).await.unwrap(), 2);

    // #[cached] with tags (fill scripts, tag indexes), then tag, namespace and pattern
    // clears (SCAN), each reaching the other cache's L1.
    assert_eq!(user(1, 7, &other, &runs).await, "user 7 of 1");
    assert_eq!(user(1, 7, &other, &runs).await, "user 7 of 1");
    assert_eq!(user(1, 7, &cache, &runs).await, "user 7 of 1");
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(cache.invalidate_tag("org:1").await.unwrap(), 1);
    assert_eq!(user(1, 7, &other, &runs).await, "user 7 of 1");
    assert_eq!(runs.load(SeqCst), 2);
    assert_eq!(cache.invalidate_namespace("acl.user").await.unwrap(), 1);
    assert_eq!(user(1, 7, &other, &runs).await, "user 7 of 1");
    assert_eq!(runs.load(SeqCst), 3);
    cache.set("p:1", &1u8, None).await.unwrap();
    assert_eq!(cache.invalidate_pattern("p:*").await.unwrap(), 1);
    // A cross-process lock (lease).
    assert_eq!(locked(1, &cache, &runs).await, 2);
    assert_eq!(locked(1, &cache, &runs).await, 2);
    assert_eq!(runs.load(SeqCst), 4);
    // An error result is not stored: the fill lease is released (a script's DEL).
    assert_eq!(failing(1, &cache).await, Err("no row 1".to_owned()));
    // Unreadable entries are deleted if unchanged (a script's TYPE, then DEL): garbage,
    // and a list under a key.
    let mut raw = server.raw().await;
    let () = redis::cmd("SET")
        .arg(format!("{PREFIX}:junk"))
        .arg("not an envelope")
        .query_async(&mut raw)
        .await
        .unwrap();
    let () = redis::cmd("RPUSH")
        .arg(format!("{PREFIX}:list"))
        .arg("x")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(cache.get::<u32>("junk").await.unwrap(), None);
    assert_eq!(cache.get::<u32>("list").await.unwrap(), None);
    let left: u64 = redis::cmd("EXISTS")
        .arg(format!("{PREFIX}:junk"))
        .arg(format!("{PREFIX}:list"))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(left, 0);
    // Health and stats.
    assert!(cache.ping().await.is_ok());
    let health = cache.health().await;
    assert!(format!("{health:?}").contains("redis"), "{health:?}");

    for c in [&cache, &other] {
        let stats = c.stats();
        assert_eq!(
            (stats.errors, stats.write_errors, stats.timeouts),
            (0, 0, 0),
            "{stats:?}"
        );
        assert_eq!(stats.decode_errors, u64::from(std::ptr::eq(c, &cache)) * 2);
    }
    assert_eq!(acl_log(&server).await, vec![], "a command was refused");
}

#[tokio::test]
async fn a_missing_command_is_a_counted_failure_not_a_hang() {
    let server = RedisServer::start();
    // No EVALSHA: the fill (a script on Redis 7) is refused.
    create_user(&server, "noscript", &COMMANDS.replace("+evalsha", "")).await;
    let cache = cache_as(&server, "noscript", false).await;
    let runs = AtomicUsize::new(0);
    let ((), logs) = cache_tests::logs::capture_logs(async {
        for _ in 0..3 {
            assert_eq!(user(2, 9, &cache, &runs).await, "user 9 of 2");
        }
    })
    .await;
    // Nothing is stored: every call runs the body. The first call's fill is refused and
    // counted; its lease stays until it lapses, so the next calls do not try to store.
    assert_eq!(runs.load(SeqCst), 3);
    let stats = cache.stats();
    assert_eq!(
        (stats.hits, stats.misses, stats.errors, stats.write_errors),
        (0, 3, 1, 1),
        "{stats:?}"
    );
    assert_eq!(stats.circuit, cache_runtime::CircuitState::Closed);
    assert!(
        logs.contains(
            "cache set failed: cache store error: NoPerm: this user has no permissions to run \
             the 'evalsha' command"
        ),
        "{logs}"
    );

    // No PUBLISH: writes and deletes still happen; each refused publish (the backplane's
    // message to other processes) is counted and logged.
    create_user(&server, "nopublish", &COMMANDS.replace("+publish", "")).await;
    let cache = cache_as(&server, "nopublish", false).await;
    let (deleted, logs) = cache_tests::logs::capture_logs(async {
        cache.set("k", &1u8, None).await.unwrap();
        cache.delete("k").await
    })
    .await;
    assert!(matches!(deleted, Ok(true)), "{deleted:?}");
    assert_eq!(cache.get::<u8>("k").await.unwrap(), None);
    assert_eq!(cache.stats().errors, 2, "{:?}", cache.stats());
    assert!(
        logs.contains("this user has no permissions to run the 'publish' command"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_user_runs_the_cache_on_a_cluster() {
    use cache_tests::cluster::{node_query, RedisCluster};
    let cluster = tokio::task::block_in_place(|| RedisCluster::start(3, 0));
    let args = setuser("cacheapp", COMMANDS);
    for node in cluster.nodes() {
        let mut all = vec!["ACL"];
        all.extend(args.iter().map(String::as_str));
        let () = node_query(&node, &all).unwrap();
    }
    let build = || async {
        Cache::builder()
            .cluster_nodes(cluster.nodes())
            .redis_username("cacheapp")
            .redis_password(PASSWORD)
            .prefix(PREFIX)
            .require_redis(true)
            .build()
            .await
            .unwrap()
    };
    let (cache, other) = (build().await, build().await);
    assert!(cache.wait_for_backplane(Duration::from_secs(5)).await);
    assert!(other.wait_for_backplane(Duration::from_secs(5)).await);
    let runs = AtomicUsize::new(0);
    for id in 0..20 {
        assert_eq!(user(3, id, &other, &runs).await, format!("user {id} of 3"));
    }
    assert_eq!(runs.load(SeqCst), 20);
    assert_eq!(cache.invalidate_tag("org:3").await.unwrap(), 20);
    for id in 0..20 {
        assert_eq!(user(3, id, &other, &runs).await, format!("user {id} of 3"));
    }
    assert_eq!(runs.load(SeqCst), 40);
    assert_eq!(cache.invalidate_namespace("acl.user").await.unwrap(), 20);
    assert_eq!(locked(1, &cache, &runs).await, 2);
    cache
        .set_many(&[("a", 1u32), ("b", 2u32), ("c", 3u32)], None)
        .await
        .unwrap();
    assert_eq!(
        cache.get_many::<u32, &str>(&["a", "b", "c"]).await.unwrap(),
        vec![Some(1), Some(2), Some(3)]
    );
    assert_eq!(cache.invalidate_pattern("*").await.unwrap(), 4);
    assert!(cache.ping().await.is_ok());
    for c in [&cache, &other] {
        let stats = c.stats();
        assert_eq!((stats.errors, stats.write_errors), (0, 0), "{stats:?}");
    }
    for node in cluster.nodes() {
        let log: Vec<redis::Value> = node_query(&node, &["ACL", "LOG"]).unwrap();
        assert_eq!(log, vec![], "a command was refused on {node}");
    }
}
