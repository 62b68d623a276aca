//! Signed values on Redis: a cache with a signing key refuses every entry whose MAC does not
//! verify (tampered with in Redis, written without the key or with another key, copied from
//! another key), as a miss that is deleted and counted in `decode_errors` and
//! `bad_signatures`; a cache without a key reads signed entries. Every test starts its own
//! `redis-server`; raw reads and writes go around the cache.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cached, key_for, Cache, CacheBuilder, Error};
use cache_tests::fixture::Fixture;
use cache_tests::redis_server::RedisServer;
use cache_tests::suite::compression::compressible;

const SECRET: &str = "signing test secret";

/// A Redis cache (no L1, so every read reaches Redis) signing with `SECRET`.
async fn signed() -> Fixture {
    Fixture::redis_with(|b| b.l1(false).signing_key(SECRET)).await
}

/// `(decode_errors, bad_signatures)` of `cache`.
fn refusals(cache: &Cache) -> (u64, u64) {
    let stats = cache.stats();
    (stats.decode_errors, stats.bad_signatures)
}

#[cached(namespace = "signing.profile", cache = cache, skip(cache, calls))]
async fn profile(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("profile of user {id}")
}

#[cached(namespace = "signing.page", cache = cache, skip(cache, calls))]
async fn page(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    compressible(id)
}

/// One byte of a stored value changed with a raw SET: the next call runs the body, the entry
/// is counted as a bad signature (and a decode error), and the fresh value is stored again.
#[tokio::test]
async fn tampered_value_runs_the_body() {
    let fx = signed().await;
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(profile(1, c, &calls).await, "profile of user 1");
    let key = fx.redis_key(
        key_for::<String>("signing.profile", 1, &(1u64,))
            .unwrap()
            .as_str(),
    );
    let mut bytes = fx.raw_get(&key).await.unwrap();
    assert_eq!(bytes[2], 0x02);
    // The last byte of the string, "1" -> "2": still valid bincode, but not signed so.
    let last = bytes.len() - 33;
    assert_eq!(bytes[last], b'1');
    bytes[last] = b'2';
    fx.raw_set(&key, &bytes).await;

    assert_eq!(profile(1, c, &calls).await, "profile of user 1");
    assert_eq!(calls.load(SeqCst), 2);
    assert_eq!(refusals(c), (1, 1));
    // Stored again, signed: the next call is a hit.
    assert_eq!(profile(1, c, &calls).await, "profile of user 1");
    assert_eq!(calls.load(SeqCst), 2);
    let stats = c.stats();
    assert_eq!((stats.hits, stats.misses, stats.writes), (1, 2, 2));
    assert_eq!(refusals(c), (1, 1));
}

/// The same on a compressed value: a byte of the compressed body changed.
#[tokio::test]
async fn tampered_compressed_value_runs_the_body() {
    let fx = signed().await;
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(page(1, c, &calls).await, compressible(1));
    let key = fx.redis_key(
        key_for::<String>("signing.page", 1, &(1u64,))
            .unwrap()
            .as_str(),
    );
    let mut bytes = fx.raw_get(&key).await.unwrap();
    assert_eq!(bytes[2], 0x03);
    bytes[40] ^= 0x20;
    fx.raw_set(&key, &bytes).await;
    assert_eq!(page(1, c, &calls).await, compressible(1));
    assert_eq!(calls.load(SeqCst), 2);
    assert_eq!(refusals(c), (1, 1));
    assert_eq!(c.stats().compressed, 2);
}

/// Entries written by a cache without the key, or with another key, are refused and
/// deleted; the signing cache's own entries are not.
#[tokio::test]
async fn unsigned_or_foreign_values_are_refused() {
    let fx = signed().await;
    let unsigned = fx.another(|b| b.l1(false)).await;
    let foreign = fx
        .another(|b| b.l1(false).signing_key("another signing secret"))
        .await;
    unsigned.set("unsigned", &7u64, None).await.unwrap();
    foreign.set("foreign", &8u64, None).await.unwrap();
    fx.cache.set("own", &9u64, None).await.unwrap();

    assert_eq!(fx.cache.get::<u64>("unsigned").await.unwrap(), None);
    assert_eq!(refusals(&fx.cache), (1, 1));
    assert_eq!(fx.raw_exists("unsigned").await, Some(false));
    assert_eq!(fx.cache.get::<u64>("foreign").await.unwrap(), None);
    assert_eq!(refusals(&fx.cache), (2, 2));
    assert_eq!(fx.raw_exists("foreign").await, Some(false));
    assert_eq!(fx.cache.get::<u64>("own").await.unwrap(), Some(9));
    assert_eq!(refusals(&fx.cache), (2, 2));

    // Through #[cached]: an unsigned entry under the fn's key makes the body run.
    let calls = AtomicUsize::new(0);
    assert_eq!(profile(5, &unsigned, &calls).await, "profile of user 5");
    assert_eq!(profile(5, &fx.cache, &calls).await, "profile of user 5");
    assert_eq!(calls.load(SeqCst), 2);
    assert_eq!(refusals(&fx.cache), (3, 3));
}

/// A signed value copied to another key (same cache, same secret) does not verify there:
/// the MAC covers the key. The original still reads.
#[tokio::test]
async fn value_copied_to_another_key_is_refused() {
    let fx = signed().await;
    let c = &fx.cache;
    c.set("user:1:role", &"admin".to_owned(), None)
        .await
        .unwrap();
    let bytes = fx.raw_get(&fx.redis_key("user:1:role")).await.unwrap();
    fx.raw_set(&fx.redis_key("user:2:role"), &bytes).await;
    assert_eq!(c.get::<String>("user:2:role").await.unwrap(), None);
    assert_eq!(refusals(c), (1, 1));
    assert_eq!(fx.raw_exists("user:2:role").await, Some(false));
    assert_eq!(
        c.get::<String>("user:1:role").await.unwrap().as_deref(),
        Some("admin")
    );
    // get_many refuses it the same way, keeping the others.
    fx.raw_set(&fx.redis_key("user:3:role"), &bytes).await;
    assert_eq!(
        c.get_many::<String, _>(&["user:1:role", "user:3:role"])
            .await
            .unwrap(),
        vec![Some("admin".to_owned()), None]
    );
    assert_eq!(refusals(c), (2, 2));
}

/// A cache without a key reads signed entries by ignoring the MAC (it trusts its store, as
/// for unsigned entries); so does one that signs with the same secret.
#[tokio::test]
async fn signed_values_read_without_a_key() {
    let fx = signed().await;
    let calls = AtomicUsize::new(0);
    assert_eq!(page(3, &fx.cache, &calls).await, compressible(3));
    fx.cache.set("n", &11u64, None).await.unwrap();
    let plain = fx.another(|b| b.l1(false)).await;
    assert_eq!(plain.get::<u64>("n").await.unwrap(), Some(11));
    assert_eq!(page(3, &plain, &calls).await, compressible(3));
    let same = fx.another(|b| b.l1(false).signing_key(SECRET)).await;
    assert_eq!(same.get::<u64>("n").await.unwrap(), Some(11));
    assert_eq!(calls.load(SeqCst), 1);
    assert_eq!(refusals(&plain), (0, 0));
    assert_eq!(refusals(&same), (0, 0));
}

/// `signing_key` follows the rule of `CACHE_SIGNING_KEY`: a secret shorter than 16 bytes
/// (the empty one among them) fails `build`, for Redis and memory alike, with the same
/// words; 16 bytes are enough.
#[tokio::test]
async fn short_signing_keys_are_refused_like_the_variable() {
    let server = RedisServer::start();
    let config_error = |builder: CacheBuilder| async move {
        match builder.build().await {
            Err(Error::Config(message)) => message,
            Err(other) => panic!("expected a config error, got {other:?}"),
            Ok(_) => panic!("built"),
        }
    };
    for secret in ["", "hunter2", "fifteen bytes!!"] {
        let expected = format!(
            "signing_key is too short ({} bytes); use a random secret of at least 16 bytes",
            secret.len()
        );
        let redis = Cache::builder().redis_url(server.url()).signing_key(secret);
        assert_eq!(config_error(redis).await, expected);
        assert_eq!(
            config_error(Cache::builder().signing_key(secret)).await,
            expected
        );
    }
    let from_env = CacheBuilder::from_lookup(|name| {
        (name == "CACHE_SIGNING_KEY").then(|| "fifteen bytes!!".to_owned())
    });
    assert_eq!(
        from_env.unwrap_err().to_string(),
        "invalid cache configuration: CACHE_SIGNING_KEY is too short (15 bytes); use a random \
         secret of at least 16 bytes"
    );
    assert_eq!(cache_runtime::MIN_SIGNING_KEY_BYTES, 16);
    let cache = Cache::builder()
        .redis_url(server.url())
        .signing_key("sixteen bytes!!!")
        .build()
        .await
        .unwrap();
    cache.set("k", &1u8, None).await.unwrap();
    assert_eq!(cache.get::<u8>("k").await.unwrap(), Some(1));
}
