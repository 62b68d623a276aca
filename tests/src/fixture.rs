//! The backend one shared suite runs against, and helpers to check what it stored.
//!
//! Every test builds its own [`Fixture`]: a fresh memory cache, a fresh `redis-server` (or
//! `valkey-server`) process with a cache connected to it, or a cache on the test binary's
//! shared Redis Cluster (or Valkey cluster), which the fixture holds alone (tests on it run
//! one at a time) and finds empty. Counters therefore start at zero and no test sees another
//! test's entries.

use cache_runtime::{Cache, CacheBuilder, Stats};
use redis::aio::MultiplexedConnection;
use tokio::sync::MutexGuard;

use crate::cluster::RedisCluster;
use crate::kind::ServerKind;
use crate::raw::RawConn;
use crate::redis_server::RedisServer;

/// Held by every cluster fixture: the binary's one cluster serves one test at a time.
static CLUSTER_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
    /// The Redis Cluster behind `cache`, for the cluster fixtures; shared by the test binary.
    pub cluster: Option<&'static RedisCluster>,
    /// This test's turn on the shared cluster, released when the fixture drops.
    _turn: Option<MutexGuard<'static, ()>>,
}

impl Fixture {
    /// A memory cache with the default settings.
    pub fn memory() -> Fixture {
        let cache = Cache::memory();
        Fixture {
            prefix: cache.prefix().to_owned(),
            cache,
            server: None,
            cluster: None,
            _turn: None,
        }
    }

    /// A cache on a `redis-server` started for this fixture alone, Redis only (no L1), so
    /// every read reaches Redis.
    pub async fn redis() -> Fixture {
        Self::on(ServerKind::Redis).await
    }

    /// [`redis`](Fixture::redis) on a `valkey-server`.
    pub async fn valkey() -> Fixture {
        Self::on(ServerKind::Valkey).await
    }

    /// A cache on a server of `kind` started for this fixture alone, with no L1.
    pub async fn on(kind: ServerKind) -> Fixture {
        Self::on_with(kind, |b| b.l1(false)).await
    }

    /// A cache on its own `redis-server` with the in-process tier (L1) in front, as users
    /// get it by default. Waits until the backplane is subscribed.
    pub async fn tiered() -> Fixture {
        Self::tiered_on(ServerKind::Redis).await
    }

    /// [`tiered`](Fixture::tiered) on its own server of `kind`.
    pub async fn tiered_on(kind: ServerKind) -> Fixture {
        let fx = Self::on_with(kind, |b| b).await;
        fx.cache
            .wait_for_backplane(std::time::Duration::from_secs(5))
            .await;
        fx
    }

    /// A cache on its own `redis-server`, configured by `configure`.
    pub async fn redis_with(configure: impl FnOnce(CacheBuilder) -> CacheBuilder) -> Fixture {
        Self::on_with(ServerKind::Redis, configure).await
    }

    /// A cache on its own server of `kind`, configured by `configure`.
    pub async fn on_with(
        kind: ServerKind,
        configure: impl FnOnce(CacheBuilder) -> CacheBuilder,
    ) -> Fixture {
        Self::on_server(RedisServer::start_kind(kind, &[]), configure).await
    }

    /// A cache on `server` (started by the caller, with its own arguments), configured by
    /// `configure`.
    pub async fn on_server(
        server: RedisServer,
        configure: impl FnOnce(CacheBuilder) -> CacheBuilder,
    ) -> Fixture {
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
            cluster: None,
            _turn: None,
        }
    }

    /// A cache on the binary's shared 3-master Redis Cluster (started on first use), Redis
    /// only (no L1). Waits for its turn on the cluster and flushes every master first.
    pub async fn cluster() -> Fixture {
        Self::cluster_on(ServerKind::Redis).await
    }

    /// [`cluster`](Fixture::cluster) on the binary's shared cluster of servers of `kind`.
    pub async fn cluster_on(kind: ServerKind) -> Fixture {
        Self::cluster_on_with(kind, |b| b.l1(false)).await
    }

    /// A cache on the shared Redis Cluster with L1 in front; waits until the backplane is
    /// subscribed.
    pub async fn cluster_tiered() -> Fixture {
        Self::cluster_tiered_on(ServerKind::Redis).await
    }

    /// [`cluster_tiered`](Fixture::cluster_tiered) on the shared cluster of `kind`.
    pub async fn cluster_tiered_on(kind: ServerKind) -> Fixture {
        let fx = Self::cluster_on_with(kind, |b| b).await;
        fx.cache
            .wait_for_backplane(std::time::Duration::from_secs(5))
            .await;
        fx
    }

    /// A cache on the shared Redis Cluster, configured by `configure`.
    pub async fn cluster_with(configure: impl FnOnce(CacheBuilder) -> CacheBuilder) -> Fixture {
        Self::cluster_on_with(ServerKind::Redis, configure).await
    }

    /// A cache on the shared cluster of servers of `kind`, configured by `configure`.
    pub async fn cluster_on_with(
        kind: ServerKind,
        configure: impl FnOnce(CacheBuilder) -> CacheBuilder,
    ) -> Fixture {
        let turn = CLUSTER_TURN.lock().await;
        let cluster = tokio::task::spawn_blocking(move || {
            let cluster = RedisCluster::shared_kind(kind);
            cluster.flush_all();
            cluster
        })
        .await
        .unwrap_or_else(|e| panic!("starting the shared cluster: {e}"));
        let cache = configure(
            Cache::builder()
                .cluster_nodes(cluster.nodes())
                .prefix(REDIS_PREFIX)
                .require_redis(true),
        )
        .build()
        .await
        .unwrap_or_else(|e| panic!("connecting to the test cluster {:?}: {e}", cluster.nodes()));
        Fixture {
            cache,
            server: None,
            prefix: REDIS_PREFIX.to_owned(),
            cluster: Some(cluster),
            _turn: Some(turn),
        }
    }

    /// The server behind the cache (one server or a cluster); `None` for memory.
    pub fn kind(&self) -> Option<ServerKind> {
        match (&self.server, self.cluster) {
            (Some(server), _) => Some(server.kind()),
            (None, Some(cluster)) => Some(cluster.kind()),
            (None, None) => None,
        }
    }

    /// Whether the cache is on Redis (one server or a cluster), so raw keys can be checked.
    pub fn on_redis(&self) -> bool {
        self.server.is_some() || self.cluster.is_some()
    }

    /// The backend name the cache must report: `"memory"` or `"redis"` (a cluster is Redis).
    pub fn backend(&self) -> &'static str {
        if self.on_redis() {
            "redis"
        } else {
            "memory"
        }
    }

    /// A builder for another cache on the same backend and prefix (memory: a separate store).
    pub fn builder(&self) -> CacheBuilder {
        let builder = Cache::builder().prefix(self.prefix.as_str());
        match (&self.server, self.cluster) {
            (Some(server), _) => builder.redis_url(server.url()),
            (None, Some(cluster)) => builder.cluster_nodes(cluster.nodes()),
            (None, None) => builder,
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

    /// A raw connection to the fixture's Redis (or cluster), bypassing the cache; `None`
    /// for memory.
    pub async fn raw(&self) -> Option<RawConn> {
        if let Some(server) = &self.server {
            return Some(RawConn::Single(server.raw().await));
        }
        let cluster = self.cluster?;
        let conn = redis::cluster::ClusterClient::new(cluster.urls())
            .unwrap_or_else(|e| panic!("a cluster client for {:?}: {e}", cluster.urls()))
            .get_async_connection()
            .await
            .unwrap_or_else(|e| panic!("connecting to the cluster {:?}: {e}", cluster.urls()));
        Some(RawConn::Cluster(conn))
    }

    /// One plain connection per serving master (one connection for a single server); empty
    /// for memory. For what redis-rs does not route on a cluster: `SCAN`, `INFO`.
    pub async fn raw_nodes(&self) -> Vec<MultiplexedConnection> {
        let urls = match (&self.server, self.cluster) {
            (Some(server), _) => vec![server.url().to_owned()],
            (None, Some(cluster)) => cluster
                .masters()
                .iter()
                .map(|addr| format!("redis://{addr}"))
                .collect(),
            (None, None) => Vec::new(),
        };
        let mut conns = Vec::with_capacity(urls.len());
        for url in urls {
            let conn = redis::Client::open(url.as_str())
                .unwrap_or_else(|e| panic!("a client for {url}: {e}"))
                .get_multiplexed_async_connection()
                .await
                .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
            conns.push(conn);
        }
        conns
    }

    /// Pauses every client of the server for `ms` with `CLIENT PAUSE .. ALL` (the pausing
    /// connection is not paused): commands sent meanwhile wait in the server.
    pub async fn pause_clients(&self, ms: u64) {
        let mut raw = self.raw().await.expect("a Redis fixture");
        let () = redis::cmd("CLIENT")
            .arg("PAUSE")
            .arg(ms)
            .arg("ALL")
            .query_async(&mut raw)
            .await
            .unwrap_or_else(|e| panic!("CLIENT PAUSE: {e}"));
    }

    /// How many commands `name` (lower case, e.g. `"mget"`) every node has run so far, from
    /// `INFO commandstats` (summed over the masters of a cluster); `None` for memory.
    pub async fn command_calls(&self, name: &str) -> Option<u64> {
        if !self.on_redis() {
            return None;
        }
        let head = format!("cmdstat_{name}:");
        let mut total = 0;
        for mut conn in self.raw_nodes().await {
            let info: String = redis::cmd("INFO")
                .arg("commandstats")
                .query_async(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("INFO commandstats: {e}"));
            total += info
                .lines()
                .find_map(|l| l.strip_prefix(head.as_str()))
                .and_then(|l| l.strip_prefix("calls="))
                .and_then(|l| l.split(',').next())
                .map_or(0, |n| n.parse::<u64>().unwrap_or(0));
        }
        Some(total)
    }

    /// How many separate commands a multi-key command on `redis_keys` becomes: 1 on one
    /// server, one per distinct hash slot on a cluster (redis-rs splits it by slot).
    pub async fn commands_for_keys(&self, redis_keys: &[String]) -> u64 {
        if self.cluster.is_none() {
            return 1;
        }
        let mut conn = self.raw_conn().await;
        let mut slots = std::collections::BTreeSet::new();
        for key in redis_keys {
            let slot: u16 = redis::cmd("CLUSTER")
                .arg("KEYSLOT")
                .arg(key)
                .query_async(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("CLUSTER KEYSLOT: {e}"));
            slots.insert(slot);
        }
        slots.len() as u64
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

    /// How many Redis keys match the glob `pattern` (a full `SCAN` iteration of every node).
    pub async fn raw_count(&self, pattern: &str) -> usize {
        self.raw_scan(pattern).await.len()
    }

    /// Every key matching `pattern` on every node (every master of a cluster), sorted.
    async fn raw_scan(&self, pattern: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for mut conn in self.raw_nodes().await {
            keys.extend(scan(&mut conn, pattern).await);
        }
        keys.sort();
        keys
    }

    async fn raw_conn(&self) -> RawConn {
        self.raw()
            .await
            .unwrap_or_else(|| panic!("raw Redis access needs the Redis fixture"))
    }

    /// Every key in Redis (every master of a cluster), as raw key text, found with `SCAN`
    /// (sorted).
    pub async fn raw_keys(&self) -> Vec<String> {
        self.raw_scan("*").await
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
