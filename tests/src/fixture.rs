//! The backend one shared suite runs against, and helpers to check what it stored.
//!
//! Every test builds its own [`Fixture`]: a fresh memory cache, or a fresh `redis-server`
//! process with a cache connected to it. Counters therefore start at zero and no test sees
//! another test's entries.

use cache_runtime::{Cache, CacheBuilder, Stats};
use redis::aio::MultiplexedConnection;

use crate::redis_server::RedisServer;

/// The key prefix of the Redis fixture's cache (not the default, so the prefix is exercised).
pub const REDIS_PREFIX: &str = "it.cache";

/// A fresh cache on one backend, with the server behind it when there is one.
pub struct Fixture {
    /// The cache under test.
    pub cache: Cache,
    /// The `redis-server` behind `cache`; `None` for the memory store. Dropping it kills it.
    pub server: Option<RedisServer>,
    /// The prefix `cache` puts before every key (Redis keys read `{prefix}:{key}`).
    pub prefix: String,
}

impl Fixture {
    /// A memory cache with the default settings.
    pub fn memory() -> Fixture {
        let cache = Cache::memory();
        Fixture {
            prefix: cache.prefix().to_owned(),
            cache,
            server: None,
        }
    }

    /// A cache on a `redis-server` started for this fixture alone, Redis only (no L1), so
    /// every read reaches Redis.
    pub async fn redis() -> Fixture {
        Self::redis_with(|b| b.l1(false)).await
    }

    /// A cache on its own `redis-server` with the in-process tier (L1) in front, as users
    /// get it by default. Waits until the backplane is subscribed.
    pub async fn tiered() -> Fixture {
        let fx = Self::redis_with(|b| b).await;
        fx.cache
            .wait_for_backplane(std::time::Duration::from_secs(5))
            .await;
        fx
    }

    /// A cache on its own `redis-server`, configured by `configure`.
    pub async fn redis_with(configure: impl FnOnce(CacheBuilder) -> CacheBuilder) -> Fixture {
        let server = RedisServer::start();
        let cache = configure(
            Cache::builder()
                .redis_url(server.url())
                .prefix(REDIS_PREFIX),
        )
        .build()
        .await
        .unwrap_or_else(|e| panic!("connecting to the test server {}: {e}", server.url()));
        Fixture {
            cache,
            server: Some(server),
            prefix: REDIS_PREFIX.to_owned(),
        }
    }

    /// The backend name the cache must report: `"memory"` or `"redis"`.
    pub fn backend(&self) -> &'static str {
        if self.server.is_some() {
            "redis"
        } else {
            "memory"
        }
    }

    /// A builder for another cache on the same backend and prefix (memory: a separate store).
    pub fn builder(&self) -> CacheBuilder {
        let builder = Cache::builder().prefix(self.prefix.as_str());
        match &self.server {
            Some(server) => builder.redis_url(server.url()),
            None => builder,
        }
    }

    /// Another cache on the same backend, configured by `configure`.
    pub async fn another(&self, configure: impl FnOnce(CacheBuilder) -> CacheBuilder) -> Cache {
        configure(self.builder())
            .build()
            .await
            .unwrap_or_else(|e| panic!("building another {} cache: {e}", self.backend()))
    }

    /// The counters of the fixture's cache now.
    pub fn counts(&self) -> Counts {
        Counts::of(&self.cache.stats())
    }

    /// The Redis server, for tests that only make sense on Redis.
    pub fn server(&self) -> &RedisServer {
        self.server
            .as_ref()
            .unwrap_or_else(|| panic!("this check needs the Redis fixture"))
    }

    /// A raw connection to the fixture's Redis, bypassing the cache; `None` for memory.
    pub async fn raw(&self) -> Option<MultiplexedConnection> {
        match &self.server {
            Some(server) => Some(server.raw().await),
            None => None,
        }
    }

    /// `{prefix}:{key}`: the Redis key the cache uses for `key`.
    pub fn redis_key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }

    /// Raw `EXISTS {prefix}:{key}`; `None` on the memory store.
    pub async fn raw_exists(&self, key: &str) -> Option<bool> {
        let mut conn = self.raw().await?;
        let n: u64 = redis::cmd("EXISTS")
            .arg(self.redis_key(key))
            .query_async(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("raw EXISTS: {e}"));
        Some(n == 1)
    }

    /// Asserts that `key` holds an entry: through the cache, and on Redis as the raw key
    /// `{prefix}:{key}`.
    pub async fn assert_stored(&self, key: &str) {
        assert!(
            self.cache.exists(key).await.unwrap(),
            "{key:?} is not in the {} cache",
            self.backend()
        );
        if let Some(found) = self.raw_exists(key).await {
            assert!(found, "raw EXISTS {:?} is 0", self.redis_key(key));
        }
    }

    /// Asserts that `key` holds no entry, through the cache and (on Redis) raw.
    pub async fn assert_not_stored(&self, key: &str) {
        assert!(
            !self.cache.exists(key).await.unwrap(),
            "{key:?} is unexpectedly in the {} cache",
            self.backend()
        );
        if let Some(found) = self.raw_exists(key).await {
            assert!(!found, "raw EXISTS {:?} is 1", self.redis_key(key));
        }
    }

    /// Raw `GET` of the Redis key `redis_key` (full key text, prefix included).
    pub async fn raw_get(&self, redis_key: &str) -> Option<Vec<u8>> {
        let mut conn = self.raw_conn().await;
        redis::cmd("GET")
            .arg(redis_key)
            .query_async(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("raw GET: {e}"))
    }

    /// Raw `SET` of the Redis key `redis_key` to `bytes`, without expiry.
    pub async fn raw_set(&self, redis_key: &str, bytes: &[u8]) {
        let mut conn = self.raw_conn().await;
        let () = redis::cmd("SET")
            .arg(redis_key)
            .arg(bytes)
            .query_async(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("raw SET: {e}"));
    }

    /// Raw `PTTL` of the Redis key `redis_key`, in milliseconds (-2: no key, -1: no expiry).
    pub async fn raw_pttl(&self, redis_key: &str) -> i64 {
        let mut conn = self.raw_conn().await;
        redis::cmd("PTTL")
            .arg(redis_key)
            .query_async(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("raw PTTL: {e}"))
    }

    /// How many Redis keys match the glob `pattern` (a full `SCAN` iteration).
    pub async fn raw_count(&self, pattern: &str) -> usize {
        scan(&mut self.raw_conn().await, pattern).await.len()
    }

    async fn raw_conn(&self) -> MultiplexedConnection {
        self.raw()
            .await
            .unwrap_or_else(|| panic!("raw Redis access needs the Redis fixture"))
    }

    /// Every key in Redis, as raw key text, found with `SCAN` (sorted).
    pub async fn raw_keys(&self) -> Vec<String> {
        scan(&mut self.raw_conn().await, "*").await
    }

    /// The cache keys (after `{prefix}:`) of every entry in Redis under the fixture's prefix.
    pub async fn stored_keys(&self) -> Vec<String> {
        let head = format!("{}:", self.prefix);
        self.raw_keys()
            .await
            .into_iter()
            .filter_map(|k| k.strip_prefix(&head).map(str::to_owned))
            .collect()
    }
}

/// Every key matching the Redis glob `pattern`, with a full `SCAN` iteration (sorted).
pub async fn scan(conn: &mut MultiplexedConnection, pattern: &str) -> Vec<String> {
    let mut cursor = 0u64;
    let mut keys = Vec::new();
    loop {
        let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .unwrap_or_else(|e| panic!("raw SCAN {pattern:?}: {e}"));
        keys.extend(
            batch
                .iter()
                .map(|k| String::from_utf8_lossy(k).into_owned()),
        );
        if next == 0 {
            keys.sort();
            keys.dedup();
            return keys;
        }
        cursor = next;
    }
}

/// The counters a test asserts on, as a value that can be compared and subtracted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// [`Stats::hits`].
    pub hits: u64,
    /// [`Stats::misses`].
    pub misses: u64,
    /// [`Stats::writes`].
    pub writes: u64,
    /// [`Stats::errors`].
    pub errors: u64,
    /// [`Stats::decode_errors`].
    pub decode_errors: u64,
    /// [`Stats::oversized`].
    pub oversized: u64,
}

impl Counts {
    /// The counters of a stats snapshot.
    pub fn of(stats: &Stats) -> Counts {
        Counts {
            hits: stats.hits,
            misses: stats.misses,
            writes: stats.writes,
            errors: stats.errors,
            decode_errors: stats.decode_errors,
            oversized: stats.oversized,
        }
    }

    /// What changed since `before` (counters never go down).
    pub fn since(self, before: Counts) -> Counts {
        let d = |now: u64, then: u64| {
            now.checked_sub(then)
                .unwrap_or_else(|| panic!("a counter went down: {then} -> {now}"))
        };
        Counts {
            hits: d(self.hits, before.hits),
            misses: d(self.misses, before.misses),
            writes: d(self.writes, before.writes),
            errors: d(self.errors, before.errors),
            decode_errors: d(self.decode_errors, before.decode_errors),
            oversized: d(self.oversized, before.oversized),
        }
    }

    /// Only hits and misses (the rest zero), for `assert_eq!` against a delta.
    pub fn reads(hits: u64, misses: u64) -> Counts {
        Counts {
            hits,
            misses,
            ..Counts::default()
        }
    }

    /// Hits, misses and writes (the rest zero): the usual shape of a `#[cached]` delta.
    pub fn calls(hits: u64, misses: u64, writes: u64) -> Counts {
        Counts {
            hits,
            misses,
            writes,
            ..Counts::default()
        }
    }
}
