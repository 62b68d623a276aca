//! What only makes sense on Redis: the exact key layout, raw bytes written by someone else,
//! TTLs as Redis sees them, SCAN batches, credentials in the URL, and Redis going away.
//! Every test starts its own `redis-server`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use cache_runtime::{cache_invalidate, cached, key_for, Cache, Error};
use cache_tests::fixture::{Counts, Fixture, REDIS_PREFIX};
use cache_tests::redis_server::RedisServer;

fn runs(calls: &AtomicUsize) -> usize {
    calls.load(SeqCst)
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cached(namespace = "users", version = 3, cache = cache, skip(cache))]
async fn user_name(id: u64, cache: &Cache) -> String {
    format!("user {id}")
}

#[cached(cache = cache, skip(cache))]
async fn default_ns(id: u64, cache: &Cache) -> u64 {
    id
}

/// `#[cached]` writes exactly `{prefix}:{namespace}:v{version}.{8 hex}:{32 hex}`, the key
/// `key_for` computes; manual keys are `{prefix}:{key}`; the default prefix is `cache`.
#[tokio::test]
async fn key_layout_in_redis() {
    let fx = Fixture::redis().await;
    user_name(42, &fx.cache).await;
    let keys = fx.raw_keys().await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let parts: Vec<&str> = keys[0].split(':').collect();
    assert_eq!(parts.len(), 4, "{keys:?}");
    assert_eq!((parts[0], parts[1]), (REDIS_PREFIX, "users"));
    let (version, ty) = parts[2].split_once('.').unwrap();
    assert_eq!(version, "v3");
    assert!(is_hex(ty, 8) && is_hex(parts[3], 32), "{keys:?}");
    let key = key_for::<String>("users", 3, &(42u64,)).unwrap();
    assert_eq!(keys[0], format!("{REDIS_PREFIX}:{key}"));

    default_ns(1, &fx.cache).await;
    fx.cache.set("user:42", &1u8, None).await.unwrap();
    let keys = fx.raw_keys().await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(
        keys.contains(&format!("{REDIS_PREFIX}:user:42")),
        "{keys:?}"
    );
    let default_key = key_for::<u64>("redis_only::default_ns", 1, &(1u64,)).unwrap();
    assert!(default_key
        .as_str()
        .starts_with("redis_only.default_ns:v1."));
    assert!(
        keys.contains(&format!("{REDIS_PREFIX}:{default_key}")),
        "{keys:?}"
    );

    let plain = Cache::builder()
        .redis_url(fx.server().url())
        .build()
        .await
        .unwrap();
    plain.set("k", &1u8, None).await.unwrap();
    assert!(fx.raw_keys().await.contains(&"cache:k".to_owned()));
}

#[cached(namespace = "corrupt", cache = cache, skip(cache, calls))]
async fn profile(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("profile {id}")
}

/// Bytes the cache did not write (garbage, truncated, future format, unknown flags, wrong
/// type, a forged huge length) are a miss: the key is deleted (raw EXISTS 0) and counted in
/// `decode_errors`; a `#[cached]` fn returns its body's value and replaces the entry.
#[tokio::test]
async fn foreign_bytes_are_misses_and_deleted() {
    let fx = Fixture::redis().await;
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    profile(1, c, &calls).await;
    let key = key_for::<String>("corrupt", 1, &(1u64,)).unwrap();
    let redis_key = fx.redis_key(key.as_str());
    let good = fx.raw_get(&redis_key).await.unwrap();
    assert_eq!(good[..4], [0xCA, 1, 0, 0]);

    let with = |i: usize, b: u8| {
        let mut bytes = good.clone();
        bytes[i] = b;
        bytes
    };
    let mut huge_len = good[..12].to_vec();
    huge_len.push(253);
    huge_len.extend_from_slice(&(1u64 << 40).to_le_bytes());
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"definitely not an envelope".to_vec()),
        ("empty", Vec::new()),
        ("header only", good[..12].to_vec()),
        ("truncated header", good[..5].to_vec()),
        ("truncated body", good[..good.len() - 1].to_vec()),
        ("trailing bytes", [good.as_slice(), &[0xFF]].concat()),
        ("future format", with(1, 2)),
        ("unknown flags", with(2, 1)),
        ("reserved byte", with(3, 1)),
        ("wrong magic", with(0, 0)),
        ("json", br#"{"id":1,"name":"x"}"#.to_vec()),
        ("huge length", huge_len),
    ];
    for (name, bytes) in &variants {
        fx.raw_set(&redis_key, bytes).await;
        let before = fx.counts();
        assert_eq!(c.get::<String>(&key).await.unwrap(), None, "{name}");
        let want = Counts {
            misses: 1,
            decode_errors: 1,
            ..Counts::default()
        };
        assert_eq!(fx.counts().since(before), want, "{name}");
        assert_eq!(fx.raw_exists(key.as_str()).await, Some(false), "{name}");

        fx.raw_set(&redis_key, bytes).await;
        let (before, ran) = (fx.counts(), runs(&calls));
        assert_eq!(profile(1, c, &calls).await, "profile 1", "{name}");
        assert_eq!(profile(1, c, &calls).await, "profile 1", "{name}");
        assert_eq!(runs(&calls) - ran, 1, "{name}");
        let want = Counts {
            decode_errors: 1,
            ..Counts::calls(1, 1, 1)
        };
        assert_eq!(fx.counts().since(before), want, "{name}");
    }
    assert_eq!(fx.counts().errors, 0);
}

/// An entry larger than the reading cache's `max_value_bytes` is a miss, deleted and counted.
#[tokio::test]
async fn entry_above_readers_limit_is_a_miss() {
    let fx = Fixture::redis().await;
    fx.cache.set("big", &vec![1u8; 4096], None).await.unwrap();
    let small = fx.another(|b| b.max_value_bytes(1024)).await;
    assert_eq!(small.get::<Vec<u8>>("big").await.unwrap(), None);
    assert_eq!(small.stats().decode_errors, 1);
    assert_eq!(fx.raw_exists("big").await, Some(false));
}

#[cached(ttl = "10m", namespace = "ttl.ten", cache = cache, skip(cache))]
async fn ten_minutes(id: u64, cache: &Cache) -> u64 {
    id
}

#[cached(namespace = "ttl.default", cache = cache, skip(cache))]
async fn default_ttl(id: u64, cache: &Cache) -> u64 {
    id
}

/// Redis holds the TTL asked for: `ttl = "10m"`, the cache's default (5 min, or the
/// builder's), and a manual `set`.
#[tokio::test]
async fn ttl_is_set_in_redis() {
    let fx = Fixture::redis().await;
    let pttl = |ns: &str| fx.redis_key(key_for::<u64>(ns, 1, &(1u64,)).unwrap().as_str());
    ten_minutes(1, &fx.cache).await;
    let ms = fx.raw_pttl(&pttl("ttl.ten")).await;
    // The default 5 % TTL jitter shortens #[cached] entries by up to 30 s of 10 min.
    assert!((565_000..=600_000).contains(&ms), "{ms}");
    default_ttl(1, &fx.cache).await;
    let ms = fx.raw_pttl(&pttl("ttl.default")).await;
    assert!((280_000..=300_000).contains(&ms), "{ms}");

    let short = fx
        .another(|b| b.default_ttl(Duration::from_secs(42)).prefix("short"))
        .await;
    default_ttl(1, &short).await;
    let key = key_for::<u64>("ttl.default", 1, &(1u64,)).unwrap();
    let ms = fx.raw_pttl(&format!("short:{key}")).await;
    // 5 % jitter of 42 s is up to 2.1 s (the bound was 40 s, and a run landed at 39.97 s).
    assert!((39_800..=42_000).contains(&ms), "{ms}");

    fx.cache
        .set("manual", &1u8, Some(Duration::from_secs(90)))
        .await
        .unwrap();
    let ms = fx.raw_pttl(&fx.redis_key("manual")).await;
    assert!((85_000..=90_000).contains(&ms), "{ms}");
    fx.cache
        .set_many(&[("many", 1u8)], Some(Duration::from_millis(1500)))
        .await
        .unwrap();
    let ms = fx.raw_pttl(&fx.redis_key("many")).await;
    assert!((1..=1500).contains(&ms), "{ms}");
}

/// `clear_namespace` and `clear_pattern` walk SCAN batches: thousands of keys go, keys of
/// other namespaces, other prefixes and other applications stay.
#[tokio::test]
async fn clears_span_scan_batches() {
    let fx = Fixture::redis().await;
    let c = &fx.cache;
    let entries = |ns: &'static str, n: u64| {
        (0..n).map(move |i| (key_for::<u64>(ns, 1 + (i % 2) as u32, &(i,)).unwrap(), i))
    };
    let bulk: Vec<_> = entries("bulk", 2_500).collect();
    c.set_many(&bulk, None).await.unwrap();
    c.set_many(&entries("bulk2", 1_200).collect::<Vec<_>>(), None)
        .await
        .unwrap();
    c.set_many(&entries("keep", 1_200).collect::<Vec<_>>(), None)
        .await
        .unwrap();
    let other = fx.another(|b| b.prefix("other")).await;
    other.set_many(&bulk, None).await.unwrap();
    fx.raw_set("bulk:foreign", b"x").await;

    assert_eq!(c.clear_namespace("bulk").await.unwrap(), 2_500);
    assert_eq!(fx.raw_count(&format!("{REDIS_PREFIX}:bulk:*")).await, 0);
    assert_eq!(
        fx.raw_count(&format!("{REDIS_PREFIX}:bulk2:*")).await,
        1_200
    );
    assert_eq!(fx.raw_count(&format!("{REDIS_PREFIX}:keep:*")).await, 1_200);
    assert_eq!(fx.raw_count("other:bulk:*").await, 2_500);
    assert_eq!(fx.raw_get("bulk:foreign").await, Some(b"x".to_vec()));

    let pages: Vec<(String, u32)> = (0..1_500).map(|i| (format!("page:{i}"), i)).collect();
    c.set_many(&pages, None).await.unwrap();
    assert_eq!(c.clear_pattern("page:*").await.unwrap(), 1_500);
    assert_eq!(fx.raw_count(&format!("{REDIS_PREFIX}:page:*")).await, 0);
    assert_eq!(c.clear_pattern("*").await.unwrap(), 2_400);
    assert_eq!(fx.stored_keys().await.len(), 0);
    assert_eq!(fx.raw_count("other:*").await, 2_500);
    assert_eq!(fx.raw_get("bulk:foreign").await, Some(b"x".to_vec()));
}

/// `?`, `[`, `]` and `\` in a pattern match only themselves in Redis too.
#[tokio::test]
async fn patterns_do_not_widen_in_redis() {
    let fx = Fixture::redis().await;
    let c = &fx.cache;
    for key in ["a?1", "ab1", "a[b]1", "a]1", "a\\1", "a\\\\1", "a*1"] {
        c.set(key, &1u8, None).await.unwrap();
    }
    assert_eq!(c.clear_pattern("a?1").await.unwrap(), 1);
    assert_eq!(fx.raw_exists("ab1").await, Some(true));
    assert_eq!(c.clear_pattern("a[b]*").await.unwrap(), 1);
    assert_eq!(fx.raw_exists("ab1").await, Some(true));
    assert_eq!(c.clear_pattern("a\\1").await.unwrap(), 1);
    assert_eq!(fx.raw_exists("a\\\\1").await, Some(true));
    assert_eq!(fx.stored_keys().await, ["a*1", "a\\\\1", "a]1", "ab1"]);
}

/// A password in the URL authenticates; a wrong or missing one fails at `build()` with a
/// store error that never shows the password.
#[tokio::test]
async fn password_in_url() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret"]);
    let port = server.port();
    let good = format!("redis://:s3cret@127.0.0.1:{port}");
    let cache = Cache::builder().redis_url(&good).build().await.unwrap();
    cache.set("k", &5u8, None).await.unwrap();
    assert_eq!(cache.get::<u8>("k").await.unwrap(), Some(5));
    assert!(!format!("{cache:?}").contains("s3cret"), "{cache:?}");

    for url in [
        format!("redis://:hunter2-wrong@127.0.0.1:{port}"),
        format!("redis://127.0.0.1:{port}"),
    ] {
        let err = Cache::builder().redis_url(&url).build().await.unwrap_err();
        assert!(matches!(err, Error::Store(_)), "{err:?}");
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(
                !text.contains("hunter2") && !text.contains("s3cret"),
                "{text}"
            );
            assert!(text.contains(&port.to_string()), "names the server: {text}");
        }
    }
}

/// An ACL user in the URL (`redis://user:pass@host`) is who the cache connects as.
#[tokio::test]
async fn acl_user_in_url() {
    let server = RedisServer::start();
    let mut raw = server.raw().await;
    let () = redis::cmd("ACL")
        .arg(&["SETUSER", "app", "on", ">pw-app", "~*", "+@all"])
        .query_async(&mut raw)
        .await
        .unwrap();
    let url = format!("redis://app:pw-app@127.0.0.1:{}", server.port());
    let cache = Cache::builder().redis_url(&url).build().await.unwrap();
    cache.set("k", &"v".to_owned(), None).await.unwrap();
    assert_eq!(
        cache.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );
    let clients: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(clients.contains("user=app"), "{clients}");

    let wrong = format!("redis://app:pw-wrong@127.0.0.1:{}", server.port());
    let err = Cache::builder()
        .redis_url(&wrong)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("pw-wrong"), "{err:?}");
}

#[cached(namespace = "down", cache = cache, skip(cache, calls))]
async fn survives(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id * 10
}

#[cache_invalidate(survives(id), namespace = "down", tags = ["t:{id}"], cache = cache)]
async fn write_through(id: u64, cache: &Cache) -> Result<u64, String> {
    Ok(id)
}

/// Redis killed under a running cache: a `#[cached]` fn still returns its body's value on
/// every call, quickly, and every call adds to `errors`; the manual API reports `Store`.
/// (The circuit breaker is off here, so that every operation reaches the dead server; the
/// fault tests in `faults.rs` cover the breaker.)
#[tokio::test]
async fn redis_down_fails_open() {
    let mut fx = Fixture::redis_with(|b| b.l1(false).circuit_threshold(0)).await;
    let calls = AtomicUsize::new(0);
    assert_eq!(survives(1, &fx.cache, &calls).await, 10);
    assert_eq!(survives(1, &fx.cache, &calls).await, 10);
    assert_eq!(runs(&calls), 1);
    drop(fx.server.take());

    for i in 1..=3 {
        let before = fx.counts();
        let value = tokio::time::timeout(Duration::from_secs(10), survives(1, &fx.cache, &calls))
            .await
            .expect("a cached call with Redis down must not hang");
        assert_eq!(value, 10);
        assert_eq!(runs(&calls), 1 + i);
        let delta = fx.counts().since(before);
        assert!(delta.errors >= 1, "call {i}: {delta:?}");
        assert_eq!((delta.hits, delta.writes), (0, 0), "call {i}: {delta:?}");
    }
    // An invalidating fn returns its body's result; each failed invalidation is counted.
    let before = fx.counts();
    let result = tokio::time::timeout(Duration::from_secs(10), write_through(1, &fx.cache))
        .await
        .expect("an invalidation with Redis down must not hang");
    assert_eq!(result, Ok(1));
    assert_eq!(
        fx.counts().since(before).errors,
        6,
        "key, namespace and tag: each the store operation and its backplane message"
    );
    let err = fx.cache.get::<u64>("k").await.unwrap_err();
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert!(matches!(fx.cache.ping().await, Err(Error::Store(_))));
}

/// With `require_redis(true)`, `build()` against a port where nothing listens fails with
/// `Error::Store`, in bounded time.
#[tokio::test]
async fn build_fails_when_nothing_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    let built = tokio::time::timeout(
        Duration::from_secs(10),
        Cache::builder().redis_url(&url).require_redis(true).build(),
    )
    .await
    .expect("build() must give up within its connect timeout");
    let err = built.unwrap_err();
    assert!(matches!(err, Error::Store(_)), "{err:?}");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
}

/// Two caches on one Redis (two processes) share entries; another prefix does not.
#[tokio::test]
async fn caches_on_one_redis_share_entries() {
    let fx = Fixture::redis().await;
    let calls = AtomicUsize::new(0);
    let peer = fx.another(|b| b).await;
    let stranger = fx.another(|b| b.prefix("stranger")).await;
    assert_eq!(survives(2, &fx.cache, &calls).await, 20);
    assert_eq!(survives(2, &peer, &calls).await, 20);
    assert_eq!(runs(&calls), 1);
    assert_eq!(Counts::of(&peer.stats()), Counts::reads(1, 0));
    assert_eq!(survives(2, &stranger, &calls).await, 20);
    assert_eq!(runs(&calls), 2);
    assert_eq!(peer.clear_namespace("down").await.unwrap(), 1);
    assert_eq!(
        stranger
            .get::<u64>(key_for::<u64>("down", 1, &(2u64,)).unwrap())
            .await
            .unwrap(),
        Some(20)
    );
}

/// Redis that accepts connections but never answers (a stopped process): a `#[cached]` call
/// returns its body's value within the response timeout (twice: read and write) plus slack.
#[tokio::test]
async fn unresponsive_redis_fails_open_within_timeout() {
    let fx = Fixture::redis().await;
    let cache = fx
        .another(|b| b.response_timeout(Duration::from_millis(200)).l1(false))
        .await;
    let calls = AtomicUsize::new(0);
    assert_eq!(survives(3, &cache, &calls).await, 30);
    fx.server().pause();
    for i in 1..=3 {
        let before = Counts::of(&cache.stats());
        let started = std::time::Instant::now();
        let value =
            tokio::time::timeout(Duration::from_secs(10), survives(3, &cache, &calls)).await;
        let elapsed = started.elapsed();
        assert_eq!(value.ok(), Some(30), "call {i} hung for {elapsed:?}");
        assert!(
            elapsed < Duration::from_secs(2),
            "call {i} took {elapsed:?}"
        );
        assert!(Counts::of(&cache.stats()).since(before).errors >= 1);
    }
    assert_eq!(runs(&calls), 4);
    fx.server().resume();
}

/// A key holding a fill lease (a miss whose body is still running: the lease's shape, with
/// a TTL) does not `exist` and is a miss for `get`; the lease stays.
#[tokio::test]
async fn a_fill_in_progress_is_not_an_entry() {
    let fx = Fixture::redis().await;
    let mut lease = b"\xCBcache-lease:".to_vec();
    lease.extend_from_slice(&[b'0'; 48]);
    let mut raw = fx.raw().await.unwrap();
    let () = redis::cmd("SET")
        .arg(fx.redis_key("filling"))
        .arg(&lease)
        .arg("PX")
        .arg(60_000)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(!fx.cache.exists("filling").await.unwrap());
    assert_eq!(fx.cache.get::<u64>("filling").await.unwrap(), None);
    assert_eq!(fx.cache.stats().decode_errors, 0);
    assert_eq!(
        fx.raw_exists("filling").await,
        Some(true),
        "the lease stays"
    );
    fx.cache.set("filled", &1u64, None).await.unwrap();
    assert!(fx.cache.exists("filled").await.unwrap());
}

/// A server that forgot the scripts (`SCRIPT FLUSH`, as after a restart or a failover) gets
/// each one loaded again by the first call that needs it: the fill is stored, `exists`
/// answers, and nothing counts as an error.
#[tokio::test]
async fn scripts_are_loaded_again_after_script_flush() {
    let fx = Fixture::redis().await;
    let cache = fx.another(|b| b.l1(false)).await;
    assert_eq!(user_name(1, &cache).await, "user 1");
    let mut raw = fx.raw().await.unwrap();
    let () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut raw)
        .await
        .unwrap();
    let loads = fx.command_calls("script|load").await.unwrap();
    let before = Counts::of(&cache.stats());

    assert_eq!(user_name(2, &cache).await, "user 2");
    let key = key_for::<String>("users", 3, &(2u64,)).unwrap();
    fx.assert_stored(key.as_str()).await;
    assert!(cache.exists(&key).await.unwrap());
    assert_eq!(user_name(2, &cache).await, "user 2");

    assert_eq!(
        Counts::of(&cache.stats()).since(before),
        Counts::calls(1, 1, 1)
    );
    // The fill's compare-and-set and the `exists` script, once each.
    assert_eq!(fx.command_calls("script|load").await.unwrap(), loads + 2);
}
