//! [`CacheBuilder`]: settings, validation, and construction of a [`Cache`].

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cache::{Cache, Inner};
use crate::error::{Error, Result};
use crate::observe::stats::Counters;
use crate::store::memory::{MemoryBounds, MemoryStore};
use crate::store::Backend;

mod sentinel;

/// Builds a [`Cache`]. Setters are nouns; finish with [`build`](CacheBuilder::build).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> cache_runtime::Result<()> {
/// use std::time::Duration;
/// let cache = cache_runtime::Cache::builder()
///     .prefix("myapp")
///     .default_ttl(Duration::from_secs(60))
///     .build()
///     .await?;
/// assert_eq!(cache.backend(), "memory");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CacheBuilder {
    pub(crate) redis_url: Option<String>,
    pub(crate) cluster_nodes: Option<Vec<String>>,
    /// The sentinels and the name of the master they monitor.
    pub(crate) sentinel: Option<(Vec<String>, String)>,
    pub(crate) prefix: String,
    pub(crate) default_ttl: Duration,
    pub(crate) max_value_bytes: usize,
    pub(crate) memory_capacity: u64,
    pub(crate) memory_max_bytes: u64,
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
    pub(crate) lease_time: Duration,
    pub(crate) l1: bool,
    pub(crate) l1_ttl: Duration,
    pub(crate) l1_capacity: u64,
    pub(crate) l1_max_bytes: u64,
    pub(crate) fallback_ttl: Duration,
    pub(crate) l1_tracking: bool,
    pub(crate) lock_wait: Duration,
    pub(crate) ttl_jitter: f64,
    pub(crate) stats_sample_every: u32,
    pub(crate) operation_timeout: Duration,
    pub(crate) coalesce_reads: bool,
    pub(crate) max_reads_in_flight: usize,
    pub(crate) circuit_threshold: u32,
    pub(crate) circuit_cool_down: Duration,
    pub(crate) require_redis: bool,
    pub(crate) redis_username: Option<String>,
    pub(crate) redis_password: Option<String>,
    pub(crate) tls_root_cert: Option<Vec<u8>>,
    #[cfg(feature = "tls")]
    pub(crate) tls_client_cert: Option<crate::store::redis::tls::ClientCert>,
    pub(crate) compress_threshold: Option<usize>,
    pub(crate) signing_key: Option<[u8; 32]>,
    /// The length of the secret given to `signing_key`, checked by `build`.
    pub(crate) signing_secret_len: usize,
    pub(crate) max_depth: u32,
}

impl std::fmt::Debug for CacheBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("redis_url", &self.redis_url.as_deref().map(redact))
            .field("cluster_nodes", &self.cluster_nodes)
            .field("sentinel", &self.sentinel_description())
            .field("prefix", &self.prefix)
            .field("default_ttl", &self.default_ttl)
            .field("max_value_bytes", &self.max_value_bytes)
            .field("memory_capacity", &self.memory_capacity)
            .field("memory_max_bytes", &self.memory_max_bytes)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("lease_time", &self.lease_time)
            .field("l1", &self.l1)
            .field("l1_ttl", &self.l1_ttl)
            .field("fallback_ttl", &self.fallback_ttl)
            .field("l1_capacity", &self.l1_capacity)
            .field("l1_max_bytes", &self.l1_max_bytes)
            .field("l1_tracking", &self.l1_tracking)
            .field("lock_wait", &self.lock_wait)
            .field("ttl_jitter", &self.ttl_jitter)
            .field("operation_timeout", &self.operation_timeout)
            .field("circuit_threshold", &self.circuit_threshold)
            .field("circuit_cool_down", &self.circuit_cool_down)
            .field("require_redis", &self.require_redis)
            .field("redis_username", &self.redis_username)
            .field(
                "redis_password",
                &self.redis_password.as_ref().map(|_| "***"),
            )
            .field("tls_root_cert", &self.tls_root_cert.as_ref().map(Vec::len))
            .field("tls_client_cert", &self.has_client_cert().then_some("***"))
            .field("compress_threshold", &self.compress_threshold)
            .field("signing_key", &self.signing_key.as_ref().map(|_| "***"))
            .field("max_depth", &self.max_depth)
            .finish()
    }
}

fn redact(url: &str) -> String {
    #[cfg(feature = "redis")]
    {
        crate::store::redis::redact_url(url)
    }
    #[cfg(not(feature = "redis"))]
    {
        url.split('@').next_back().unwrap_or_default().to_owned()
    }
}

/// Why `prefix` is not a valid key prefix, if it is not.
///
/// A prefix is one segment: every Redis key of a cache is its prefix followed by `:` (entries,
/// manual keys) or `#` (tag indexes), and its backplane channel is `{prefix}:#backplane`. A
/// prefix without `:`, `#` or a glob character therefore ends at the first `:` or `#` of any
/// key, so two caches with different prefixes on one Redis never share a key, a SCAN pattern or
/// a channel. With `:` allowed, the cache `app` would read, list and clear the keys of the cache
/// `app:t` as its own keys `t:...`.
pub(crate) fn prefix_problem(prefix: &str) -> Option<String> {
    if prefix.is_empty() || prefix.len() > 64 {
        return Some(format!(
            "must be 1 to 64 characters, got {} characters",
            prefix.len()
        ));
    }
    prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .map(|c| {
            format!(
                "{prefix:?} contains {c:?}; use letters, digits, `_`, `-` and `.` (the prefix is \
                 one key segment: `:` and `#` end it, so a prefix holding them would overlap \
                 another cache's keys)"
            )
        })
}

/// The shortest secret [`CacheBuilder::signing_key`] (and `CACHE_SIGNING_KEY`) accepts, in
/// bytes.
pub const MIN_SIGNING_KEY_BYTES: usize = 16;

/// Why a signing secret of `len` bytes is refused, if it is.
pub(crate) fn signing_key_problem(len: usize) -> Option<String> {
    (len < MIN_SIGNING_KEY_BYTES).then(|| {
        format!(
            "is too short ({len} bytes); use a random secret of at least \
             {MIN_SIGNING_KEY_BYTES} bytes"
        )
    })
}

/// Default TTL: 5 minutes.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// Default TTL of the outage fallback (see [`CacheBuilder::fallback_ttl`]): 5 seconds.
pub(crate) const DEFAULT_FALLBACK_TTL: Duration = Duration::from_secs(5);
/// Default maximum encoded value size: 8 MiB.
pub const DEFAULT_MAX_VALUE_BYTES: usize = 8 << 20;
/// Default hard deadline of one cache operation against Redis: 250 ms.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_millis(250);
/// Default size above which encoded values are compressed: 1 KiB.
pub const DEFAULT_COMPRESS_THRESHOLD: usize = 1024;
/// Default deepest nesting of a decoded value: 128 levels (see
/// [`CacheBuilder::max_depth`]).
pub const DEFAULT_MAX_DEPTH: u32 = 128;

impl Default for CacheBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl CacheBuilder {
    /// The defaults: memory store, prefix `cache`, TTL 5 minutes, values up to 8 MiB, memory
    /// store bounded at 100,000 entries and 256 MiB; Redis: connect timeout 250 ms, response
    /// timeout 500 ms, operation timeout 250 ms, circuit opening after 5 consecutive failures
    /// for 1 s, fail-open when Redis does not answer at build time.
    pub fn new() -> Self {
        CacheBuilder {
            redis_url: None,
            cluster_nodes: None,
            sentinel: None,
            prefix: "cache".to_owned(),
            default_ttl: DEFAULT_TTL,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            memory_capacity: 100_000,
            memory_max_bytes: 256 << 20,
            connect_timeout: Duration::from_millis(250),
            response_timeout: Duration::from_millis(500),
            lease_time: Duration::from_secs(30),
            l1: true,
            l1_ttl: Duration::from_secs(30),
            l1_capacity: 10_000,
            l1_max_bytes: 64 << 20,
            fallback_ttl: DEFAULT_FALLBACK_TTL,
            l1_tracking: true,
            lock_wait: Duration::from_secs(5),
            stats_sample_every: 16,
            ttl_jitter: 0.05,
            operation_timeout: DEFAULT_OPERATION_TIMEOUT,
            circuit_threshold: 5,
            coalesce_reads: true,
            max_reads_in_flight: 2,
            circuit_cool_down: Duration::from_secs(1),
            require_redis: false,
            redis_username: None,
            redis_password: None,
            tls_root_cert: None,
            #[cfg(feature = "tls")]
            tls_client_cert: None,
            compress_threshold: Some(DEFAULT_COMPRESS_THRESHOLD),
            signing_key: None,
            signing_secret_len: 0,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// Use Redis at `url` (`redis://[user:password@]host:port[/db]`) instead of memory.
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(url.into());
        self
    }

    /// Use the Redis Cluster these nodes belong to (feature `cluster`): entries `host:port`
    /// or `redis://host:port`, or all of them `rediss://host:port` for TLS (feature `tls`;
    /// [`tls_root_cert`](CacheBuilder::tls_root_cert) applies to every node), at least one;
    /// the rest of the cluster is discovered from them.
    /// [`redis_username`](CacheBuilder::redis_username) and
    /// [`redis_password`](CacheBuilder::redis_password) apply to every node.
    ///
    /// Tags work as on one node: an entry and its tag indexes lie in different slots, so
    /// each index is written in a single-slot pipeline of its own.
    #[cfg(feature = "cluster")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cluster")))]
    pub fn cluster_nodes(mut self, nodes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.cluster_nodes = Some(nodes.into_iter().map(Into::into).collect());
        self
    }

    /// The prefix of every key (default `cache`): 1 to 64 letters, digits, `_`, `-` and `.`.
    ///
    /// Keys on Redis read `{prefix}:{key}`, tag indexes `{prefix}#tag:{tag}`. A prefix is one
    /// segment, without `:` or `#`, so caches with different prefixes on one Redis never read,
    /// list, clear or delete each other's keys: write `myapp.sessions`, not `myapp:sessions`.
    /// Anything else fails [`build`](CacheBuilder::build) with
    /// [`Error::Config`](crate::Error::Config).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The TTL of entries written without one (default 5 minutes).
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// The largest encoded value that is cached (default 8 MiB); larger values are not
    /// stored and are counted in [`Stats::oversized`](crate::Stats::oversized).
    pub fn max_value_bytes(mut self, bytes: usize) -> Self {
        self.max_value_bytes = bytes;
        self
    }

    /// The most entries the memory store holds (default 100,000).
    pub fn memory_capacity(mut self, entries: u64) -> Self {
        self.memory_capacity = entries;
        self
    }

    /// The most bytes the memory store holds (default 256 MiB): keys, encoded values and tags
    /// (each tag's text twice, for the entry's copy and the tag index's), plus a fixed cost
    /// per entry and per tag. [`Stats::bytes`](crate::Stats::bytes) reports this weight.
    pub fn memory_max_bytes(mut self, bytes: u64) -> Self {
        self.memory_max_bytes = bytes;
        self
    }

    /// How long a Redis connection attempt may take (default 250 ms).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a Redis command may wait for its reply (default 500 ms). Every command also
    /// runs under the [operation timeout](CacheBuilder::operation_timeout) (default 250 ms),
    /// which covers the reply as well: this limit only matters when it is the shorter one.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How long a `#[cached]` miss holds its fill lease (default 30 s). A body that runs
    /// longer still returns its value, but does not store it: the lease, which makes sure no
    /// value computed before an invalidation is stored after it, has lapsed.
    pub fn lease_time(mut self, time: Duration) -> Self {
        self.lease_time = time;
        self
    }

    /// With Redis: keep an in-process tier (L1) in front of it (default on). Changes of a key
    /// in Redis reach every process's L1 through client tracking (see
    /// [`l1_tracking`](CacheBuilder::l1_tracking)).
    pub fn l1(mut self, enabled: bool) -> Self {
        self.l1 = enabled;
        self
    }

    /// The longest an entry stays in L1 (default 30 s; never longer than its Redis TTL).
    pub fn l1_ttl(mut self, ttl: Duration) -> Self {
        self.l1_ttl = ttl;
        self
    }

    /// With Redis: while the circuit breaker skips Redis, keep each `#[cached]` value (and
    /// [`get_or_compute`](crate::Cache::get_or_compute)'s) in process memory for this long
    /// (default 5 s, never longer than the function's TTL), so that an outage does not run
    /// every call's body. `Duration::ZERO` turns it off. Entries are never served once Redis
    /// answers again, and invalidations through this cache drop them; the store is bounded
    /// like L1 ([`l1_capacity`](CacheBuilder::l1_capacity),
    /// [`l1_max_bytes`](CacheBuilder::l1_max_bytes)). Its hits and entries are in
    /// [`Stats::fallback_hits`](crate::Stats::fallback_hits) and
    /// [`Stats::fallback_entries`](crate::Stats::fallback_entries). Environment:
    /// `CACHE_FALLBACK_TTL`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use cache_runtime::Cache;
    ///
    /// let builder = Cache::builder()
    ///     .redis_url("redis://127.0.0.1:6379")
    ///     .fallback_ttl(Duration::from_secs(2));
    /// # let _ = builder;
    /// ```
    pub fn fallback_ttl(mut self, ttl: Duration) -> Self {
        self.fallback_ttl = ttl;
        self
    }

    /// The most entries L1 holds (default 10,000).
    pub fn l1_capacity(mut self, entries: u64) -> Self {
        self.l1_capacity = entries;
        self
    }

    /// Whether L1 follows Redis itself through server-assisted client-side caching
    /// (`CLIENT TRACKING`, default on): every change of a key in Redis, by any client and
    /// for any reason (a write, a `DEL`, an expiry, an eviction, `FLUSHALL`), drops its L1
    /// copies. Off, or on a server that refuses tracking, only this framework's own
    /// invalidations (the backplane) do. [`Cache::stats`](crate::Cache::stats) tells which
    /// one is in use; see `docs/coherence.md`.
    ///
    /// ```
    /// let builder = cache_runtime::Cache::builder().l1_tracking(false);
    /// # let _ = builder;
    /// ```
    pub fn l1_tracking(mut self, enabled: bool) -> Self {
        self.l1_tracking = enabled;
        self
    }

    /// The most bytes L1 holds (default 64 MiB), counted as
    /// [`memory_max_bytes`](CacheBuilder::memory_max_bytes) counts them (tags included).
    pub fn l1_max_bytes(mut self, bytes: u64) -> Self {
        self.l1_max_bytes = bytes;
        self
    }

    /// One `#[cached]` call in `every` (per thread; default 16, at least 1) is timed for
    /// the latency percentiles and counted in the top keys of
    /// [`Cache::namespace_stats`](crate::Cache::namespace_stats). The counters are exact
    /// whatever the rate; 1 times every call (a clock read before and after it).
    pub fn stats_sample_every(mut self, every: u32) -> Self {
        self.stats_sample_every = every.max(1);
        self
    }

    /// With `#[cached(lock = true)]`: the longest a miss waits for another process that is
    /// filling the same key before running the body itself (default 5 s).
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The fraction by which `#[cached]` entries' TTLs are randomly shortened, so entries
    /// written together do not expire together (default 0.05: a 10-minute entry lives 9.5
    /// to 10 minutes). `0.0` turns it off; per function `#[cached(ttl_jitter = 0.1)]`.
    /// Manual `set`s keep their exact TTL.
    pub fn ttl_jitter(mut self, fraction: f64) -> Self {
        self.ttl_jitter = fraction;
        self
    }

    /// The hard deadline of one cache operation against Redis, covering the wait for a
    /// reconnection as well as the reply (default 250 ms). When it passes, the operation
    /// fails open: a `#[cached]` call runs its body. Keep it below the latency your callers
    /// can afford on top of the body's own time.
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// After this many consecutive failed Redis operations (timeouts, refused or dropped
    /// connections) the circuit opens (default 5; `0` turns the breaker off): for the
    /// [cool-down](CacheBuilder::circuit_cool_down) the cache skips Redis entirely, then a
    /// single probe decides whether it closes again. Server replies such as an `OOM` or
    /// `NOPERM` error do not count: Redis is up.
    pub fn circuit_threshold(mut self, failures: u32) -> Self {
        self.circuit_threshold = failures;
        self
    }

    /// Whether concurrent GETs are merged into MGETs (default on; single Redis node only).
    /// A GET sent while the cache is quiet and fewer than
    /// [`max_reads_in_flight`](CacheBuilder::max_reads_in_flight) reads are in flight goes
    /// out at once, so an idle cache pays nothing; under load, the GETs made in the same
    /// instant (one turn of the scheduler) go out as one MGET, so the server parses one
    /// command per batch instead of one per call and the client writes one frame (the
    /// repository's `benches/README.md` has the figures: Redis hits per second with 1 to 256
    /// tasks).
    pub fn coalesce_reads(mut self, on: bool) -> Self {
        self.coalesce_reads = on;
        self
    }

    /// With [`coalesce_reads`](CacheBuilder::coalesce_reads): how many reads a quiet cache
    /// sends alone before further GETs are gathered into MGETs (default 2, at least 1). A
    /// gathered GET waits one turn of the scheduler (for the other GETs of that instant),
    /// never for a read ahead of it. Once a batch was gathered the cache counts as busy, and
    /// the first GET of each instant gathers too, until a caller gathers nobody; so this
    /// bound only decides when a burst starts to be batched.
    pub fn max_reads_in_flight(mut self, reads: usize) -> Self {
        self.max_reads_in_flight = reads.max(1);
        self
    }

    /// How long an open circuit skips Redis before one probe is let through (default 1 s).
    pub fn circuit_cool_down(mut self, cool_down: Duration) -> Self {
        self.circuit_cool_down = cool_down;
        self
    }

    /// Whether [`build`](CacheBuilder::build) fails when Redis does not answer (default
    /// `false`: the cache is built fail-open, logs the cause, and uses Redis as soon as it
    /// answers; until then every call runs its body). Bad credentials and a malformed URL
    /// are errors either way.
    pub fn require_redis(mut self, required: bool) -> Self {
        self.require_redis = required;
        self
    }

    /// The ACL user to authenticate as (instead of one in the URL).
    pub fn redis_username(mut self, username: impl Into<String>) -> Self {
        self.redis_username = Some(username.into());
        self
    }

    /// The password to authenticate with (instead of one in the URL). Never printed.
    pub fn redis_password(mut self, password: impl Into<String>) -> Self {
        self.redis_password = Some(password.into());
        self
    }

    /// With a `rediss://` URL (or `rediss://` cluster nodes): trust this CA certificate
    /// (PEM; several are fine) instead of the system's roots. Checked by `build`: a file
    /// without a PEM certificate fails it with [`Error::Config`](crate::Error::Config).
    /// From the environment: `REDIS_TLS_CA_FILE` (feature `tls`).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_root_cert(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_root_cert = Some(pem.into());
        self
    }

    /// With `rediss://`: show this client certificate (a PEM chain, the client's own
    /// certificate first) and prove it with this private key (PEM: PKCS#8, PKCS#1 or SEC1)
    /// to a server that asks for one (`tls-auth-clients yes`, mutual TLS). For a cluster,
    /// every node gets the same one. Both are checked by `build`: a file without a PEM
    /// certificate or key fails it with
    /// [`Error::Config`](crate::Error::Config). The key is never printed. From the
    /// environment: `REDIS_TLS_CERT_FILE` and `REDIS_TLS_KEY_FILE` (feature `tls`).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls_client_cert(
        mut self,
        cert_pem: impl Into<Vec<u8>>,
        key_pem: impl Into<Vec<u8>>,
    ) -> Self {
        self.tls_client_cert = Some(crate::store::redis::tls::ClientCert {
            cert: cert_pem.into(),
            key: key_pem.into(),
        });
        self
    }

    /// Whether a client certificate was given (what `Debug` shows of it).
    fn has_client_cert(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls_client_cert.is_some();
        #[cfg(not(feature = "tls"))]
        return false;
    }

    /// Values whose encoding (the bincode body) is larger than this many bytes are stored
    /// lz4-compressed, when that makes them smaller (default 1 KiB; counted in
    /// [`Stats::compressed`](crate::Stats::compressed)); `None` turns compression off. Per
    /// function: `#[cached(compress = false)]`; per call: `ComputeOptions::compress(false)`.
    ///
    /// [`max_value_bytes`](CacheBuilder::max_value_bytes) bounds the uncompressed size: a
    /// stored value that claims to decompress to more is a miss, refused before anything is
    /// allocated.
    pub fn compress_threshold(mut self, bytes: Option<usize>) -> Self {
        self.compress_threshold = bytes;
        self
    }

    /// Sign every stored value with a keyed blake3 MAC derived from `secret`: a value whose
    /// MAC does not verify (written by another party without the secret, tampered with, or
    /// copied from another key) is a miss, deleted and counted in
    /// [`Stats::bad_signatures`](crate::Stats::bad_signatures). Every process sharing the
    /// Redis must use the same secret. Never printed.
    ///
    /// The MAC covers the storage key (`{prefix}:{key}`) and the whole stored envelope, and
    /// adds 32 bytes to every value (counted against `max_value_bytes`). An entry without a
    /// MAC is refused too. A cache *without* a signing key reads signed entries by ignoring
    /// their MAC, so signing can be turned on one process at a time.
    ///
    /// The secret must be at least [`MIN_SIGNING_KEY_BYTES`] (16) bytes long, as
    /// `CACHE_SIGNING_KEY` must: a shorter one fails `build` with
    /// [`Error::Config`](crate::Error::Config).
    pub fn signing_key(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.signing_secret_len = secret.as_ref().len();
        self.signing_key = Some(blake3::derive_key(
            "cache-rs 2026-12 stored value signing key",
            secret.as_ref(),
        ));
        self
    }

    /// The deepest nesting a stored value may have to be read (default 128 levels). Every
    /// struct, tuple, sequence, map, enum variant, `Some` and newtype struct inside a value is
    /// one level: a `Vec<User>` whose users have an `Option<Address>` is 4 levels deep, a
    /// `struct Tree { kids: Vec<Tree> }` takes 2 levels per generation, so 64 generations fit
    /// the default.
    ///
    /// Decoding recurses once per level, and the bytes come from the store, so without a
    /// bound a forged entry nested a few hundred thousand levels deep would overflow the stack
    /// and abort the process. An entry deeper than this is unreadable: a miss, deleted, counted
    /// in [`Stats::decode_errors`](crate::Stats::decode_errors) and logged, its decode stopped
    /// before anything deeper is built. Raise it for legitimately deeper values (each level
    /// costs stack, and a tokio worker has 2 MiB). The bound applies wherever stored bytes
    /// are decoded: Redis reads, and reads of the memory store or L1 as another type than
    /// was written (a hit of the written type is the value itself, never decoded). From the
    /// environment: `CACHE_MAX_DEPTH`.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> cache_runtime::Result<()> {
    /// #[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
    /// struct Tree {
    ///     kids: Vec<Tree>,
    /// }
    /// // 100 generations: 200 levels.
    /// let tree = (1..100).fold(Tree { kids: vec![] }, |t, _| Tree { kids: vec![t] });
    ///
    /// let cache = cache_runtime::Cache::builder()
    ///     .redis_url("redis://127.0.0.1:6379")
    ///     .max_depth(200)
    ///     .build()
    ///     .await?;
    /// cache.set("tree", &tree, None).await?;
    /// assert_eq!(cache.get::<Tree>("tree").await?, Some(tree));
    /// # Ok(()) }
    /// ```
    pub fn max_depth(mut self, levels: u32) -> Self {
        self.max_depth = levels;
        self
    }

    fn validate(&self) -> Result<()> {
        if self.redis_url.is_some() && self.cluster_nodes.is_some() {
            return Err(Error::config(
                "redis_url and cluster_nodes are both set; pick one: redis_url for a single Redis, cluster_nodes for a Redis Cluster",
            ));
        }
        if self.cluster_nodes.as_ref().is_some_and(Vec::is_empty) {
            return Err(Error::config(
                "cluster_nodes is empty; give at least one host:port",
            ));
        }
        self.validate_sentinel()?;
        if let Some(problem) = prefix_problem(&self.prefix) {
            return Err(Error::config(format_args!("prefix {problem}")));
        }
        if self.signing_key.is_some() {
            if let Some(problem) = signing_key_problem(self.signing_secret_len) {
                return Err(Error::config(format_args!("signing_key {problem}")));
            }
        }
        if self.default_ttl.is_zero() {
            return Err(Error::config("default_ttl must be greater than zero"));
        }
        if self.max_value_bytes < 64 {
            return Err(Error::config(format_args!(
                "max_value_bytes must be at least 64, got {}",
                self.max_value_bytes
            )));
        }
        if self.l1 && (self.l1_ttl.is_zero() || self.l1_capacity == 0 || self.l1_max_bytes == 0) {
            return Err(Error::config(
                "l1_ttl, l1_capacity and l1_max_bytes must be greater than zero (or turn L1 off with l1(false))",
            ));
        }
        if !(0.0..=1.0).contains(&self.ttl_jitter) {
            return Err(Error::config(format_args!(
                "ttl_jitter must be between 0.0 and 1.0, got {}",
                self.ttl_jitter
            )));
        }
        if self.operation_timeout.is_zero() {
            return Err(Error::config("operation_timeout must be greater than zero"));
        }
        if self.circuit_cool_down.is_zero() {
            return Err(Error::config("circuit_cool_down must be greater than zero"));
        }
        if self.lease_time.is_zero() {
            return Err(Error::config("lease_time must be greater than zero"));
        }
        if self.max_depth == 0 {
            return Err(Error::config(
                "max_depth must be at least 1 (a struct is one level deep)",
            ));
        }
        if self.memory_capacity == 0 || self.memory_max_bytes == 0 {
            return Err(Error::config(
                "memory_capacity and memory_max_bytes must be greater than zero",
            ));
        }
        Ok(())
    }

    /// Builds the cache. With a Redis URL it connects and PINGs once: a malformed URL or
    /// bad credentials fail here rather than on first use. A Redis that does not answer
    /// (refused, timed out, a name that does not resolve) fails here only with
    /// [`require_redis(true)`](CacheBuilder::require_redis); by default the cache is built
    /// fail-open, the cause is logged, and Redis is used as soon as it answers.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid setting or URL; [`Error::Store`] when Redis refuses
    /// the credentials, or does not answer and `require_redis` is set.
    pub async fn build(self) -> Result<Cache> {
        let require_redis = self.require_redis;
        let cache = self.build_lazy()?;
        #[cfg(not(feature = "redis"))]
        let _ = require_redis;
        #[cfg(feature = "redis")]
        if let Some(redis) = cache.inner.backend.redis() {
            use crate::store::redis::PingFailure;
            let url = cache.inner.redis_url.as_deref().unwrap_or_default();
            let cause = |e: Error| {
                e.to_string()
                    .trim_start_matches("cache store error: ")
                    .to_owned()
            };
            match redis.check().await {
                Ok(_) => {}
                Err(PingFailure::Refused(e)) => {
                    return Err(Error::store(format_args!(
                        "Redis at {url} refused the connection: {}",
                        cause(e)
                    )));
                }
                Err(PingFailure::Unreachable(e)) if require_redis => {
                    return Err(Error::store(format_args!(
                        "Redis at {url} did not answer: {}",
                        cause(e)
                    )));
                }
                Err(PingFailure::Unreachable(e)) => {
                    tracing::warn!(
                        "Redis at {url} did not answer ({}); the cache starts without it and \
                         uses it as soon as it answers (set require_redis(true) to fail instead)",
                        cause(e)
                    );
                }
            }
        }
        Ok(cache)
    }

    /// Builds the cache without any I/O: a Redis connection is made on first use.
    ///
    /// # Errors
    /// [`Error::Config`] for an invalid setting or URL.
    pub fn build_lazy(self) -> Result<Cache> {
        self.validate()?;
        let counters = Arc::new(Counters::default());
        let backend = match (&self.redis_url, &self.cluster_nodes) {
            _ if self.sentinel.is_some() => {
                let (nodes, master) = self.sentinel.as_ref().map_or((&[][..], ""), |(n, m)| {
                    (n.as_slice(), m.as_str())
                });
                self.sentinel_backend(nodes, master, counters.clone())?
            }
            (None, None) => Backend::Memory(self.memory_store(counters.clone())),
            #[cfg(feature = "redis")]
            (Some(url), _) => Backend::Redis(crate::store::redis::RedisStore::open(
                url,
                &self.prefix,
                &self.redis_options(),
                counters.clone(),
            )?),
            #[cfg(not(feature = "redis"))]
            (Some(_), _) => {
                return Err(Error::config(
                    "a Redis URL is set but cache-runtime was built without its `redis` feature",
                ))
            }
            #[cfg(feature = "cluster")]
            (None, Some(nodes)) => {
                let urls = nodes
                    .iter()
                    .map(|node| {
                        crate::store::redis::cluster::node_url(node)
                            .map_err(|why| Error::config(format_args!("cluster_nodes: {why}")))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Backend::Redis(crate::store::redis::RedisStore::open_cluster(
                    &urls,
                    &self.prefix,
                    &self.redis_options(),
                    counters.clone(),
                )?)
            }
            #[cfg(not(feature = "cluster"))]
            (None, Some(_)) => {
                return Err(Error::config(
                    "Redis Cluster nodes are set but cache-runtime was built without its `cluster` feature",
                ))
            }
        };
        Ok(self.assemble(backend, counters))
    }

    #[cfg(feature = "redis")]
    fn redis_options(&self) -> crate::store::redis::RedisOptions {
        crate::store::redis::RedisOptions {
            connect_timeout: self.connect_timeout,
            response_timeout: self.response_timeout,
            operation_timeout: self.operation_timeout,
            circuit_threshold: self.circuit_threshold,
            coalesce_reads: self.coalesce_reads,
            max_reads_in_flight: self.max_reads_in_flight,
            circuit_cool_down: self.circuit_cool_down,
            lease_time: self.lease_time,
            username: self.redis_username.clone(),
            password: self.redis_password.clone(),
            #[cfg(feature = "tls")]
            tls_root_cert: self.tls_root_cert.clone(),
            #[cfg(feature = "tls")]
            tls_client_cert: self.tls_client_cert.clone(),
        }
    }

    /// A memory cache; falls back to the defaults for any invalid setting.
    pub(crate) fn build_memory(self) -> Cache {
        let builder = if self.validate().is_ok() {
            self
        } else {
            CacheBuilder::new()
        };
        let counters = Arc::new(Counters::default());
        let backend = Backend::Memory(builder.memory_store(counters.clone()));
        builder.assemble(backend, counters)
    }

    /// A cache that caches nothing and reports `reason` as the error of every operation.
    pub(crate) fn build_disabled(reason: String) -> Cache {
        let builder = CacheBuilder::new();
        let counters = Arc::new(Counters::default());
        builder.assemble(Backend::Disabled(reason), counters)
    }

    fn memory_store(&self, counters: Arc<Counters>) -> MemoryStore {
        MemoryStore::new(
            MemoryBounds {
                max_entries: self.memory_capacity,
                max_bytes: self.memory_max_bytes,
            },
            counters,
            self.lease_time,
        )
    }

    /// The L1 tier of a Redis cache, subscribed to the backplane.
    fn tier(
        &self,
        backend: &Backend,
        counters: &Arc<Counters>,
        marks: &Arc<crate::tier::marks::Marks>,
    ) -> Option<crate::tier::L1> {
        #[cfg(feature = "redis")]
        if let (Some(redis), true) = (backend.redis(), self.l1) {
            let store = MemoryStore::new(
                MemoryBounds {
                    max_entries: self.l1_capacity,
                    max_bytes: self.l1_max_bytes,
                },
                counters.clone(),
                self.lease_time,
            );
            let target = crate::tier::tracking::Target {
                l1: store.clone(),
                epoch: Arc::new(crate::tier::marks::Marks::new()),
                live: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            };
            let coherence = Arc::new(crate::tier::tracking::State::default());
            let task = crate::tier::start::start(
                redis,
                self.l1_tracking,
                target.clone(),
                coherence.clone(),
                marks.clone(),
            );
            if task.is_none() {
                tracing::warn!("no tokio runtime while building the cache: L1 stays off");
            }
            return Some(crate::tier::L1 {
                store,
                ttl: self.l1_ttl,
                live: target.live,
                epoch: target.epoch,
                coherence,
                _task: task,
            });
        }
        let _ = (backend, counters, marks);
        None
    }

    /// The outage fallback of a Redis cache, unless its TTL is zero.
    fn fallback(
        &self,
        backend: &Backend,
        counters: &Arc<Counters>,
    ) -> Option<crate::tier::fallback::Fallback> {
        if backend.remote() && !self.fallback_ttl.is_zero() {
            let store = MemoryStore::new(
                MemoryBounds {
                    max_entries: self.l1_capacity.max(1),
                    max_bytes: self.l1_max_bytes.max(1),
                },
                counters.clone(),
                self.lease_time,
            );
            return Some(crate::tier::fallback::Fallback::new(
                store,
                self.fallback_ttl,
            ));
        }
        None
    }

    fn assemble(self, backend: Backend, counters: Arc<Counters>) -> Cache {
        let marks = Arc::new(crate::tier::marks::Marks::new());
        let l1 = self.tier(&backend, &counters, &marks);
        let fallback = self.fallback(&backend, &counters);
        Cache {
            inner: Arc::new(Inner {
                l1,
                fallback,
                flights: crate::call::flight::Flights::new(),
                reads: crate::call::early::Reads::new(),
                marks,
                #[cfg(feature = "redis")]
                lock_wait: self.lock_wait,
                ttl_jitter_ppm: (self.ttl_jitter.clamp(0.0, 1.0) * 1_000_000.0) as u32,
                backend,
                redis_url: self
                    .redis_url
                    .as_deref()
                    .map(redact)
                    .or_else(|| self.cluster_nodes.as_ref().map(|n| n.join(",")))
                    .or_else(|| self.sentinel_description()),
                prefix: self.prefix,
                default_ttl: self.default_ttl,
                max_value_bytes: self.max_value_bytes,
                compress_threshold: self.compress_threshold,
                signing_key: self.signing_key,
                max_depth: self.max_depth,
                counters,
                namespaces: crate::observe::Namespaces::new(self.stats_sample_every),
                warmers: crate::ops::warm::Warmers::default(),
                started: Instant::now(),
                last_log_ms: AtomicU64::new(0),
                suppressed_logs: AtomicU64::new(0),
            }),
        }
    }
}
