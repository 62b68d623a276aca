//! Typed reads and writes shared by `#[cached]` and the manual API, and error accounting.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::cache::Cache;
use crate::codec;
use crate::codec::value::{Typed, ValueType};
use crate::error::{Error, Result};
use crate::observe::stats::Counters;
use crate::store::Found;
use crate::tier::backplane::Forget;
use crate::CacheValue;

/// Log at most one warning per this many milliseconds per cache.
const LOG_INTERVAL_MS: u64 = 1_000;

impl Cache {
    /// Reads `key` as a `T`: `Ok(None)` on a miss, also when the stored bytes are corrupt,
    /// foreign or of another type (the entry is then deleted and counted).
    pub(crate) async fn read<T: CacheValue>(&self, key: &str) -> Result<Option<T>> {
        self.read_with(key, |value: T, _| value).await
    }

    /// [`read`](Cache::read), handing `keep` the value and the bytes it was read from (so
    /// that a caller who finds the value unusable can delete exactly those bytes, with
    /// [`remove_unreadable`](Cache::remove_unreadable)).
    pub(crate) async fn read_with<T: CacheValue, R>(
        &self,
        key: &str,
        keep: impl FnOnce(T, &[u8]) -> R,
    ) -> Result<Option<R>> {
        let inner = &*self.inner;
        let found = match inner.backend.get(key).await {
            Ok(Some(found)) => {
                (self.found_value(key, &found).await).map(|v| keep(v, found.bytes()))
            }
            Ok(None) => None,
            Err(e) => return Err(self.failed("get", e)),
        };
        Counters::bump(if found.is_some() {
            &inner.counters.hits
        } else {
            &inner.counters.misses
        });
        Ok(found)
    }

    /// What a read found as a `T`: the value the memory store kept if it has that type, else
    /// decoded from the bytes (unreadable bytes are deleted and counted).
    pub(crate) async fn found_value<T: CacheValue>(&self, key: &str, found: &Found) -> Option<T> {
        match found.typed::<T>() {
            Some(value) => Some(value),
            None => self.decode_or_drop(key, found.bytes()).await,
        }
    }

    /// What a read found, for the miss path (whose value type is erased): the value the
    /// memory store kept if it has type `ty`, else decoded from the bytes (an unreadable
    /// entry is deleted and counted).
    pub(crate) async fn found_typed(
        &self,
        key: &str,
        found: &Found,
        ty: ValueType,
    ) -> Option<Typed> {
        match found.kept().filter(|value| ty.holds(value)) {
            Some(value) => Some(Typed::clone(value)),
            None => self.decode_or_drop_typed(key, found.bytes(), ty).await,
        }
    }

    /// Decodes stored bytes; on failure deletes the entry, counts it and logs at warn.
    pub(crate) async fn decode_or_drop<T: CacheValue>(&self, key: &str, bytes: &[u8]) -> Option<T> {
        if self.fill_in_progress(key, bytes).await {
            return None;
        }
        match codec::decode::<T>(bytes, key, &self.inner.encoding()) {
            Ok(value) => Some(value),
            Err(e) => {
                self.drop_unreadable(key, bytes, e).await;
                None
            }
        }
    }

    /// [`decode_or_drop`](Cache::decode_or_drop) for the miss path, whose value type is
    /// erased.
    pub(crate) async fn decode_or_drop_typed(
        &self,
        key: &str,
        bytes: &[u8],
        ty: ValueType,
    ) -> Option<Typed> {
        if self.fill_in_progress(key, bytes).await {
            return None;
        }
        match ty.decode(bytes, key, &self.inner.encoding()) {
            Ok(value) => Some(value),
            Err(e) => {
                self.drop_unreadable(key, bytes, e).await;
                None
            }
        }
    }

    /// Whether `bytes`, read from `key`, are a fill lease still held: a miss, and the lease
    /// stays.
    #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
    async fn fill_in_progress(&self, key: &str, bytes: &[u8]) -> bool {
        #[cfg(feature = "redis")]
        if crate::store::redis::lease::shaped(bytes)
            && self.inner.backend.holds_lease(key, bytes).await
        {
            return true;
        }
        false
    }

    /// Deletes an entry that does not decode (if it still holds `bytes`), counts it and logs
    /// at warn.
    async fn drop_unreadable(&self, key: &str, bytes: &[u8], e: codec::DecodeError) {
        Counters::bump(&self.inner.counters.decode_errors);
        if e.bad_signature {
            Counters::bump(&self.inner.counters.bad_signatures);
        }
        #[cfg(feature = "redis")]
        if bytes == crate::store::redis::NOT_A_STRING {
            self.warn(format_args!(
                "dropping `{key}`: it holds a Redis type other than a string"
            ));
        } else {
            self.warn(format_args!("dropping unreadable entry `{key}`: {e}"));
        }
        #[cfg(not(feature = "redis"))]
        self.warn(format_args!("dropping unreadable entry `{key}`: {e}"));
        // Best effort: a failed delete leaves the entry to its TTL.
        let _ = self.remove_unreadable(key, bytes).await;
    }

    /// Encodes and stores `value` under `key` for `ttl`.
    pub(crate) async fn write<T: CacheValue>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
    ) -> Result<()> {
        self.write_tagged(key, value, ttl, &[]).await
    }

    /// Encodes and stores `value` under `key` for `ttl`, recorded under each of `tags`.
    pub(crate) async fn write_tagged<T: CacheValue>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
        tags: &[String],
    ) -> Result<()> {
        self.write_with(key, value, ttl, tags, true).await
    }

    /// [`write_tagged`](Cache::write_tagged), compressing only if `compress` (a function's
    /// `compress = false` turns it off).
    pub(crate) async fn write_with<T: CacheValue>(
        &self,
        key: &str,
        value: &T,
        ttl: Duration,
        tags: &[String],
        compress: bool,
    ) -> Result<()> {
        let inner = &*self.inner;
        let encoding = inner.encoding().compress(compress);
        let bytes = match codec::encode(value, key, &encoding) {
            Ok(bytes) => bytes,
            Err(e @ Error::TooLarge { .. }) => {
                Counters::bump(&inner.counters.oversized);
                self.warn(format_args!("not caching `{key}`: {e}"));
                return Err(e);
            }
            Err(e) => return Err(self.failed("encode", e)),
        };
        let compressed = codec::is_compressed(&bytes);
        if let Err(e) = inner.backend.set(key, bytes, value, ttl, tags).await {
            return Err(self.failed("set", e));
        }
        // A write replaces what callers waiting on a miss would be handed, and L1 copies
        // of the old value (here and in other processes) go.
        self.forget(Forget::Key(key)).await;
        self.count_write(compressed);
        Ok(())
    }

    /// Counts a value stored (in [`Stats::writes`](crate::Stats::writes), and in
    /// [`Stats::compressed`](crate::Stats::compressed) if it was stored compressed).
    pub(crate) fn count_write(&self, compressed: bool) {
        Counters::bump(&self.inner.counters.writes);
        if compressed {
            Counters::bump(&self.inner.counters.compressed);
        }
    }

    /// Deletes one key from the store.
    pub(crate) async fn remove(&self, key: &str) -> Result<bool> {
        let removed = (self.inner.backend.delete(key).await).map_err(|e| self.failed("delete", e));
        self.forget(Forget::Key(key)).await;
        removed
    }

    /// Deletes `key` if it still holds `read`, the unreadable bytes just read from it, and
    /// only then drops the L1 copies: a good value another process stored in between (a
    /// newer release during a rolling deploy, say) stays (see
    /// `store/redis/unreadable.rs`).
    pub(crate) async fn remove_unreadable(&self, key: &str, read: &[u8]) -> Result<bool> {
        let removed = (self.inner.backend.delete_if_holds(key, read).await)
            .map_err(|e| self.failed("delete", e))?;
        if removed {
            self.forget(Forget::Key(key)).await;
        }
        Ok(removed)
    }

    /// Counts a failed operation, logs it (rate-limited), and hands the error back.
    ///
    /// An operation the circuit breaker skipped is not an error (it is counted in
    /// [`Stats::short_circuited`](crate::Stats::short_circuited) and not logged: the breaker
    /// logged once when it opened). Failed writes are also counted in
    /// [`Stats::write_errors`](crate::Stats::write_errors).
    pub(crate) fn failed(&self, op: &str, error: Error) -> Error {
        if matches!(error, Error::CircuitOpen { .. }) {
            return error;
        }
        Counters::bump(&self.inner.counters.errors);
        if matches!(op, "set" | "set_many" | "lease" | "register" | "expire") {
            Counters::bump(&self.inner.counters.write_errors);
        }
        self.warn(format_args!("cache {op} failed: {error}"));
        error
    }

    /// A warning, at most one per second per cache; the suppressed count is reported.
    pub(crate) fn warn(&self, message: std::fmt::Arguments<'_>) {
        let inner = &*self.inner;
        let now = crate::millis(inner.started.elapsed());
        let last = inner.last_log_ms.load(Relaxed);
        let due = now.saturating_sub(last) >= LOG_INTERVAL_MS || last == 0;
        if due
            && inner
                .last_log_ms
                .compare_exchange(last, now.max(1), Relaxed, Relaxed)
                .is_ok()
        {
            let suppressed = inner.suppressed_logs.swap(0, Relaxed);
            tracing::warn!(suppressed, "{message}");
            return;
        }
        inner.suppressed_logs.fetch_add(1, Relaxed);
    }
}
