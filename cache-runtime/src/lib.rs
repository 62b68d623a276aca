//! One attribute on an async fn: a correct, fast, shared cache.
//!
//! Put `#[cached]` on an async function and its results are cached: in process memory with
//! no set-up (the embedded default), and in Redis, shared by every process, as soon as
//! `REDIS_URL` is set. Whatever the store does, the call returns the body's result: when
//! Redis fails, the body runs, and the error is counted ([`Stats::errors`]) and logged.
//!
//! ```
//! use cache_runtime::cached;
//!
//! #[cached(ttl = "10m", namespace = "users")]
//! async fn get_user(id: u64) -> Result<String, std::io::Error> {
//!     Ok(format!("user {id}")) // a slow database query in real life
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // Optional: without `init`, the first call builds the global cache from the environment.
//! cache_runtime::init(cache_runtime::Cache::memory()).unwrap();
//! assert_eq!(get_user(7).await.unwrap(), "user 7"); // miss: the body runs
//! assert_eq!(get_user(7).await.unwrap(), "user 7"); // hit
//! let stats = cache_runtime::global().stats();
//! assert_eq!((stats.misses, stats.hits), (1, 1));
//! # }
//! ```
//!
//! The attributes are [`macro@cached`], [`macro@cache_invalidate`] and [`macro@cache_put`],
//! and [`macro@cache_targets`] for the methods of trait impls; each argument is documented
//! there, with an example that runs. [`Cache`] is the handle: its manual API (`get`, `set`,
//! `get_many`, `invalidate_tag`, [`get_or_compute`](Cache::get_or_compute), ...) and what an
//! operator asks of it ([`stats`](Cache::stats), [`namespace_stats`](Cache::namespace_stats),
//! [`health`](Cache::health), [warmers](Cache::register_warmer)).
//!
//! # Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `macros` | yes | re-exports `#[cached]`, `#[cache_invalidate]`, `#[cache_put]` and `#[cache_targets]` from cache-macros |
//! | `redis` | yes | the Redis store: redis-rs on tokio, one auto-reconnecting multiplexed connection, and the in-process tier in front of it |
//! | `cluster` | | Redis Cluster: [`CacheBuilder::cluster_nodes`], `REDIS_CLUSTER_NODES` |
//! | `sentinel` | | Redis Sentinel: [`CacheBuilder::sentinel`], `REDIS_SENTINEL_NODES` and `REDIS_SENTINEL_MASTER` |
//! | `tls` | | `rediss://` through rustls: [`CacheBuilder::tls_root_cert`], [`CacheBuilder::tls_client_cert`] |
//! | `metrics` | | counters, a latency histogram and the circuit breaker's gauge through the `metrics` facade |
//! | `axum` | | [`web::CacheLayer`], [`web::Json`] and the admin API with its dashboard ([`admin`]) |
//! | `sessions` | | [`sessions::CacheSessionStore`], a tower-sessions store |
//!
//! Without default features (`features = ["macros"]`) the crate has no Redis client: the
//! memory store is the only one.
//!
//! # Configuration
//!
//! `#[cached]` fns without `cache = ...` use the global cache. Set it once at start-up with
//! [`init`]; building it yourself reports a bad setting or bad credentials right there:
//!
//! ```no_run
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> cache_runtime::Result<()> {
//! cache_runtime::init(cache_runtime::Cache::from_env().await?)?;
//! # Ok(()) }
//! ```
//!
//! [`Cache::from_env`] reads `REDIS_URL` (unset or empty: the memory store) and the
//! `CACHE_*` variables; [`CacheBuilder::from_env`] has the table of every variable
//! ([`ENV_VARS`] lists them). Without `init`, the first cached call builds the global cache
//! from the environment without connecting; if that configuration is invalid, the global
//! cache is disabled: every call runs its body, and the error is logged and counted.
//!
//! A malformed value is an [`Error::Config`] naming the variable and what it accepts, for
//! instance `CACHE_DEFAULT_TTL="soon" is not valid; expected a whole number of seconds
//! greater than 0 (e.g. 300) or a duration such as 90s, 10m, 1h, 1d`. Passwords in URLs are
//! never shown: `Debug` output and errors print `redis://user:***@host`.
//!
//! [`CacheBuilder`] has the same settings and more, each documented on its method:
//!
//! ```no_run
//! use std::time::Duration;
//! use cache_runtime::Cache;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> cache_runtime::Result<()> {
//! let cache = Cache::builder()
//!     .redis_url("redis://127.0.0.1:6379") // omit for the memory store
//!     .prefix("myapp")
//!     .default_ttl(Duration::from_secs(60))
//!     .max_value_bytes(1 << 20)
//!     .operation_timeout(Duration::from_millis(250)) // hard deadline per Redis operation
//!     .l1_ttl(Duration::from_secs(10)) // the in-process tier in front of Redis
//!     .build()
//!     .await?; // connects and PINGs when a Redis URL is set
//! # drop(cache); Ok(()) }
//! ```
//!
//! A service can hold its own caches and name one per fn (`#[cached(cache = self.cache)]`).
//!
//! # Methods and `self`
//!
//! A method caches like a free fn, and `self` is not part of the key: two instances of one
//! type share entries. When instances stand for different data (one repository per tenant or
//! per database), give each its own cache, or put what tells them apart in the key:
//!
//! ```
//! use cache_runtime::{cache_invalidate, cached, Cache};
//!
//! struct Orders {
//!     tenant: u32,
//!     cache: Cache,
//! }
//!
//! impl Orders {
//!     // Without `key`, `Orders { tenant: 1, .. }.count(7)` would read tenant 2's entry.
//!     #[cached(cache = self.cache, key = (self.tenant, day))]
//!     pub async fn count(&self, day: u32) -> u64 {
//!         u64::from(self.tenant) * 100 + u64::from(day) // a query in real life
//!     }
//!
//!     // Acts on the cache `count` reads from, `self.cache`.
//!     #[cache_invalidate(Self::count(self, day))]
//!     pub async fn add(&self, day: u32) -> Result<(), String> {
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let cache = Cache::memory();
//! let one = Orders { tenant: 1, cache: cache.clone() };
//! let two = Orders { tenant: 2, cache };
//! assert_eq!(one.count(7).await, 107);
//! assert_eq!(two.count(7).await, 207);
//! two.add(7).await.unwrap();
//! assert_eq!(one.cache.stats().misses, 2);
//! # }
//! ```
//!
//! A writer (`#[cache_invalidate]`, `#[cache_put]`) without `cache = ...` acts on the cache
//! each target reads from, computed from the target's own arguments (here `self.cache`). When
//! the target's `cache = ...` reads a parameter the target does not pass, the writer does
//! not compile until it names the cache itself.
//!
//! # Keys
//!
//! A stored key reads `{prefix}:{namespace}:v{version}.{type}:{digest}`, for instance
//! `cache:users:v1.570240d7:f6e61eec40878e0d2bd2609739ffc0e6`. The prefix
//! ([`CacheBuilder::prefix`]) is one key segment, without `:` or `#`, so caches with
//! different prefixes on one Redis never read, list, clear or delete each other's keys. The
//! namespace is the `namespace` argument or the fn's module path, escaped so that it holds
//! no glob character, `:` or white space; a long one is shortened to a fixed length with a
//! hash of the whole. `type` is a hash of the value type's name, so a deploy that changes the return type never
//! decodes old bytes as the new one; a change *inside* a type needs a `version` bump. The
//! digest is 128 bits of blake3 over the arguments, serialized with serde straight into the
//! hasher (no allocation): tagged and length-prefixed, maps and sets hashed independently of
//! iteration order, floats canonicalized. Argument text never appears in a key, and text
//! from a request can never widen a SCAN pattern or reach another namespace. Tag indexes
//! live at `{prefix}#tag:{tag}`, outside the space of entries and manual keys.
//!
//! The [`key`] module has the details; [`key_for`] computes the key of a call by hand. The
//! layout and the digests of typed calls are pinned by golden tests: changing them is a
//! breaking change, listed in the changelog.
//!
//! # Values and the wire format
//!
//! A value is stored as bincode 2 (standard configuration) inside a 12-byte envelope:
//!
//! ```text
//! byte 0      magic 0xCA          byte 2   flags: 0x01 lz4-compressed body, 0x02 MAC trailer
//! byte 1      format version 1    byte 3   reserved, 0
//! bytes 4..12 creation time (ms since the Unix epoch, little endian)
//! bytes 12..  the bincode body; with 0x01: its length (u32 LE) + its lz4 block
//! last 32     with 0x02: keyed blake3 MAC of (the storage key, length-prefixed) + every byte before it
//! ```
//!
//! Bodies above [`CacheBuilder::compress_threshold`] (1 KiB) are compressed with lz4 when
//! that makes them smaller; [`CacheBuilder::signing_key`] adds the MAC, so a value planted
//! or altered by anyone without the secret, or copied from another key, is refused. The
//! cached type must be a [`CacheValue`]:
//! `Serialize + DeserializeOwned + Clone + Send + Sync + 'static`.
//!
//! Decoding never trusts the bytes. The envelope is checked, the size is bounded by
//! [`CacheBuilder::max_value_bytes`] (8 MiB) before anything is decoded or decompressed, and
//! bincode reads with a limit, so a forged length fails instead of allocating; decoding
//! stops at nesting deeper than [`CacheBuilder::max_depth`] (128), so a forged deeply
//! nested value cannot overflow the stack. A corrupt, truncated, foreign, other-type or
//! future-format entry is a miss: deleted, counted in [`Stats::decode_errors`], never a
//! panic. A value that encodes larger than the maximum is returned but not stored
//! ([`Stats::oversized`]).
//!
//! # Tiers and coherence
//!
//! Without Redis, the memory store (moka, bounded by entries and by bytes, a TTL per entry)
//! is the only tier. With Redis, a read goes L1 → Redis → body: L1 is an in-process tier of
//! *decoded* values, so an L1 hit is a hash lookup and a clone, with no I/O and no decoding.
//! An entry stays in L1 at most [`CacheBuilder::l1_ttl`] (30 s; per fn `l1_ttl`) and never
//! longer than its Redis TTL; `#[cached(l1 = false)]` keeps a fn out of it and
//! [`CacheBuilder::l1`] turns it off.
//!
//! L1 follows Redis itself: the cache turns on server-assisted client-side caching
//! (`CLIENT TRACKING ON BCAST PREFIX {prefix}:` on a RESP3 connection of its own), so Redis
//! tells every process which of the cache's keys changed, whatever changed them: a write or
//! `DEL` by any client, an expiry, an eviction, `FLUSHALL`. Each invalidation drops the L1
//! copies of its keys; tag, namespace and pattern invalidations follow from the keys they
//! delete. L1 is served only while the tracking connection is up, and it starts empty after
//! every reconnect (the server forgot what it tracked). A value read from Redis goes into L1
//! only if no invalidation of its key arrived since the read began; a value this process
//! writes goes into L1 at its next read (Redis echoes the write as an invalidation).
//! [`Stats::coherence`] says which mechanism is in use; `docs/coherence.md` has the
//! measurements behind the choice of BCAST, and what tracking costs.
//!
//! On a Redis Cluster, the cache tracks on every serving master and follows failovers (see
//! `docs/coherence.md`). A server or proxy that refuses RESP3 or `CLIENT TRACKING` at the
//! first connect (and a cache built with [`CacheBuilder::l1_tracking`]`(false)`) keeps L1
//! coherent through a pub/sub *backplane* instead: every write and invalidation of
//! this framework is applied to Redis, then published, and every process drops the matching
//! L1 entries (keys, tags, namespaces, patterns). Writers outside the framework are then not
//! seen before the L1 TTL. L1 is served only while the subscriber is connected, and starts
//! empty after every (re)subscribe. With tracking, the backplane still carries what a key
//! cannot: an invalidation that came while a miss's body ran, which keeps single flight from
//! handing that body's value to callers that started after it.
//!
//! Either way, an L1 copy is stale for at most the propagation delay while the connection is
//! up, and at most the L1 TTL when a server hangs without closing the connection (it is
//! checked with a PING every second). When Redis dies, L1 is skipped, unless the circuit
//! breaker has given up on Redis: then nobody can write or invalidate through it either, and
//! L1 keeps sparing the database for at most its TTL.
//!
//! # Consistency
//!
//! **Invalidation names the cached call.** `#[cache_invalidate(get_user(id))]` computes the
//! key with the code `#[cached]` generated for `get_user`, so the two cannot drift; tags
//! (`#[cached(tags = ["user:{id}"])]`, [`Cache::invalidate_tag`]) express dependencies, and
//! namespaces and patterns (only `*` is a wildcard) clear by SCAN + UNLINK in batches, never
//! KEYS. An invalidation runs after the body succeeds; a failed one never changes the
//! function's result, and the entry's TTL bounds the staleness. Inside
//! [`defer_invalidations`] they wait for the transaction to commit, and vanish on rollback.
//!
//! **No stale writes.** A reader that misses, reads the database, and stores its result
//! after a writer updated the row and invalidated would leave the old row cached until the
//! TTL. Here a miss takes a *fill lease* on its key before the body runs (on Redis, `SET key
//! lease NX PX .. GET` once the plain GET missed; in memory, a lease table), and its value is
//! stored only while the lease holds (a compare-and-set). Deleting the key, clearing its
//! namespace or a matching pattern, invalidating one of its tags, or writing a newer value
//! ends the lease; the late value is still returned to its caller, not stored
//! ([`Stats::stale_fills_refused`]). No clocks are compared. A body that runs longer than
//! [`CacheBuilder::lease_time`] (30 s) returns its value without storing it. Hits stay one
//! plain GET. `#[cached(batch)]` fills take no lease: their staleness is bounded by the TTL.
//!
//! **One body per key.** Concurrent misses of one key in a process share one run of the
//! body; callers that arrive while the key is being read wait for that read instead of
//! sending their own. A leader that is cancelled or panics hands the flight to a waiter, and
//! a value that an invalidation overtook is not handed to a caller that started after it.
//! Errors are not shared. Across processes, `lock = true` makes a miss that finds another
//! process's lease wait for its value (at most [`CacheBuilder::lock_wait`]). `detach` runs
//! the body on a spawned task that a dropped caller does not cancel; `refresh` recomputes a
//! hit older than its age in the background; `stale_if_error` keeps entries past their TTL
//! and serves them when the body fails; `soft_timeout` serves the stale value when the body
//! is slow; `ttl_jitter` spreads expiries. Each is an argument of [`macro@cached`].
//!
//! # Reliability
//!
//! **Every Redis operation is bounded.** redis-rs alone is not enough: its connection
//! manager can hold a call for seconds while it retries a reconnection, and a hung server
//! with no response timeout hangs the caller. So each command, pipeline or script runs
//! under [`CacheBuilder::operation_timeout`] (250 ms), which also covers the wait for a
//! reconnection, on top of a connect timeout (250 ms) and a response timeout (500 ms). When
//! it passes, a `#[cached]` call runs its body; the manual API returns [`Error::Store`],
//! naming the last connection error seen. A call pays at most one timeout: after a failed
//! read the body runs without asking Redis again, and the callers waiting on it share its
//! value. Failures are counted ([`Stats::errors`], [`Stats::timeouts`],
//! [`Stats::write_errors`]) and logged at warn, at most one line per second per cache.
//!
//! **A circuit breaker per Redis endpoint.** After
//! [`circuit_threshold`](CacheBuilder::circuit_threshold) (5) consecutive transport failures
//! it opens for [`circuit_cool_down`](CacheBuilder::circuit_cool_down) (1 s): the cache does
//! not touch Redis, a call costs one atomic load more than an uncached one, and the manual
//! API returns [`Error::CircuitOpen`]. Then one probe decides. Error replies from a live
//! server (`OOM`, `NOPERM`, `WRONGTYPE`) are counted but never open it. Recovery needs no
//! restart: the connection reconnects, the first probe closes the circuit, and the backplane
//! resubscribes (emptying L1).
//!
//! **An outage of Redis is not an outage of the database.** While the breaker skips Redis,
//! each `#[cached]` value (and [`Cache::get_or_compute`]'s) is kept in process memory for
//! [`fallback_ttl`](CacheBuilder::fallback_ttl) (5 s, never longer than the fn's TTL;
//! `CACHE_FALLBACK_TTL`; zero turns it off), and the next calls of that key in this process
//! are served from there ([`Stats::fallback_hits`]) instead of running the body again. Such
//! a value was computed by this process at most that long ago; invalidations through this
//! cache drop it, and none is served once Redis answers again. A hit on Redis or L1 never
//! looks at it. The staleness bound and measured body runs are in
//! `docs/reliability.md`.
//!
//! **Foreign bytes are misses.** A value the cache cannot read (corrupt, of another type,
//! nested deeper than [`max_depth`](CacheBuilder::max_depth), or starting like a fill lease
//! without being one) is a miss, counted in [`Stats::decode_errors`], and deleted only if it
//! still holds the bytes that were read, so a good value another process wrote meanwhile
//! stays.
//!
//! **Building.** [`CacheBuilder::build`] PINGs once. A malformed URL or a wrong password is
//! always an error; a Redis that does not answer is one only with
//! [`require_redis(true)`](CacheBuilder::require_redis) (`CACHE_REQUIRE_REDIS=true`), and by
//! default the cache starts without it and uses it as soon as it answers.
//!
//! **The manual API reports, `#[cached]` fails open.** [`Cache::get`] and the other manual
//! methods return [`Error::Store`], [`Error::CircuitOpen`] or [`Error::TooLarge`];
//! [`Cache::get_or_compute`] fails open like the attribute.
//!
//! # Cluster and topologies
//!
//! * **One process, no server**: the memory store.
//! * **One Redis node**: `REDIS_URL` or [`CacheBuilder::redis_url`]; AUTH with a password or
//!   an ACL user from the URL or [`CacheBuilder::redis_username`] /
//!   [`redis_password`](CacheBuilder::redis_password). Concurrent GETs are merged into MGETs
//!   under load ([`CacheBuilder::coalesce_reads`]).
//! * **Redis Cluster** (feature `cluster`): [`CacheBuilder::cluster_nodes`] or
//!   `REDIS_CLUSTER_NODES`. The attributes, manual API, tiers, backplane, leases and fault
//!   handling are unchanged. Single-key operations and scripts go to the key's slot;
//!   `get_many` and `delete_many` are split per slot; namespace and pattern clears SCAN every
//!   master with its own cursor; an entry and each of its tag indexes are written in their
//!   own slots. There is a circuit breaker per 1,024 slots (chosen by the key's CRC16, hash
//!   tags honoured) plus one for multi-node operations, so one dead master leaves the keys of
//!   the others cached.
//! * **Redis Sentinel** (feature `sentinel`): [`CacheBuilder::sentinel`] or
//!   `REDIS_SENTINEL_NODES` with `REDIS_SENTINEL_MASTER`. The cache asks the sentinels for
//!   the master, and when a command fails for want of it, asks again and moves every later
//!   command and the backplane's subscription to the master they name; calls fail open
//!   meanwhile, as in any outage. Credentials and TLS are set as for one node.
//! * **Valkey** 8.1, one node or a cluster: the same suites pass on it as on Redis 7.0. A
//!   fill's compare-and-set is one `SET key value IFEQ lease` where the server takes it
//!   (Valkey 8.1+, Redis 8.4+) and a script elsewhere; a connection finds out by sending it
//!   once. The repository's `docs/compatibility.md` has the versions, topologies and suites.
//! * **TLS** (feature `tls`): `rediss://` URLs or cluster nodes, trusting the system roots or
//!   [`CacheBuilder::tls_root_cert`], with [`CacheBuilder::tls_client_cert`] for servers that
//!   ask for a client certificate. A file with no PEM certificate or key is an
//!   [`Error::Config`] at build time.
//!
//! # Web integration
//!
//! With the `axum` feature, `#[cached]` sits on axum 0.8 handlers (the key is what the
//! extractors bind; return [`web::Json`] instead of axum's, which is not serializable), and
//! [`web::CacheLayer`] runs each request in a [`scope::RequestScope`]: a `Cache-Control:
//! no-cache` request or a `?fresh=true` flag bypasses the cache for every cached call of the
//! request, and an `X-Cache: hit|miss|stale|bypass` header sums them up. [`admin::router`]
//! is an admin API (stats, health, invalidation, warming, key listing) behind a bearer
//! token, with a self-contained HTML dashboard. With the `sessions` feature,
//! [`sessions::CacheSessionStore`] is a tower-sessions store on any cache, memory or Redis.
//! The repository's `examples/axum_service` uses them together.
//!
//! [`web::CacheLayer`]: web/struct.CacheLayer.html
//! [`web::Json`]: web/struct.Json.html
//! [`admin`]: admin/index.html
//! [`admin::router`]: admin/fn.router.html
//! [`sessions::CacheSessionStore`]: sessions/struct.CacheSessionStore.html
//!
//! # Operating
//!
//! [`Cache::stats`] has the totals; [`Cache::namespace_stats`] has, per namespace, calls,
//! hits by tier, misses, errors, sampled latency percentiles and the most requested keys.
//! With a subscriber at debug level for `cache_runtime::call`, each call runs in a
//! `cached{namespace=..}` span and ends with one line saying how it was served. The `metrics`
//! feature reports the same counters to the `metrics` facade. [`Cache::health`] and
//! [`Cache::keys`] answer an operator; [`Cache::register_warmer`] and [`warm_each`] fill the
//! cache ahead of traffic. The repository's `docs/operating.md` lists the metric names.

#![doc(test(attr(deny(warnings))))]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate self as cache_runtime;

mod cache;
mod call;
mod codec;
mod error;
mod invalidate;
pub mod key;
mod observe;
mod ops;
mod store;
mod tier;
/// axum and tower integration: `CacheLayer` (per-request bypass, `X-Cache`), a cacheable
/// `Json`, the admin API and dashboard, and a tower-sessions store (feature `axum`,
/// `sessions`).
#[cfg(any(feature = "axum", feature = "sessions"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "axum", feature = "sessions"))))]
pub mod web;

#[doc(inline)]
pub use observe::scope;
/// The admin API and dashboard, an axum router: stats, health, invalidation, warming (feature
/// `axum`).
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
#[doc(inline)]
pub use web::admin;
/// A tower-sessions `SessionStore` on the cache, for axum (feature `sessions`).
#[cfg(feature = "sessions")]
#[cfg_attr(docsrs, doc(cfg(feature = "sessions")))]
#[doc(inline)]
pub use web::sessions;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use cache::builder::{
    CacheBuilder, DEFAULT_COMPRESS_THRESHOLD, DEFAULT_MAX_DEPTH, DEFAULT_MAX_VALUE_BYTES,
    DEFAULT_OPERATION_TIMEOUT, DEFAULT_TTL, MIN_SIGNING_KEY_BYTES,
};
pub use cache::compute::ComputeOptions;
pub use cache::config::ENV_VARS;
pub use cache::global::{global, init};
pub use cache::Cache;
pub use error::{Error, Result};
pub use invalidate::defer::defer_invalidations;
pub use invalidate::Plan;
pub use key::pattern::MAX_WILDCARDS;
pub use key::{key_for, tag_part, CacheKey, KeyArgs, KeyBuilder, KeyPart, TagPart};
pub use observe::stats::{CircuitState, Stats};
pub use observe::Coherence;
pub use observe::{LatencySummary, NamespaceStats, Served, TopKey};
pub use ops::health::Health;
pub use ops::warm::{warm_each, WarmReport, WarmerStats};

// The attributes, each with its reference (every argument, with an example).
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use cache_macros::{cache_invalidate, cache_put, cache_targets, cached};

/// What a cached value must be: serializable both ways, cloneable, shareable, owned.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in the cache",
    label = "a cached value must implement `Serialize`, `DeserializeOwned`, `Clone`, `Send` and `Sync`, and be `'static`",
    note = "an axum handler returns `cache_runtime::web::Json<T>` (feature `axum`), which is \
            both a response and serializable, instead of `axum::Json<T>`"
)]
pub trait CacheValue:
    serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static
{
}

impl<T> CacheValue for T where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static
{
}

/// `d` in whole milliseconds; `u64::MAX` when it does not fit.
pub(crate) fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The README's Rust blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

impl AsRef<str> for CacheKey {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}
