//! TLS (`rediss://`, feature `tls`) against a real TLS-only `redis-server`, with
//! certificates made by the `openssl` CLI for each test: a trusted CA caches; an unrelated
//! CA (or none: the system roots) is a certificate error with `require_redis(true)` and a
//! fail-open cache without it; a server that asks for client certificates takes the one
//! its CA signed and refuses none or another CA's; unusable PEM files fail the build.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cache_runtime::{cached, key_for, Cache, CacheBuilder, CircuitState, Error};
use cache_tests::fixture::Counts;
use cache_tests::tls::{
    ClientCerts, TestPki, TlsRedisServer, CERTIFICATE_REQUIRED, UNKNOWN_CA, UNKNOWN_ISSUER,
};

const NO_HANG: Duration = Duration::from_secs(10);

async fn bounded<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(NO_HANG, f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {NO_HANG:?}"))
}

/// A builder whose time limits leave room for a TLS handshake in a debug build on a busy
/// 2-core machine (a few hundred ms): with the defaults (250 ms to connect, 250 ms per
/// operation) an operation can run out of time before the handshake fails, and then only
/// names the certificate error second-hand (see `faults::outage`). What these tests check is
/// the certificate handling, not the time limits.
fn builder() -> CacheBuilder {
    Cache::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(3))
}

async fn build(what: &str, builder: CacheBuilder) -> cache_runtime::Result<Cache> {
    bounded(what, builder.build()).await
}

#[cached(namespace = "tls.square", cache = cache, skip(cache, calls))]
async fn square(x: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    x * x
}

/// With the CA that signed the server's certificate as root, `rediss://127.0.0.1` and
/// `rediss://localhost` (both in the certificate's subjectAltName) cache: a miss, then a
/// hit, and another cache on the same server reads the entry. With L1 the backplane
/// subscribes over TLS too.
#[tokio::test]
async fn trusted_ca_caches() {
    let pki = TestPki::new();
    let server = TlsRedisServer::start(&pki);
    let urls = [
        ("127.0.0.1", server.url(), false),
        (
            "localhost",
            format!("rediss://localhost:{}", server.port()),
            false,
        ),
        ("127.0.0.1 with L1", server.url(), true),
    ];
    for (x, (what, url, l1)) in urls.into_iter().enumerate() {
        let x = x as u64 + 2;
        let builder = || {
            builder()
                .redis_url(&url)
                .tls_root_cert(pki.ca_pem.clone())
                .require_redis(true)
                .l1(l1)
        };
        let cache = build(what, builder())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        if l1 {
            assert!(
                cache.wait_for_backplane(Duration::from_secs(5)).await,
                "{what}: the backplane did not subscribe over TLS"
            );
        }
        let calls = AtomicUsize::new(0);
        assert_eq!(bounded(what, square(x, &cache, &calls)).await, x * x);
        assert_eq!(bounded(what, square(x, &cache, &calls)).await, x * x);
        assert_eq!(calls.load(SeqCst), 1, "{what}");
        assert_eq!(Counts::of(&cache.stats()), Counts::calls(1, 1, 1), "{what}");
        let other = build(what, builder().l1(false)).await.unwrap();
        let key = key_for::<u64>("tls.square", 1, &(x,)).unwrap();
        assert_eq!(other.get::<u64>(&key).await.unwrap(), Some(x * x), "{what}");
    }
}

/// A certificate no trusted root signed, with `require_redis(true)`: `build` fails fast
/// with an error that names the certificate problem (rustls's `UnknownIssuer`). The same
/// without `tls_root_cert` (the system roots do not know the test CA).
#[tokio::test]
async fn untrusted_certificate_fails_a_required_build() {
    let pki = TestPki::new();
    let server = TlsRedisServer::start(&pki);
    let cases = [
        (
            "unrelated CA",
            builder()
                .redis_url(server.url())
                .tls_root_cert(pki.other_ca_pem.clone()),
        ),
        ("system roots", builder().redis_url(server.url())),
    ];
    for (what, builder) in cases {
        let started = Instant::now();
        let err = build(what, builder.require_redis(true))
            .await
            .map(|_| ())
            .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Store(_)), "{what}: {err:?}");
        assert!(msg.contains("did not answer"), "{what}: {msg}");
        assert!(msg.contains(UNKNOWN_ISSUER), "{what}: {msg}");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{what}: took {:?}",
            started.elapsed()
        );
    }
}

/// A certificate no trusted root signed, with the default (fail-open) settings: `build`
/// succeeds, every call runs its body and returns its value, and each failed operation is
/// counted.
#[tokio::test]
async fn untrusted_certificate_fails_open() {
    let pki = TestPki::new();
    let server = TlsRedisServer::start(&pki);
    let cache = build(
        "unrelated CA, fail-open",
        builder()
            .redis_url(server.url())
            .tls_root_cert(pki.other_ca_pem.clone())
            .l1(false),
    )
    .await
    .unwrap_or_else(|e| panic!("fail-open build: {e}"));
    let calls = AtomicUsize::new(0);
    let started = Instant::now();
    for x in [3u64, 3, 4] {
        assert_eq!(bounded("call", square(x, &cache, &calls)).await, x * x);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "3 calls took {:?}",
        started.elapsed()
    );
    assert_eq!(calls.load(SeqCst), 3);
    let stats = cache.stats();
    // One error per call (the read; nothing is written after a failed read).
    assert_eq!(
        Counts::of(&stats),
        Counts {
            errors: 3,
            ..Counts::default()
        },
        "{stats:?}"
    );
    // The manual API names the cause.
    let err = cache.get::<u64>("k").await.unwrap_err();
    assert!(err.to_string().contains(UNKNOWN_ISSUER), "{err}");
    let stats = cache.stats();
    assert_eq!(stats.errors, 4, "{stats:?}");
    // A failed handshake counts towards the circuit breaker: the build's PING, three calls
    // and the get are five failures in a row, the default threshold.
    assert_eq!(stats.circuit, CircuitState::Open, "{stats:?}");
    assert_eq!(stats.circuit_opened, 1, "{stats:?}");
    // While open, calls skip Redis and still return their values.
    assert_eq!(square(5, &cache, &calls).await, 25);
    assert_eq!(calls.load(SeqCst), 4);
    assert_eq!(cache.stats().errors, 4);
}

/// Plain `redis://` against the TLS port is no connection: a required build fails without
/// hanging.
#[tokio::test]
async fn plain_text_to_a_tls_port_fails() {
    let pki = TestPki::new();
    let server = TlsRedisServer::start(&pki);
    let started = Instant::now();
    let err = build(
        "plain text",
        builder()
            .redis_url(format!("redis://127.0.0.1:{}", server.port()))
            .require_redis(true),
    )
    .await
    .map(|_| ())
    .unwrap_err();
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

/// A server that asks for client certificates (`tls-auth-clients yes`, mutual TLS): with the
/// client certificate its CA signed, a cache reads and writes (a miss, then a hit, and a
/// second cache reads the entry); without one, or with one an unrelated CA signed, a
/// required build fails and says the server refused the handshake.
#[tokio::test]
async fn client_certificate_for_a_server_that_asks() {
    let pki = TestPki::new();
    let server = TlsRedisServer::start_asking(&pki, ClientCerts::Required);
    let trusted = || {
        builder()
            .redis_url(server.url())
            .tls_root_cert(pki.ca_pem.clone())
            .require_redis(true)
    };
    let cache = build(
        "client certificate",
        trusted().tls_client_cert(pki.client_cert_pem.clone(), pki.client_key_pem.clone()),
    )
    .await
    .unwrap_or_else(|e| panic!("with the client certificate: {e}"));
    let calls = AtomicUsize::new(0);
    assert_eq!(bounded("miss", square(7, &cache, &calls)).await, 49);
    assert_eq!(bounded("hit", square(7, &cache, &calls)).await, 49);
    assert_eq!(calls.load(SeqCst), 1);
    assert_eq!(Counts::of(&cache.stats()), Counts::calls(1, 1, 1));
    let other = build(
        "second cache",
        trusted()
            .tls_client_cert(pki.client_cert_pem.clone(), pki.client_key_pem.clone())
            .l1(false),
    )
    .await
    .unwrap();
    let key = key_for::<u64>("tls.square", 1, &(7u64,)).unwrap();
    assert_eq!(other.get::<u64>(&key).await.unwrap(), Some(49));

    let refused = [
        ("no client certificate", trusted(), CERTIFICATE_REQUIRED),
        (
            "a client certificate of another CA",
            trusted().tls_client_cert(
                pki.other_client_cert_pem.clone(),
                pki.other_client_key_pem.clone(),
            ),
            UNKNOWN_CA,
        ),
    ];
    for (what, builder, alert) in refused {
        let err = build(what, builder).await.map(|_| ()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Store(_)), "{what}: {err:?}");
        assert!(msg.contains(alert), "{what}: {msg}");
    }
}

/// The same from the environment: `REDIS_TLS_CA_FILE`, `REDIS_TLS_CERT_FILE` and
/// `REDIS_TLS_KEY_FILE` name the PEM files; a required build against a server that asks for
/// client certificates caches (a miss, then a hit). A file that exists but holds no
/// certificate fails the build, naming the setting.
#[tokio::test]
async fn tls_files_from_the_environment() {
    let pki = TestPki::new();
    let server = TlsRedisServer::start_asking(&pki, ClientCerts::Required);
    let path = |name: &str| pki.path(name).display().to_string();
    let vars = |cert: &str| {
        let vars: Vec<(&str, String)> = vec![
            ("REDIS_URL", server.url()),
            ("CACHE_REQUIRE_REDIS", "true".to_owned()),
            ("CACHE_OPERATION_TIMEOUT", "3s".to_owned()),
            ("REDIS_TLS_CA_FILE", path("ca.crt")),
            ("REDIS_TLS_CERT_FILE", path(cert)),
            ("REDIS_TLS_KEY_FILE", path("client.key")),
        ];
        CacheBuilder::from_lookup(move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        })
        .unwrap()
        .connect_timeout(Duration::from_secs(2))
    };
    let cache = build("from the environment", vars("client.crt"))
        .await
        .unwrap_or_else(|e| panic!("from the environment: {e}"));
    let calls = AtomicUsize::new(0);
    assert_eq!(bounded("miss", square(8, &cache, &calls)).await, 64);
    assert_eq!(bounded("hit", square(8, &cache, &calls)).await, 64);
    assert_eq!(Counts::of(&cache.stats()), Counts::calls(1, 1, 1));
    // The key file where the certificate should be.
    let err = build("key as certificate", vars("client.key"))
        .await
        .map(|_| ())
        .unwrap_err();
    let len = pki.client_key_pem.len();
    assert_eq!(
        err.to_string(),
        format!("invalid cache configuration: tls_client_cert: no PEM certificate in {len} bytes")
    );
}

/// TLS files that are not what they should be fail `build` with a configuration error that
/// names the setting, before anything connects (the port has no server); the builder's
/// `Debug` never shows the key.
#[tokio::test]
async fn unusable_tls_files_fail_the_build() {
    let pki = TestPki::new();
    let url = "rediss://127.0.0.1:1";
    let (cert, key) = (pki.client_cert_pem.clone(), pki.client_key_pem.clone());
    let corrupt = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".to_vec();
    let cases: Vec<(&str, CacheBuilder, String)> = vec![
        (
            "a client certificate that is no PEM",
            Cache::builder().tls_client_cert(&b"not a certificate"[..], key.clone()),
            "tls_client_cert: no PEM certificate in 17 bytes".to_owned(),
        ),
        (
            "certificate and key swapped",
            Cache::builder().tls_client_cert(key.clone(), cert.clone()),
            format!("tls_client_cert: no PEM certificate in {} bytes", key.len()),
        ),
        (
            "a key that is no PEM",
            Cache::builder().tls_client_cert(cert.clone(), &b"garbage"[..]),
            "tls_client_cert: the key is not a PEM private key (no items found)".to_owned(),
        ),
        (
            "a corrupt client certificate",
            Cache::builder().tls_client_cert(corrupt.clone(), key.clone()),
            "tls_client_cert: unreadable PEM (".to_owned(),
        ),
        (
            "a root that is no PEM",
            Cache::builder().tls_root_cert(&b"garbage"[..]),
            "tls_root_cert: no PEM certificate in 7 bytes".to_owned(),
        ),
        (
            "a corrupt root",
            Cache::builder().tls_root_cert(corrupt),
            "tls_root_cert: unreadable PEM (".to_owned(),
        ),
    ];
    for (what, builder, expected) in cases {
        let shown = format!("{builder:?}");
        let err = build(what, builder.redis_url(url))
            .await
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{what}: {err:?}");
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("invalid cache configuration: {expected}")),
            "{what}: {msg}"
        );
        assert!(!shown.contains("PRIVATE KEY"), "{what}: {shown}");
    }
    let shown = format!(
        "{:?}",
        Cache::builder().tls_client_cert(cert.clone(), key.clone())
    );
    assert!(shown.contains("tls_client_cert: Some(\"***\")"), "{shown}");
    // A client certificate needs a TLS URL.
    let err = build(
        "plain URL",
        Cache::builder()
            .redis_url("redis://127.0.0.1:1")
            .tls_client_cert(cert, key),
    )
    .await
    .map(|_| ())
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid cache configuration: tls_root_cert and tls_client_cert need a rediss:// URL, \
         not `redis://127.0.0.1:1`"
    );
}
