//! A Redis Cluster over TLS (`rediss://` nodes, features `cluster` and `tls`) against three
//! real TLS-only `redis-server` masters that talk to each other over TLS too, with
//! certificates made by the `openssl` CLI: a trusted CA caches on every master and shares
//! entries between caches; an unrelated CA is a certificate error; nodes that ask for client
//! certificates take the one their CA signed, on every node, and refuse a cache without
//! one; nodes that mix `redis://` and `rediss://` are a configuration error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use cache_runtime::{cached, Cache, CacheBuilder, Error};
use cache_tests::cluster::RedisCluster;
use cache_tests::fixture::Counts;
use cache_tests::tls::{ClientCerts, TestPki, CERTIFICATE_REQUIRED, UNKNOWN_ISSUER};

const NO_HANG: Duration = Duration::from_secs(20);

async fn bounded<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(NO_HANG, f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {NO_HANG:?}"))
}

/// Time limits with room for TLS handshakes to three nodes in a debug build on a busy
/// 2-core machine (see `tests/tls.rs`).
fn builder(cluster: &RedisCluster) -> CacheBuilder {
    Cache::builder()
        .cluster_nodes(cluster.urls())
        .prefix("cltls")
        .connect_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(3))
}

#[cached(namespace = "cltls.triple", cache = cache, skip(cache, calls))]
async fn triple(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id * 3
}

/// A required build of `builder` fails with a store error that says `why`.
async fn refused(what: &str, builder: CacheBuilder, why: &str) {
    let err = bounded(what, builder.require_redis(true).build())
        .await
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(err, Error::Store(_)), "{what}: {err:?}");
    assert!(err.to_string().contains(why), "{what}: {err}");
}

/// 30 misses, then 30 hits of `cache`, with no error; the entries lie on all three masters
/// (so every node was reached over TLS, not only the seed).
async fn fills_every_master(cluster: &RedisCluster, cache: &Cache, calls: &AtomicUsize) {
    for id in 0..30 {
        assert_eq!(bounded("miss", triple(id, cache, calls)).await, id * 3);
    }
    for id in 0..30 {
        assert_eq!(bounded("hit", triple(id, cache, calls)).await, id * 3);
    }
    assert_eq!(calls.load(SeqCst), 30);
    let stats = cache.stats();
    assert_eq!(
        (stats.misses, stats.hits, stats.errors),
        (30, 30, 0),
        "{stats:?}"
    );
    let sizes: Vec<u64> = cluster
        .masters()
        .iter()
        .map(|m| cluster.query(m, &["DBSIZE"]).unwrap())
        .collect();
    assert_eq!(sizes.len(), 3);
    assert_eq!(sizes.iter().sum::<u64>(), 30, "{sizes:?}");
    assert!(sizes.iter().all(|&n| n > 0), "{sizes:?}");
}

/// Trusting the CA that signed the nodes' certificate: the entries of 30 misses lie on all
/// three masters (`fills_every_master`); a second cache reads them all as hits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_ca_caches_on_every_master() {
    let pki = TestPki::new();
    let ca = pki.ca_pem.clone();
    let cluster = RedisCluster::start_tls(3, pki);
    assert!(cluster
        .urls()
        .iter()
        .all(|u| u.starts_with("rediss://127.0.0.1:")));
    let build = || {
        bounded(
            "build",
            builder(&cluster)
                .tls_root_cert(ca.clone())
                .require_redis(true)
                .build(),
        )
    };
    let cache = build().await.unwrap();
    let calls = AtomicUsize::new(0);
    fills_every_master(&cluster, &cache, &calls).await;

    let other = build().await.unwrap();
    for id in 0..30 {
        assert_eq!(
            bounded("shared hit", triple(id, &other, &calls)).await,
            id * 3
        );
    }
    assert_eq!(calls.load(SeqCst), 30);
    assert_eq!((other.stats().hits, other.stats().misses), (30, 0));
}

/// An unrelated CA (or the system roots): a required build fails with the certificate
/// error, and a fail-open cache runs every call's body and returns its value, counting each
/// failed read as an error (not a miss: the store was not read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_ca_is_a_certificate_error() {
    let pki = TestPki::new();
    let other_ca = pki.other_ca_pem.clone();
    let cluster = RedisCluster::start_tls(3, pki);
    refused(
        "required build",
        builder(&cluster).tls_root_cert(other_ca.clone()),
        UNKNOWN_ISSUER,
    )
    .await;
    // Without `tls_root_cert` the system roots are used, which do not know the test CA.
    refused("system roots", builder(&cluster), UNKNOWN_ISSUER).await;

    let cache = bounded(
        "fail-open build",
        builder(&cluster).tls_root_cert(other_ca).build(),
    )
    .await
    .unwrap();
    let calls = AtomicUsize::new(0);
    for _ in 0..2 {
        assert_eq!(bounded("call", triple(7, &cache, &calls)).await, 21);
    }
    assert_eq!(calls.load(SeqCst), 2);
    // One error per call (the read; nothing is written after a failed read).
    let stats = cache.stats();
    assert_eq!(
        Counts::of(&stats),
        Counts {
            errors: 2,
            ..Counts::default()
        },
        "{stats:?}"
    );
    // After the first failed handshakes redis-rs's cluster client keeps no connection and
    // reports only that (the build's error above is the one that names the certificate).
    let err = bounded("get", cache.get::<u64>("k")).await.unwrap_err();
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert!(
        err.to_string().contains("ClusterConnectionNotFound"),
        "{err}"
    );
}

/// Nodes that ask for client certificates (`tls-auth-clients yes`): with the client
/// certificate the CA signed, 30 misses then 30 hits, with entries on all three masters
/// (every node took it, not only the seed); without one, a required build fails and names
/// the refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_certificate_on_every_node() {
    let pki = TestPki::new();
    let (ca, cert, key) = (
        pki.ca_pem.clone(),
        pki.client_cert_pem.clone(),
        pki.client_key_pem.clone(),
    );
    let cluster = RedisCluster::start_tls_asking(3, pki, ClientCerts::Required);
    let cache = bounded(
        "build with a client certificate",
        builder(&cluster)
            .tls_root_cert(ca.clone())
            .tls_client_cert(cert, key)
            .require_redis(true)
            .build(),
    )
    .await
    .unwrap();
    fills_every_master(&cluster, &cache, &AtomicUsize::new(0)).await;

    refused(
        "build without one",
        builder(&cluster).tls_root_cert(ca),
        CERTIFICATE_REQUIRED,
    )
    .await;
}

/// Nodes that mix plain and TLS URLs are refused at build, before anything connects.
#[tokio::test]
async fn mixed_schemes_are_refused() {
    let err = Cache::builder()
        .cluster_nodes(["redis://127.0.0.1:7000", "rediss://127.0.0.1:7001"])
        .build()
        .await
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid cache configuration: Redis Cluster nodes mix redis:// and rediss://: \
         [\"redis://127.0.0.1:7000\", \"rediss://127.0.0.1:7001\"]; every node of a cluster \
         is reached the same way"
    );
}
