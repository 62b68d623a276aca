//! The [`Cache`] handle and its manual API.

pub(crate) mod access;
pub(crate) mod batch;
pub(crate) mod builder;
pub(crate) mod compute;
pub(crate) mod config;
pub(crate) mod global;

use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cache::builder::CacheBuilder;
use crate::error::Result;
use crate::key::escape_namespace;
use crate::observe::stats::{Counters, Stats};
use crate::store::Backend;
use crate::tier::backplane::Forget;
use crate::CacheValue;

/// A cache: the memory store (the embedded default) or Redis, with its settings and counters.
///
/// Cheap to clone: clones share the store, the connection and the counters. Build one with
/// [`Cache::builder`] or [`Cache::from_env`]; `#[cached]` functions use the global cache (see
/// [`init`](crate::init)) unless given `cache = ...`.
///
/// Keys given to the manual API are used as written, under the cache's prefix: on Redis,
/// `cache.set("user:42", ..)` writes `{prefix}:user:42`. Keys that `#[cached]` computes can
/// be had from [`key_for`](crate::key_for) and used here too.
///
/// | methods | what they do |
/// | --- | --- |
/// | [`get`](Cache::get), [`set`](Cache::set), [`delete`](Cache::delete), [`exists`](Cache::exists) | one key; a corrupt, foreign or other-type entry reads as a miss, deleted and counted |
/// | [`expire`](Cache::expire), [`ttl`](Cache::ttl) | set or read the remaining TTL |
/// | [`get_many`](Cache::get_many), [`set_many`](Cache::set_many), [`delete_many`](Cache::delete_many) | many keys in one round trip (an MGET, a pipeline, an UNLINK) |
/// | [`clear_namespace`](Cache::clear_namespace), [`clear_pattern`](Cache::clear_pattern) | SCAN + UNLINK in batches, never KEYS; in patterns only `*` is a wildcard |
/// | [`set_with_tags`](Cache::set_with_tags), [`invalidate_key`](Cache::invalidate_key), [`invalidate_tag`](Cache::invalidate_tag), [`invalidate_tags`](Cache::invalidate_tags), [`invalidate_namespace`](Cache::invalidate_namespace), [`invalidate_pattern`](Cache::invalidate_pattern) | writes and invalidations that also reach every process's in-process tier |
/// | [`get_or_compute`](Cache::get_or_compute), [`try_get_or_compute`](Cache::try_get_or_compute), and their `_detached` forms | the `#[cached]` call path for a key built by hand: L1, single flight, fill lease, tags, [`ComputeOptions`](crate::ComputeOptions) |
/// | [`ping`](Cache::ping), [`stats`](Cache::stats), [`namespace_stats`](Cache::namespace_stats), [`health`](Cache::health), [`keys`](Cache::keys) | what an operator asks |
/// | [`register_warmer`](Cache::register_warmer), [`warm_all`](Cache::warm_all), [`warm`](Cache::warm), [`warmers`](Cache::warmers) | fill the cache ahead of traffic |
///
/// Unlike `#[cached]`, which always fails open, the manual methods report store trouble:
/// [`Error::Store`](crate::Error::Store) (Redis refused, failed or missed the operation
/// timeout), [`Error::CircuitOpen`](crate::Error::CircuitOpen) (the breaker skips Redis for
/// now), [`Error::TooLarge`](crate::Error::TooLarge). Wrap them in your own fallback, or use
/// [`get_or_compute`](Cache::get_or_compute), which fails open like the attribute.
///
/// ```
/// use std::time::Duration;
/// use cache_runtime::Cache;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> cache_runtime::Result<()> {
/// let cache = Cache::memory();
/// cache.set("user:42", &"Ada".to_owned(), Some(Duration::from_secs(60))).await?;
/// assert_eq!(cache.get::<String>("user:42").await?.as_deref(), Some("Ada"));
/// assert_eq!(cache.get::<String>("user:43").await?, None);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Cache {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) backend: Backend,
    /// The in-process tier, with Redis only.
    pub(crate) l1: Option<crate::tier::L1>,
    /// Where fills go while Redis is skipped (see [`fallback`](crate::tier::fallback)),
    /// with Redis only, unless turned off.
    pub(crate) fallback: Option<crate::tier::fallback::Fallback>,
    /// Misses in progress, so concurrent callers of one key share one body.
    pub(crate) flights: crate::call::flight::Flights,
    /// Reads before single flight in progress, per key slot (see [`early`](crate::call::early)).
    pub(crate) reads: crate::call::early::Reads,
    /// What was invalidated through this cache or heard on the backplane (see
    /// [`marks`](crate::tier::marks)).
    pub(crate) marks: Arc<crate::tier::marks::Marks>,
    /// How long a `lock = true` miss waits for another process's fill.
    #[cfg(feature = "redis")]
    pub(crate) lock_wait: Duration,
    /// Default `ttl_jitter` of `#[cached]` entries, in millionths.
    pub(crate) ttl_jitter_ppm: u32,
    pub(crate) prefix: String,
    pub(crate) default_ttl: Duration,
    pub(crate) max_value_bytes: usize,
    /// Encoded values above this many bytes are compressed; `None`: never.
    pub(crate) compress_threshold: Option<usize>,
    /// The key of the stored values' MAC, when signing is on.
    pub(crate) signing_key: Option<[u8; 32]>,
    /// The deepest nesting a decoded value may have.
    pub(crate) max_depth: u32,
    pub(crate) counters: Arc<Counters>,
    /// Per-namespace counters of `#[cached]` calls (see [`observe`](crate::observe)).
    pub(crate) namespaces: crate::observe::Namespaces,
    /// The registered warmers (see [`warm`](crate::ops::warm)).
    pub(crate) warmers: crate::ops::warm::Warmers,
    /// The Redis URL with its password replaced, for `Debug`.
    pub(crate) redis_url: Option<String>,
    pub(crate) started: Instant,
    pub(crate) last_log_ms: AtomicU64,
    pub(crate) suppressed_logs: AtomicU64,
}

impl Inner {
    /// How this cache encodes and decodes values: its size limit, compression and signing.
    #[inline]
    pub(crate) fn encoding(&self) -> crate::codec::Encoding<'_> {
        crate::codec::Encoding {
            max_bytes: self.max_value_bytes,
            compress_above: self.compress_threshold,
            signing: self.signing_key.as_ref().map(|key| crate::codec::Signing {
                key,
                prefix: &self.prefix,
            }),
            max_depth: self.max_depth,
        }
    }
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("backend", &self.inner.backend.name())
            .field("redis_url", &self.inner.redis_url)
            .field("prefix", &self.inner.prefix)
            .field("default_ttl", &self.inner.default_ttl)
            .field("max_value_bytes", &self.inner.max_value_bytes)
            .finish()
    }
}

impl Cache {
    /// A builder with the defaults: memory store, prefix `cache`, TTL 5 minutes, values up
    /// to 8 MiB, memory store bounded at 100,000 entries and 256 MiB.
    pub fn builder() -> CacheBuilder {
        CacheBuilder::new()
    }

    /// A cache configured from the environment (see [`CacheBuilder::from_env`]), connected.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) naming the variable when one is malformed;
    /// [`Error::Store`](crate::Error::Store) when `REDIS_URL` is set but Redis does not answer.
    pub async fn from_env() -> Result<Cache> {
        CacheBuilder::from_env()?.build().await
    }

    /// A memory-only cache with the default settings.
    pub fn memory() -> Cache {
        CacheBuilder::new().build_memory()
    }

    /// The store in use: `"memory"`, `"redis"` or `"disabled"`.
    pub fn backend(&self) -> &'static str {
        self.inner.backend.name()
    }

    /// The TTL used when none is given.
    pub fn default_ttl(&self) -> Duration {
        self.inner.default_ttl
    }

    /// The prefix of every stored key (Redis keys read `{prefix}:{key}`).
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// Reads `key` as a `T`. A corrupt, truncated or foreign entry, or one written as
    /// another type, is a miss (`Ok(None)`): it is deleted and counted in
    /// [`Stats::decode_errors`].
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn get<T: CacheValue>(&self, key: impl AsRef<str>) -> Result<Option<T>> {
        self.read(key.as_ref()).await
    }

    /// Stores `value` under `key` for `ttl` (`None`: the default TTL).
    ///
    /// # Errors
    /// [`Error::TooLarge`](crate::Error::TooLarge) when the encoded value exceeds the maximum
    /// value size (nothing is stored); [`Error::Store`](crate::Error::Store) on store failure.
    pub async fn set<T: CacheValue>(
        &self,
        key: impl AsRef<str>,
        value: &T,
        ttl: Option<Duration>,
    ) -> Result<()> {
        self.write(key.as_ref(), value, self.ttl_or_default(ttl))
            .await
    }

    /// Deletes `key`. Returns whether it existed.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn delete(&self, key: impl AsRef<str>) -> Result<bool> {
        self.remove(key.as_ref()).await
    }

    /// Whether `key` holds an unexpired entry.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn exists(&self, key: impl AsRef<str>) -> Result<bool> {
        let key = key.as_ref();
        (self.inner.backend.exists(key).await).map_err(|e| self.failed("exists", e))
    }

    /// Gives `key` a new TTL from now. Returns whether the key existed.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn expire(&self, key: impl AsRef<str>, ttl: Duration) -> Result<bool> {
        let key = key.as_ref();
        let found =
            (self.inner.backend.expire(key, ttl).await).map_err(|e| self.failed("expire", e));
        if self.inner.backend.remote() {
            // L1 copies must not outlive the new TTL.
            self.forget(Forget::Key(key)).await;
        }
        found
    }

    /// The remaining TTL of `key`; `None` when the key does not exist (or, on Redis, was
    /// written by someone else without an expiry).
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn ttl(&self, key: impl AsRef<str>) -> Result<Option<Duration>> {
        let key = key.as_ref();
        (self.inner.backend.ttl(key).await).map_err(|e| self.failed("ttl", e))
    }

    /// Reads many keys at once (one MGET on Redis); results are in the order of `keys`.
    /// Unreadable entries are misses, as with [`get`](Cache::get).
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn get_many<T: CacheValue, K: AsRef<str>>(
        &self,
        keys: &[K],
    ) -> Result<Vec<Option<T>>> {
        // A disabled store fails as the first of the reads would.
        (self.inner.backend.check()).map_err(|e| self.failed("get", e))?;
        let refs: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
        let found =
            (self.inner.backend.get_many(&refs).await).map_err(|e| self.failed("get_many", e))?;
        let mut out = Vec::with_capacity(keys.len());
        for (key, found) in refs.iter().zip(found) {
            let value = match found {
                Some(found) => self.found_value(key, &found).await,
                None => None,
            };
            self.count_read(value.is_some());
            out.push(value);
        }
        Ok(out)
    }

    /// Stores many values at once (one pipeline on Redis), each for `ttl` (`None`: the
    /// default TTL). Values above the maximum size are skipped and counted.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) on store failure;
    /// [`Error::TooLarge`](crate::Error::TooLarge) if any value was too large (the others are
    /// stored).
    pub async fn set_many<T: CacheValue, K: AsRef<str>>(
        &self,
        items: &[(K, T)],
        ttl: Option<Duration>,
    ) -> Result<()> {
        let ttl = self.ttl_or_default(ttl);
        if self.inner.backend.remote() {
            let mut encoded = Vec::with_capacity(items.len());
            let mut too_large = None;
            let encoding = self.inner.encoding();
            for (key, value) in items {
                match crate::codec::encode(value, key.as_ref(), &encoding) {
                    Ok(bytes) => encoded.push((key.as_ref(), bytes, value)),
                    Err(e @ crate::Error::TooLarge { .. }) => {
                        Counters::bump(&self.inner.counters.oversized);
                        too_large = Some(e);
                    }
                    Err(e) => return Err(self.failed("encode", e)),
                }
            }
            let refs: Vec<(&str, &[u8], &T)> = encoded
                .iter()
                .map(|(k, b, v)| (*k, b.as_slice(), *v))
                .collect();
            (self.inner.backend.set_many(&refs, ttl).await)
                .map_err(|e| self.failed("set_many", e))?;
            for (key, ..) in &refs {
                self.forget(Forget::Key(key)).await;
            }
            for (_, bytes, _) in &refs {
                self.count_write(crate::codec::is_compressed(bytes));
            }
            too_large.map_or(Ok(()), Err)
        } else {
            // One write at a time: the memory store has nothing to batch.
            let mut result = Ok(());
            for (key, value) in items {
                match self.write(key.as_ref(), value, ttl).await {
                    Ok(()) => {}
                    Err(e @ crate::Error::TooLarge { .. }) => result = Err(e),
                    Err(e) => return Err(e),
                }
            }
            result
        }
    }

    /// Deletes many keys at once (one UNLINK on Redis). Returns how many existed.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn delete_many<K: AsRef<str>>(&self, keys: &[K]) -> Result<u64> {
        (self.inner.backend.check()).map_err(|e| self.failed("delete_many", e))?;
        let refs: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
        let deleted = (self.inner.backend.delete_many(&refs).await)
            .map_err(|e| self.failed("delete_many", e));
        // Even after a failure: some keys may be gone.
        for key in &refs {
            self.forget(Forget::Key(key)).await;
        }
        deleted
    }

    /// Deletes every entry of `namespace` (every version and value type), as written by
    /// `#[cached(namespace = ...)]`. On Redis: SCAN + UNLINK in batches, never KEYS.
    /// Returns how many entries were deleted.
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn clear_namespace(&self, namespace: &str) -> Result<u64> {
        if crate::invalidate::defer::defer(
            self,
            crate::invalidate::Plan::new().namespace(namespace),
        ) {
            return Ok(0);
        }
        self.clear_namespace_now(namespace).await
    }

    pub(crate) async fn clear_namespace_now(&self, namespace: &str) -> Result<u64> {
        let pattern = format!("{}:*", escape_namespace(namespace));
        self.delete_matching(&pattern).await
    }

    /// Deletes every key matching `pattern`, in which only `*` is a wildcard (any run of
    /// characters), at most [`MAX_WILDCARDS`](crate::MAX_WILDCARDS) of them; `\*` matches a
    /// literal `*` and `\\` a literal `\`; `?`, `[`, `]` and any other `\` match themselves.
    /// Returns how many were deleted.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> cache_runtime::Result<()> {
    /// let cache = cache_runtime::Cache::memory();
    /// cache.set("rate*limit:1", &1u32, None).await?;
    /// cache.set("rate-limit:1", &2u32, None).await?;
    /// assert_eq!(cache.clear_pattern(r"rate\*limit:*").await?, 1);
    /// assert!(cache.clear_pattern(&"*".repeat(9)).await.is_err());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Pattern`](crate::Error::Pattern) when `pattern` holds more than 8 wildcards
    /// (nothing is deleted); [`Error::Store`](crate::Error::Store) when the store cannot be
    /// reached.
    pub async fn clear_pattern(&self, pattern: &str) -> Result<u64> {
        crate::key::pattern::check(pattern)?;
        if crate::invalidate::defer::defer(self, crate::invalidate::Plan::new().pattern(pattern)) {
            return Ok(0);
        }
        self.clear_pattern_now(pattern).await
    }

    pub(crate) async fn clear_pattern_now(&self, pattern: &str) -> Result<u64> {
        crate::key::pattern::check(pattern).map_err(|e| self.failed("clear", e))?;
        self.delete_matching(pattern).await
    }

    async fn delete_matching(&self, pattern: &str) -> Result<u64> {
        (self.inner.backend.check()).map_err(|e| self.failed("clear", e))?;
        let deleted = (self.inner.backend.delete_matching(pattern).await)
            .map_err(|e| self.failed("clear", e));
        // Even after a failure: some keys may be gone.
        self.forget(Forget::Pattern(pattern)).await;
        deleted
    }

    /// Checks the store answers; returns the round trip time (zero-cost for memory).
    ///
    /// # Errors
    /// [`Error::Store`](crate::Error::Store) when the store cannot be reached.
    pub async fn ping(&self) -> Result<Duration> {
        (self.inner.backend.ping().await).map_err(|e| self.failed("ping", e))
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let in_process = self.in_process();
        if let Some(mem) = in_process {
            mem.run_pending_tasks();
        }
        let mut stats = self
            .inner
            .counters
            .snapshot(self.inner.backend.name(), self.inner.backend.circuit());
        if let Some(mem) = in_process {
            stats.entries = mem.entry_count();
            stats.bytes = mem.weighted_size();
        }
        stats.fallback_entries = self.fallback_entries().unwrap_or(0);
        stats.disabled_reason = self.inner.backend.disabled_reason().map(str::to_owned);
        stats.coherence = self.coherence();
        stats
    }

    /// `ttl` shortened by a random fraction of at most the jitter (the site's, or the
    /// cache's), so entries written together do not all expire together. Never longer
    /// than `ttl`.
    pub(crate) fn jittered(&self, ttl: Duration, site_ppm: Option<u32>) -> Duration {
        let ppm = u64::from(site_ppm.unwrap_or(self.inner.ttl_jitter_ppm).min(1_000_000));
        if ppm == 0 {
            return ttl;
        }
        let random = jitter_random();
        let cut = u128::from(random % (ppm + 1)) * ttl.as_nanos() / 1_000_000;
        ttl.saturating_sub(Duration::from_nanos(u64::try_from(cut).unwrap_or(u64::MAX)))
    }

    #[cfg(feature = "redis")]
    pub(crate) fn lock_wait(&self) -> Duration {
        self.inner.lock_wait
    }

    /// The entries this process holds itself: the memory store when it is the store, else
    /// L1's (`None`: Redis without L1).
    pub(crate) fn in_process(&self) -> Option<&crate::store::memory::MemoryStore> {
        (self.inner.backend.memory()).or_else(|| self.inner.l1.as_ref().map(|l1| &l1.store))
    }

    pub(crate) fn ttl_or_default(&self, ttl: Option<Duration>) -> Duration {
        ttl.unwrap_or(self.inner.default_ttl)
    }

    fn count_read(&self, hit: bool) {
        Counters::bump(if hit {
            &self.inner.counters.hits
        } else {
            &self.inner.counters.misses
        });
    }
}

/// A pseudo-random number for TTL jitter: splitmix64 steps over a per-thread state seeded
/// from std's random hash keys: a handful of instructions per call, where hashing with a
/// fresh `RandomState` costs hundreds.
fn jitter_random() -> u64 {
    use std::cell::Cell;
    use std::hash::BuildHasher;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(
            std::collections::hash_map::RandomState::new().hash_one(std::thread::current().id()),
        );
    }
    STATE.with(|state| {
        let next = state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        state.set(next);
        let mut z = next;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    })
}
