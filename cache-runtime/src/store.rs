//! Where entries live: the in-process memory store (the embedded default) or Redis, behind
//! one [`Backend`] whose methods are the operations the cache needs of its store. A disabled
//! store (the global cache whose configuration failed) answers every one of them with an
//! error naming the cause.

pub(crate) mod memory;
#[cfg(feature = "redis")]
pub(crate) mod redis;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::codec::value::{Erased, Typed};
use crate::error::{Error, Result};
use crate::CacheValue;
use memory::{MemEntry, MemoryStore};

/// The store behind one [`Cache`](crate::Cache).
// One per cache, inside its shared `Inner`: boxing the larger variant would only add a
// pointer chase to every operation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Backend {
    /// Process memory (moka); the default when no Redis URL is configured.
    Memory(memory::MemoryStore),
    /// A Redis server.
    #[cfg(feature = "redis")]
    Redis(redis::RedisStore),
    /// Configuration failed (for the global cache built from the environment): every call
    /// runs its body, and every cache operation is an error naming the cause.
    Disabled(String),
}

impl Backend {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Backend::Memory(_) => "memory",
            #[cfg(feature = "redis")]
            Backend::Redis(_) => "redis",
            Backend::Disabled(_) => "disabled",
        }
    }

    /// Why the store is disabled, if it is.
    pub(crate) fn disabled_reason(&self) -> Option<&str> {
        match self {
            Backend::Disabled(reason) => Some(reason),
            _ => None,
        }
    }

    /// The circuit breaker's state (`Closed` for the memory store).
    pub(crate) fn circuit(&self) -> crate::observe::stats::CircuitState {
        match self {
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.circuit_state(),
            _ => crate::observe::stats::CircuitState::Closed,
        }
    }
}

/// What a read found: an entry of the memory store (its value is kept decoded beside its
/// bytes), or the bytes Redis returned.
pub(crate) enum Found {
    Entry(Arc<MemEntry>),
    #[cfg(feature = "redis")]
    Bytes(Vec<u8>),
}

impl Found {
    /// The stored bytes (an envelope, or something else written under the key).
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Found::Entry(entry) => &entry.bytes,
            #[cfg(feature = "redis")]
            Found::Bytes(bytes) => bytes,
        }
    }

    /// The value kept decoded beside the bytes (memory store only).
    pub(crate) fn kept(&self) -> Option<&Typed> {
        match self {
            Found::Entry(entry) => entry.value.as_ref(),
            #[cfg(feature = "redis")]
            Found::Bytes(_) => None,
        }
    }

    /// Whether the entry is still fresh for a function whose TTL is `fresh_ttl`: written
    /// less than that long ago (the memory store's entry by its write time, Redis's bytes by
    /// the envelope's).
    pub(crate) fn fresh(&self, fresh_ttl: Duration) -> bool {
        match self {
            Found::Entry(entry) => entry.created.elapsed() < fresh_ttl,
            #[cfg(feature = "redis")]
            Found::Bytes(bytes) => crate::codec::is_fresh(bytes, fresh_ttl) == Some(true),
        }
    }

    /// The value kept decoded, if it is a `T` (memory store only).
    pub(crate) fn typed<T: Clone + 'static>(&self) -> Option<T> {
        match self {
            Found::Entry(entry) => entry.typed::<T>(),
            #[cfg(feature = "redis")]
            Found::Bytes(_) => None,
        }
    }
}

/// A fill lease: the right to store the value of one miss, from the store that granted it.
pub(crate) enum Lease {
    Memory(memory::lease::Lease),
    #[cfg(feature = "redis")]
    Redis(redis::lease::Lease),
}

/// What taking a fill lease found, whichever store took it.
pub(crate) enum Leasing {
    /// A stored value (envelope bytes): on Redis the lease command reads what it finds.
    #[cfg(feature = "redis")]
    Value(Vec<u8>),
    /// Nothing: this caller now holds the lease and may fill.
    Leased(Lease),
    /// Another caller is filling: compute, but do not store.
    Busy,
    /// The server takes no writes now (`OOM`, `READONLY`, `MISCONF`, `NOREPLICAS`): nothing
    /// was read, and this miss may not fill.
    #[cfg(feature = "redis")]
    Refused(Error),
    /// The lease was taken but could not be recorded in the tag indexes (and was given
    /// back): a tag invalidation could miss the fill, so this miss may not fill.
    #[cfg(feature = "redis")]
    Unregistered(Error),
}

/// The fill lease of `key` in the memory store.
fn memory_lease(mem: &MemoryStore, key: &str) -> Leasing {
    match mem.acquire(key) {
        memory::lease::Acquired::Leased(lease) => Leasing::Leased(Lease::Memory(lease)),
        memory::lease::Acquired::Busy => Leasing::Busy,
    }
}

/// The error of every operation on a disabled store.
pub(crate) fn disabled(reason: &str) -> Error {
    Error::store(format_args!("the cache is disabled: {reason}"))
}

impl Backend {
    /// `Err` naming the cause when the store is disabled.
    pub(crate) fn check(&self) -> Result<()> {
        match self {
            Backend::Disabled(reason) => Err(disabled(reason)),
            _ => Ok(()),
        }
    }

    /// Whether the store is out of process (Redis): reads are I/O, and other processes
    /// share it, so their in-process copies must hear of every change.
    #[inline]
    pub(crate) fn remote(&self) -> bool {
        #[cfg(feature = "redis")]
        if let Backend::Redis(_) = self {
            return true;
        }
        false
    }

    /// The Redis store, when it is the store (for the builder, which starts the tiers that
    /// follow it).
    #[cfg(feature = "redis")]
    pub(crate) fn redis(&self) -> Option<&redis::RedisStore> {
        match self {
            Backend::Redis(redis) => Some(redis),
            _ => None,
        }
    }

    /// The memory store, when it is the store.
    #[inline]
    pub(crate) fn memory(&self) -> Option<&MemoryStore> {
        match self {
            Backend::Memory(mem) => Some(mem),
            _ => None,
        }
    }

    /// Whether `key` holds the fill lease `bytes` (a miss in progress), on Redis.
    #[cfg(feature = "redis")]
    pub(crate) async fn holds_lease(&self, key: &str, bytes: &[u8]) -> bool {
        match self {
            Backend::Redis(redis) => redis.holds_lease(key, bytes).await,
            _ => false,
        }
    }

    /// Whether the circuit breaker in front of `key` is open (or half-open): never for the
    /// memory store.
    pub(crate) fn circuit_open_for(&self, key: &str) -> bool {
        #[cfg(feature = "redis")]
        if let Backend::Redis(redis) = self {
            return redis.circuit_open_for(key);
        }
        let _ = key;
        false
    }

    /// How long Redis is given to answer a connection (`None`: no Redis).
    #[cfg(feature = "redis")]
    pub(crate) fn connect_timeout(&self) -> Option<Duration> {
        match self {
            Backend::Redis(redis) => Some(redis.connect_timeout()),
            _ => None,
        }
    }

    /// Whether the Redis server refused the last fill lease because it takes no writes now.
    #[inline]
    pub(crate) fn writes_refused(&self) -> bool {
        #[cfg(feature = "redis")]
        if let Backend::Redis(redis) = self {
            return redis.writes_refused();
        }
        false
    }

    /// Sends `message()` to every process on the backplane channel (Redis only: nothing to
    /// send otherwise).
    #[cfg(feature = "redis")]
    pub(crate) async fn publish(&self, message: impl FnOnce() -> Vec<u8>) -> Result<()> {
        match self {
            Backend::Redis(redis) => redis.publish(&message()).await,
            _ => Ok(()),
        }
    }

    /// The bytes stored under `key`.
    #[cfg(feature = "redis")]
    pub(crate) async fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Backend::Memory(mem) => Ok(mem.get(key).map(|entry| entry.bytes.to_vec())),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.get(key).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Stores the envelope `bytes` of `value` under `key` for `ttl` if the key still holds
    /// exactly `served`; returns whether it did. In memory the write takes a fill lease, so
    /// an invalidation in between still wins.
    pub(crate) async fn replace(
        &self,
        key: &str,
        served: &[u8],
        bytes: &[u8],
        value: &dyn Erased,
        ttl: Duration,
        tags: &[String],
    ) -> Result<bool> {
        match self {
            Backend::Memory(mem) => {
                let current = mem.get(key);
                if current.as_ref().map(|e| &*e.bytes) != Some(served) {
                    return Ok(false); // invalidated or rewritten meanwhile
                }
                let memory::lease::Acquired::Leased(lease) = mem.acquire(key) else {
                    return Ok(false);
                };
                let entry =
                    MemEntry::new(bytes.into(), Some(value.to_typed()), ttl).with_tags(tags);
                Ok(mem.fill(key, &lease, entry))
            }
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.replace(key, served, bytes, ttl, tags).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// The circuit breakers' count of closings, on Redis (see
    /// [`fallback`](crate::tier::fallback)).
    #[cfg(feature = "redis")]
    pub(crate) fn circuit_closings(&self) -> Option<u64> {
        match self {
            Backend::Redis(redis) => Some(redis.circuit_closings()),
            _ => None,
        }
    }

    /// Takes the fill lease of `key` for a miss whose value is kept for `ttl`. On Redis the
    /// lease command reads the key too, and a lease of a tagged fn is recorded in the
    /// indexes of `tags` before it is handed out (one more round trip), so that a tag
    /// invalidation ends it; the memory store records tags at the fill.
    pub(crate) async fn lease(&self, key: &str, tags: &[String], ttl: Duration) -> Result<Leasing> {
        #[cfg(not(feature = "redis"))]
        let _ = (tags, ttl);
        match self {
            Backend::Memory(mem) => Ok(memory_lease(mem, key)),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => Ok(match redis.read_or_lease(key).await? {
                redis::lease::Read::Value(bytes) => Leasing::Value(bytes),
                redis::lease::Read::Leased(lease) if !tags.is_empty() => {
                    match redis.register_fill(key, tags, ttl).await {
                        Ok(()) => Leasing::Leased(Lease::Redis(lease)),
                        Err(e) => {
                            let _ = redis.release(key, &lease).await;
                            Leasing::Unregistered(e)
                        }
                    }
                }
                redis::lease::Read::Leased(lease) => Leasing::Leased(Lease::Redis(lease)),
                redis::lease::Read::Busy => Leasing::Busy,
                redis::lease::Read::Refused(e) => Leasing::Refused(e),
            }),
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Takes the fill lease of `key` if that takes no round trip (the memory store); `None`
    /// when it takes one: then [`lease`](Backend::lease) does it.
    #[inline]
    pub(crate) fn lease_here(&self, key: &str) -> Option<Leasing> {
        match self {
            Backend::Memory(mem) => Some(memory_lease(mem, key)),
            _ => None,
        }
    }

    /// Takes over the fill lease `stored` that this process's dropped caller left on
    /// `key` (Redis): a new lease replaces it if the key still holds it; `None` when it
    /// was released meanwhile.
    #[cfg(feature = "redis")]
    pub(crate) async fn adopt(&self, key: &str, stored: &[u8]) -> Result<Option<Lease>> {
        match self {
            Backend::Redis(redis) => Ok(redis.adopt(key, stored).await?.map(Lease::Redis)),
            Backend::Memory(_) => Ok(None),
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Gives `lease` back if that takes no round trip (a memory lease); `false` when it
    /// takes one: then [`release`](Backend::release) does it.
    pub(crate) fn release_here(&self, key: &str, lease: &Lease) -> bool {
        match (lease, self) {
            (Lease::Memory(lease), Backend::Memory(mem)) => {
                mem.release(key, lease);
                true
            }
            #[cfg(feature = "redis")]
            (Lease::Redis(_), Backend::Redis(_)) => false,
            // A lease always comes from the cache's own store.
            _ => true,
        }
    }

    /// Gives `lease` back, so that the next miss may fill.
    pub(crate) async fn release(&self, key: &str, lease: &Lease) -> Result<()> {
        match (lease, self) {
            (Lease::Memory(lease), Backend::Memory(mem)) => {
                mem.release(key, lease);
                Ok(())
            }
            #[cfg(feature = "redis")]
            (Lease::Redis(lease), Backend::Redis(redis)) => redis.release(key, lease).await,
            _ => Ok(()),
        }
    }

    /// Stores the envelope `bytes` of `value` under `key` for `ttl` if `lease` still holds
    /// (no invalidation ended it); returns whether it did.
    pub(crate) async fn fill(
        &self,
        key: &str,
        lease: &Lease,
        bytes: &[u8],
        value: &dyn Erased,
        ttl: Duration,
        tags: &[String],
    ) -> Result<bool> {
        match (lease, self) {
            (Lease::Memory(lease), Backend::Memory(mem)) => {
                let entry =
                    MemEntry::new(bytes.into(), Some(value.to_typed()), ttl).with_tags(tags);
                Ok(mem.fill(key, lease, entry))
            }
            #[cfg(feature = "redis")]
            (Lease::Redis(lease), Backend::Redis(redis)) => {
                redis.fill(key, lease, bytes, ttl, tags).await
            }
            // A lease always comes from the cache's own store.
            _ => Ok(false),
        }
    }

    /// Reads `key`.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<Found>> {
        match self {
            Backend::Memory(mem) => Ok(mem.get(key).map(Found::Entry)),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => Ok(redis.get(key).await?.map(Found::Bytes)),
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Reads many keys at once (one MGET on Redis), in the order of `keys`.
    pub(crate) async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Found>>> {
        match self {
            Backend::Memory(mem) => Ok(keys
                .iter()
                .map(|key| mem.get(key).map(Found::Entry))
                .collect()),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => Ok(redis
                .get_many(keys)
                .await?
                .into_iter()
                .map(|bytes| bytes.map(Found::Bytes))
                .collect()),
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Stores the envelope `bytes` of `value` under `key` for `ttl`, recorded under each of
    /// `tags` (the memory store keeps `value` itself too).
    pub(crate) async fn set<T: CacheValue>(
        &self,
        key: &str,
        bytes: Vec<u8>,
        value: &T,
        ttl: Duration,
        tags: &[String],
    ) -> Result<()> {
        match self {
            Backend::Memory(mem) => {
                let typed: Arc<dyn std::any::Any + Send + Sync> = Arc::new(value.clone());
                mem.insert(
                    key,
                    MemEntry::new(bytes.into(), Some(typed), ttl).with_tags(tags),
                );
                Ok(())
            }
            #[cfg(feature = "redis")]
            Backend::Redis(redis) if tags.is_empty() => redis.set(key, &bytes, ttl).await,
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.set_tagged(key, &bytes, ttl, tags).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Stores many envelopes at once (one pipeline on Redis), each for `ttl`, each beside
    /// its value in the memory store.
    pub(crate) async fn set_many<T: CacheValue>(
        &self,
        items: &[(&str, &[u8], &T)],
        ttl: Duration,
    ) -> Result<()> {
        match self {
            Backend::Memory(mem) => {
                for (key, bytes, value) in items {
                    let typed: Arc<dyn std::any::Any + Send + Sync> = Arc::new((*value).clone());
                    mem.insert(key, MemEntry::new((*bytes).into(), Some(typed), ttl));
                }
                Ok(())
            }
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => {
                let refs: Vec<(&str, &[u8])> =
                    items.iter().map(|(key, bytes, _)| (*key, *bytes)).collect();
                redis.set_many(&refs, ttl).await
            }
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Deletes `key`; returns whether it existed.
    pub(crate) async fn delete(&self, key: &str) -> Result<bool> {
        match self {
            Backend::Memory(mem) => Ok(mem.remove(key)),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.delete(key).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Deletes `key` if it still holds exactly `read`; returns whether it did.
    pub(crate) async fn delete_if_holds(&self, key: &str, read: &[u8]) -> Result<bool> {
        match self {
            Backend::Memory(mem) => Ok(mem.remove_if_holds(key, read)),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.delete_if_holds(key, read).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Deletes many keys at once (one UNLINK on Redis); returns how many existed.
    pub(crate) async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        match self {
            Backend::Memory(mem) => Ok(keys.iter().filter(|k| mem.remove(k)).count() as u64),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.delete_many(keys).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Deletes every key matching `pattern` (see
    /// [`Cache::clear_pattern`](crate::Cache::clear_pattern)); returns how many.
    pub(crate) async fn delete_matching(&self, pattern: &str) -> Result<u64> {
        match self {
            Backend::Memory(mem) => Ok(mem.remove_matching(pattern)),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.delete_matching(pattern).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Deletes every entry recorded under `tag`; returns how many.
    pub(crate) async fn delete_tag(&self, tag: &str) -> Result<u64> {
        match self {
            Backend::Memory(mem) => Ok(mem.remove_tag(tag)),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.delete_tag(tag).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Whether `key` holds an unexpired entry.
    pub(crate) async fn exists(&self, key: &str) -> Result<bool> {
        match self {
            Backend::Memory(mem) => Ok(mem.get(key).is_some()),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.exists(key).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// Gives `key` a new TTL from now; returns whether it existed.
    pub(crate) async fn expire(&self, key: &str, ttl: Duration) -> Result<bool> {
        match self {
            Backend::Memory(mem) => Ok(mem.expire(key, ttl)),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.expire(key, ttl).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// The remaining TTL of `key` (`None`: no such key, or no expiry).
    pub(crate) async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        match self {
            Backend::Memory(mem) => Ok(mem
                .get(key)
                .map(|e| e.expires_at.saturating_duration_since(Instant::now()))),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.ttl(key).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// At most `limit` keys matching `pattern`, without the prefix.
    pub(crate) async fn keys_matching(&self, pattern: &str, limit: usize) -> Result<Vec<String>> {
        match self {
            Backend::Memory(mem) => Ok(mem.keys_matching(pattern, limit)),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.keys_matching(pattern, limit).await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }

    /// The round trip of a PING (zero for the memory store).
    pub(crate) async fn ping(&self) -> Result<Duration> {
        match self {
            Backend::Memory(_) => Ok(Duration::ZERO),
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => redis.ping().await,
            Backend::Disabled(reason) => Err(disabled(reason)),
        }
    }
}
