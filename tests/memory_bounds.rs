//! The memory store's and L1's byte bounds count what an entry really holds: its key, its
//! bytes, and the text of its tags, which is held twice (in the entry and in the tag index).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use cache_runtime::{cached, Cache};
use cache_tests::fixture::Fixture;

const MB: usize = 1 << 20;

/// `Stats::bytes` grows by twice a tag's length per tagged entry.
#[tokio::test]
async fn tags_weigh_twice_their_text() {
    let cache = Cache::builder()
        .memory_capacity(1_000_000)
        .memory_max_bytes(1 << 30)
        .build()
        .await
        .unwrap();
    cache.set("plain", &7u64, None).await.unwrap();
    let plain = cache.stats().bytes;
    let tag = "t".repeat(MB);
    cache
        .set_with_tags("tagged", &7u64, None, &[tag.as_str()])
        .await
        .unwrap();
    let tagged = cache.stats().bytes - plain;
    // The key (6 bytes), the envelope of a 7u64 (13), the fixed cost of an entry (128) and
    // of a tag (64), and the tag's text twice.
    assert_eq!(tagged, 6 + 13 + 128 + 64 + 2 * MB as u64);
    assert_eq!(cache.stats().entries, 2);
}

/// 100 entries with a 1 MB tag each in a store bounded at 16 MiB: the bound evicts down to
/// what fits (7 entries of 2 MB), where not counting tags kept all 100 (200 MB of tag text)
/// while `stats()` reported a few hundred kilobytes.
#[tokio::test]
async fn memory_store_bound_evicts_entries_with_big_tags() {
    let cache = Cache::builder()
        .memory_capacity(100_000)
        .memory_max_bytes(16 * MB as u64)
        .build()
        .await
        .unwrap();
    for i in 0..100 {
        let tag = format!("{i:03}{}", "t".repeat(MB));
        cache
            .set_with_tags(format!("k{i}"), &i, None, &[tag.as_str()])
            .await
            .unwrap();
    }
    let stats = cache.stats();
    assert!(stats.bytes <= 16 * MB as u64, "{}", stats.bytes);
    assert!(stats.entries <= 8, "{} entries", stats.entries);
    assert!(stats.evictions >= 92, "{} evictions", stats.evictions);
}

#[cached(namespace = "bounds.tagged", cache = cache, tags = ["{tag}"], l1_ttl = "60s")]
async fn tagged(i: u64, tag: &str, cache: &Cache) -> u64 {
    let _ = tag;
    i
}

/// L1 in front of a real redis-server, bounded at 16 MiB: 100 `#[cached]` fns whose tag is
/// 1 MB each, each called twice, keep at most what fits in L1.
#[tokio::test]
async fn l1_bound_evicts_entries_with_big_tags() {
    let fx = Fixture::redis_with(|b| b.l1_max_bytes(16 * MB as u64).l1_capacity(10_000)).await;
    assert!(fx.cache.wait_for_backplane(Duration::from_secs(5)).await);
    for i in 0..100u64 {
        let tag = format!("{i:03}{}", "t".repeat(MB));
        // A miss, then a Redis hit that copies the value into L1 (with tracking, a value
        // goes into L1 at its first read after the write).
        assert_eq!(tagged(i, &tag, &fx.cache).await, i);
        assert_eq!(tagged(i, &tag, &fx.cache).await, i);
    }
    let stats = fx.cache.stats();
    assert_eq!(stats.writes, 100);
    assert!(stats.bytes <= 16 * MB as u64, "{}", stats.bytes);
    assert!(stats.entries <= 8, "{} entries in L1", stats.entries);
    assert!(stats.evictions >= 92, "{} evictions", stats.evictions);
}
