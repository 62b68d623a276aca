//! The cache behind Redis Sentinel: a master, a replica and three sentinels started by each
//! test (tests/src/sentinel.rs). The cache is given the sentinels and the master's name only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cached, Cache};
use cache_tests::kind::ServerKind;
use cache_tests::sentinel::{SentinelGroup, MASTER_NAME};

#[cached(namespace = "sn.square", cache = cache, skip(cache, runs))]
async fn square(n: u64, cache: &Cache, runs: &AtomicUsize) -> u64 {
    runs.fetch_add(1, SeqCst);
    n * n
}

async fn group(kind: ServerKind) -> SentinelGroup {
    tokio::task::spawn_blocking(move || SentinelGroup::start_kind(kind, &[]))
        .await
        .unwrap()
}

async fn master_keys(group: &SentinelGroup) -> Vec<String> {
    let mut conn = group.master().raw().await;
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("sn:*")
        .query_async(&mut conn)
        .await
        .unwrap();
    keys.sort();
    keys
}

async fn get_set_and_invalidate(kind: ServerKind) {
    let group = group(kind).await;
    let cache = Cache::builder()
        .sentinel(group.nodes(), MASTER_NAME)
        .prefix("sn")
        .l1(false)
        .require_redis(true)
        .build()
        .await
        .unwrap();
    assert_eq!(cache.backend(), "redis");

    cache
        .set("greeting", &"hello".to_owned(), None)
        .await
        .unwrap();
    assert_eq!(
        cache.get::<String>("greeting").await.unwrap().as_deref(),
        Some("hello")
    );
    let runs = AtomicUsize::new(0);
    assert_eq!(square(7, &cache, &runs).await, 49);
    assert_eq!(square(7, &cache, &runs).await, 49);
    assert_eq!(runs.load(SeqCst), 1);
    // Written on the master the sentinels name.
    let keys = master_keys(&group).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.contains(&"sn:greeting".to_owned()), "{keys:?}");

    assert!(cache.delete("greeting").await.unwrap());
    assert_eq!(cache.get::<String>("greeting").await.unwrap(), None);
    cache.invalidate_namespace("sn.square").await.unwrap();
    assert_eq!(square(7, &cache, &runs).await, 49);
    assert_eq!(runs.load(SeqCst), 2);
    // Hits: the first `get` and the second call; misses: two calls and the deleted key.
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses), (2, 3), "{stats:?}");
    assert_eq!(stats.errors, 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_set_and_invalidate_on_redis() {
    get_set_and_invalidate(ServerKind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_set_and_invalidate_on_valkey() {
    get_set_and_invalidate(ServerKind::Valkey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_from_the_environment() {
    let group = group(ServerKind::Redis).await;
    let nodes = group.nodes().join(",");
    // The master takes an ACL user of its own (given as REDIS_USERNAME, REDIS_PASSWORD).
    let mut raw = group.master().raw().await;
    let () = redis::cmd("ACL")
        .arg(&[
            "SETUSER",
            "snuser",
            "on",
            ">sn-password-0123",
            "~sn:*",
            "~sn#*",
            "&sn:*",
        ])
        .arg(&["+@all", "-@dangerous", "+role"])
        .query_async(&mut raw)
        .await
        .unwrap();
    let cache = cache_runtime::CacheBuilder::from_lookup(|name| match name {
        "REDIS_SENTINEL_NODES" => Some(nodes.clone()),
        "REDIS_SENTINEL_MASTER" => Some(MASTER_NAME.to_owned()),
        "REDIS_USERNAME" => Some("snuser".to_owned()),
        "REDIS_PASSWORD" => Some("sn-password-0123".to_owned()),
        "CACHE_PREFIX" => Some("sn".to_owned()),
        "CACHE_REQUIRE_REDIS" => Some("true".to_owned()),
        _ => None,
    })
    .unwrap()
    .l1(false)
    .build()
    .await
    .unwrap();
    cache.set("k", &1u32, None).await.unwrap();
    assert_eq!(cache.get::<u32>("k").await.unwrap(), Some(1));
    assert_eq!(master_keys(&group).await, vec!["sn:k".to_owned()]);
    // Connected as that user: the master names it among its clients.
    let clients: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(clients.contains("user=snuser"), "{clients}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_master_name_fails_the_build() {
    let group = group(ServerKind::Redis).await;
    for required in [true, false] {
        let err = Cache::builder()
            .sentinel(group.nodes(), "nosuchmaster")
            .require_redis(required)
            .build()
            .await
            .map(|_| ())
            .unwrap_err();
        let nodes = group.nodes();
        assert_eq!(
            err.to_string(),
            format!(
                "cache store error: Redis at redis+sentinel://{}/nosuchmaster refused the \
                 connection: no sentinel of {} knows a master named `nosuchmaster` (SENTINEL \
                 GET-MASTER-ADDR-BY-NAME); check the name the sentinels monitor",
                nodes.join(","),
                nodes.join(", ")
            )
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_sentinel_answering_is_an_outage() {
    // Ports nobody listens on.
    let nodes: Vec<String> = (0..2)
        .map(|_| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("127.0.0.1:{}", l.local_addr().unwrap().port())
        })
        .collect();
    let err = Cache::builder()
        .sentinel(nodes.clone(), MASTER_NAME)
        .require_redis(true)
        .build()
        .await
        .map(|_| ())
        .unwrap_err()
        .to_string();
    let head = format!(
        "cache store error: Redis at redis+sentinel://{}/{MASTER_NAME} did not answer: no \
         sentinel of {} answered; the last error was: ",
        nodes.join(","),
        nodes.join(", ")
    );
    assert!(err.starts_with(&head), "{err}");
    // Fail-open by default: built, and every call runs its body.
    let cache = Cache::builder()
        .sentinel(nodes, MASTER_NAME)
        .prefix("sn")
        .l1(false)
        .build()
        .await
        .unwrap();
    let runs = AtomicUsize::new(0);
    assert_eq!(square(3, &cache, &runs).await, 9);
    assert_eq!(square(3, &cache, &runs).await, 9);
    assert_eq!(runs.load(SeqCst), 2);
}
