//! The in-process store: moka, bounded by entries and by bytes, with a TTL per entry.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use moka::notification::RemovalCause;
use moka::Expiry;

use crate::key::pattern::Pattern;
use crate::observe::stats::Counters;

pub(crate) mod lease;

use lease::{Acquired, Lease, Leases};

/// One stored value: its envelope bytes, and the decoded value when the writer had it.
///
/// Keeping the decoded value makes a hit a hash lookup plus a clone (no decoding); the bytes
/// stay so that a read of another type, `get_many` and the byte bound work as on Redis.
pub(crate) struct MemEntry {
    pub(crate) bytes: Arc<[u8]>,
    pub(crate) value: Option<Arc<dyn Any + Send + Sync>>,
    pub(crate) ttl: Duration,
    pub(crate) expires_at: Instant,
    /// When the entry was written (fresh for its function's TTL from then).
    pub(crate) created: Instant,
    /// Tags this entry is recorded under.
    pub(crate) tags: Option<Arc<[Box<str>]>>,
    /// Identifies this write, so the tag index drops a key only for the entry it recorded.
    id: u64,
}

impl MemEntry {
    pub(crate) fn new(
        bytes: Arc<[u8]>,
        value: Option<Arc<dyn Any + Send + Sync>>,
        ttl: Duration,
    ) -> Self {
        MemEntry {
            bytes,
            value,
            ttl,
            expires_at: Instant::now() + ttl,
            created: Instant::now(),
            tags: None,
            id: 0,
        }
    }

    /// The decoded value, if the writer stored one of type `T`: a clone, no decoding.
    #[inline]
    pub(crate) fn typed<T: Clone + 'static>(&self) -> Option<T> {
        self.value.as_ref()?.downcast_ref::<T>().cloned()
    }

    /// Records the entry under `tags` when it is inserted.
    pub(crate) fn with_tags(mut self, tags: &[String]) -> Self {
        if !tags.is_empty() {
            self.tags = Some(tags.iter().map(|t| Box::from(t.as_str())).collect());
        }
        self
    }
}

/// Which keys are recorded under each tag, and by which write.
///
/// Bounded by the live entries: when moka removes an entry (expired, evicted, replaced,
/// deleted), its keys leave the index, unless a newer write of the same key recorded them.
#[derive(Default)]
struct TagIndex {
    next_id: AtomicU64,
    members: Mutex<Members>,
}

/// tag → (key → id of the write that recorded it)
type Members = HashMap<Box<str>, HashMap<Arc<str>, u64>>;

impl TagIndex {
    fn lock(&self) -> std::sync::MutexGuard<'_, Members> {
        // The map stays consistent whatever panicked while holding it: recover it.
        self.members.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, key: &Arc<str>, entry: &MemEntry) {
        if let Some(tags) = &entry.tags {
            let mut members = self.lock();
            for tag in tags.iter() {
                members
                    .entry(tag.clone())
                    .or_default()
                    .insert(key.clone(), entry.id);
            }
        }
    }

    fn forget(&self, key: &str, entry: &MemEntry) {
        if let Some(tags) = &entry.tags {
            let mut members = self.lock();
            for tag in tags.iter() {
                if let Some(keys) = members.get_mut(tag) {
                    if keys.get(key) == Some(&entry.id) {
                        keys.remove(key);
                    }
                    if keys.is_empty() {
                        members.remove(tag);
                    }
                }
            }
        }
    }
}

struct PerEntryTtl;

impl Expiry<Arc<str>, Arc<MemEntry>> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &Arc<str>,
        value: &Arc<MemEntry>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &Arc<str>,
        value: &Arc<MemEntry>,
        _updated_at: Instant,
        _duration_until_expiry: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Bounds of the memory store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemoryBounds {
    pub(crate) max_entries: u64,
    pub(crate) max_bytes: u64,
}

/// The entries by key, hashed with foldhash (seeded per process, as the single-flight map)
/// rather than moka's default SipHash, which would be a sizeable part of a hit on this
/// store.
type Entries = moka::sync::Cache<Arc<str>, Arc<MemEntry>, foldhash::fast::RandomState>;

/// The memory store. Cheap to clone.
#[derive(Clone)]
pub(crate) struct MemoryStore {
    cache: Entries,
    tags: Arc<TagIndex>,
    leases: Arc<Leases>,
}

/// Fixed cost counted per entry on top of its key and bytes (moka's node, the `MemEntry`).
const ENTRY_OVERHEAD: u64 = 128;
/// Fixed cost counted per tag of an entry on top of its text (the boxed copy in the entry,
/// the index's map entries).
const TAG_OVERHEAD: u64 = 64;

/// What one entry holds, as the byte bound counts it: its key, its bytes, and each tag's text
/// twice (the entry's copy and the tag index's), plus fixed overheads.
fn weight(key: &str, entry: &MemEntry) -> u64 {
    let tags = entry.tags.as_deref().unwrap_or_default();
    let tag_bytes: u64 = tags
        .iter()
        .map(|tag| 2 * tag.len() as u64 + TAG_OVERHEAD)
        .sum();
    (key.len() + entry.bytes.len()) as u64 + ENTRY_OVERHEAD + tag_bytes
}

impl MemoryStore {
    pub(crate) fn new(bounds: MemoryBounds, counters: Arc<Counters>, lease_time: Duration) -> Self {
        // Every entry weighs at least max_bytes / max_entries, so the single weight capacity
        // bounds both the entry count and the bytes.
        // Rounded up, so that max_entries entries of the minimum weight never exceed the
        // capacity by the rounding (256 MiB / 100,000 rounded down kept 100,013 entries).
        let min_weight = bounds.max_bytes.div_ceil(bounds.max_entries.max(1)).max(1);
        let tags = Arc::new(TagIndex::default());
        let index = tags.clone();
        let cache = moka::sync::Cache::builder()
            .max_capacity(bounds.max_bytes)
            .weigher(move |k: &Arc<str>, v: &Arc<MemEntry>| {
                u32::try_from(weight(k, v).max(min_weight)).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .eviction_listener(move |k: Arc<Arc<str>>, v: Arc<MemEntry>, cause| {
                if cause == RemovalCause::Size {
                    Counters::bump(&counters.evictions);
                }
                index.forget(&k, &v);
            })
            .build_with_hasher(foldhash::fast::RandomState::default());
        MemoryStore {
            cache,
            tags,
            leases: Arc::new(Leases::new(lease_time)),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<Arc<MemEntry>> {
        self.cache.get(key)
    }

    /// Stores `entry`, ending any fill lease on `key` (a fill that started before this write
    /// must not overwrite it).
    pub(crate) fn insert(&self, key: &str, entry: MemEntry) {
        self.leases.revoke(key);
        self.insert_entry(key, entry);
    }

    /// Takes the fill lease of a missing `key` (see [`lease`]).
    pub(crate) fn acquire(&self, key: &str) -> Acquired {
        self.leases.acquire(key)
    }

    /// Stores `entry` if `lease` still holds `key` and no tag of it was invalidated since.
    pub(crate) fn fill(&self, key: &str, lease: &Lease, entry: MemEntry) -> bool {
        let tags: Vec<String> = entry
            .tags
            .as_ref()
            .map(|t| t.iter().map(|t| t.to_string()).collect())
            .unwrap_or_default();
        self.leases
            .fill(key, lease, &tags, || self.insert_entry(key, entry))
    }

    /// Ends `lease` without storing.
    pub(crate) fn release(&self, key: &str, lease: &Lease) {
        self.leases.release(key, lease);
    }

    fn insert_entry(&self, key: &str, mut entry: MemEntry) {
        let key: Arc<str> = Arc::from(key);
        entry.id = self.tags.next_id.fetch_add(1, Relaxed) + 1;
        self.tags.record(&key, &entry);
        self.cache.insert(key, Arc::new(entry));
    }

    /// Deletes every entry recorded under `tag`. Returns how many were deleted.
    pub(crate) fn remove_tag(&self, tag: &str) -> u64 {
        self.leases.mark_tag(tag);
        let members = self.tags.lock().remove(tag).unwrap_or_default();
        let mut removed = 0;
        for (key, id) in members {
            // Only the write that recorded the key: a newer write without this tag stays.
            if self.cache.get(&key).is_some_and(|e| e.id == id) && self.cache.remove(&key).is_some()
            {
                removed += 1;
            }
        }
        removed
    }

    /// How many keys the tag index holds under `tag` (tests check it stays bounded).
    #[cfg(test)]
    pub(crate) fn tag_members(&self, tag: &str) -> usize {
        self.tags.lock().get(tag).map_or(0, HashMap::len)
    }

    pub(crate) fn remove(&self, key: &str) -> bool {
        self.leases.revoke(key);
        self.cache.remove(key).is_some()
    }

    /// Removes `key` if its entry still holds exactly `read` (unreadable bytes read from it):
    /// an entry written since stays. Returns whether it removed.
    pub(crate) fn remove_if_holds(&self, key: &str, read: &[u8]) -> bool {
        use moka::ops::compute::{CompResult, Op};
        let result = self
            .cache
            .entry(Arc::from(key))
            .and_compute_with(|found| match found {
                Some(entry) if *entry.value().bytes == *read => Op::Remove,
                _ => Op::Nop,
            });
        matches!(result, CompResult::Removed(_))
    }

    /// Removes every key matching `pattern` (only `*` is a wildcard). Returns how many.
    pub(crate) fn remove_matching(&self, pattern: &str) -> u64 {
        let pattern = Pattern::new(pattern);
        self.leases.revoke_matching(&pattern);
        let doomed: Vec<Arc<str>> = self
            .cache
            .iter()
            .filter(|(k, _)| pattern.matches(k.as_ref()))
            .map(|(k, _)| k.as_ref().clone())
            .collect();
        let mut removed = 0;
        for key in doomed {
            if self.cache.remove(&key).is_some() {
                removed += 1;
            }
        }
        removed
    }

    /// Sets a new TTL on an existing entry. Returns whether it existed.
    pub(crate) fn expire(&self, key: &str, ttl: Duration) -> bool {
        match self.cache.get(key) {
            Some(old) => {
                let mut entry = MemEntry::new(old.bytes.clone(), old.value.clone(), ttl);
                entry.tags = old.tags.clone();
                entry.created = old.created;
                self.insert(key, entry);
                true
            }
            None => false,
        }
    }

    /// Drops every entry.
    #[cfg(feature = "redis")]
    pub(crate) fn clear(&self) {
        self.cache.invalidate_all();
    }

    /// Runs pending evictions and expirations now (tests and stats use it).
    pub(crate) fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks();
    }

    /// How many entries it holds (after [`run_pending_tasks`](Self::run_pending_tasks)).
    pub(crate) fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Their total weight, as the bounds count it.
    pub(crate) fn weighted_size(&self) -> u64 {
        self.cache.weighted_size()
    }

    /// At most `limit` keys matching `pattern` (only `*` is a wildcard), in no order.
    pub(crate) fn keys_matching(&self, pattern: &str, limit: usize) -> Vec<String> {
        let pattern = Pattern::new(pattern);
        self.cache
            .iter()
            .filter(|(k, _)| pattern.matches(k.as_ref()))
            .take(limit)
            .map(|(k, _)| k.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(len: usize, ttl: Duration) -> MemEntry {
        MemEntry::new(Arc::from(vec![0u8; len]), None, ttl)
    }

    #[test]
    fn bounded_by_entries_and_bytes() {
        let counters = Arc::new(Counters::default());
        let store = MemoryStore::new(
            MemoryBounds {
                max_entries: 100,
                max_bytes: 100 * 1024,
            },
            counters.clone(),
            Duration::from_secs(30),
        );
        for i in 0..1000 {
            store.insert(&format!("k{i}"), entry(10, Duration::from_secs(60)));
        }
        store.run_pending_tasks();
        assert!(store.entry_count() <= 100, "{}", store.entry_count());
        for i in 0..1000 {
            store.insert(&format!("big{i}"), entry(10_000, Duration::from_secs(60)));
        }
        store.run_pending_tasks();
        assert!(
            store.weighted_size() <= 100 * 1024,
            "{}",
            store.weighted_size()
        );
        assert!(
            counters
                .evictions
                .load(std::sync::atomic::Ordering::Relaxed)
                > 0
        );
    }

    #[test]
    fn tag_index_is_bounded_by_live_entries() {
        let store = MemoryStore::new(
            MemoryBounds {
                max_entries: 100_000,
                max_bytes: 1 << 30,
            },
            Arc::default(),
            Duration::from_secs(30),
        );
        let tags = ["hot".to_owned()];
        for i in 0..10_000 {
            let e = entry(8, Duration::from_millis(50)).with_tags(&tags);
            store.insert(&format!("k{i}"), e);
        }
        assert_eq!(store.tag_members("hot"), 10_000);
        // moka's timer wheel removes expired entries at a granularity of about a second.
        std::thread::sleep(Duration::from_millis(1500));
        store.run_pending_tasks();
        assert_eq!(
            store.tag_members("hot"),
            0,
            "expired entries must leave the index"
        );

        // A rewrite without the tag is not deleted by the tag, and leaves the index.
        store.insert("a", entry(1, Duration::from_secs(60)).with_tags(&tags));
        store.insert("b", entry(1, Duration::from_secs(60)).with_tags(&tags));
        store.insert("a", entry(1, Duration::from_secs(60)));
        store.run_pending_tasks();
        assert_eq!(store.remove_tag("hot"), 1);
        assert!(store.get("a").is_some());
        assert!(store.get("b").is_none());
        assert_eq!(store.tag_members("hot"), 0);
    }

    #[test]
    fn remove_matching_is_literal() {
        let store = MemoryStore::new(
            MemoryBounds {
                max_entries: 100,
                max_bytes: 1 << 20,
            },
            Arc::default(),
            Duration::from_secs(30),
        );
        for k in ["a:1", "a:2", "a?:3", "b:1"] {
            store.insert(k, entry(1, Duration::from_secs(60)));
        }
        assert_eq!(store.remove_matching("a?:*"), 1);
        assert_eq!(store.remove_matching("a:*"), 2);
        assert!(store.get("b:1").is_some());
    }
}
