//! Tag indexes on Redis stay bounded by the entries they point to.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use cache_tests::fixture::Fixture;
use redis::AsyncCommands;

/// 10,000 short-lived writes under one tag leave no index behind once they have expired,
/// and while they live the index holds exactly one member per key.
#[tokio::test]
async fn tag_index_expires_with_its_entries() {
    let fx = Fixture::redis().await;
    let mut raw = fx.raw().await.unwrap();
    let index = format!("{}#tag:hot", fx.prefix);
    for i in 0..10_000 {
        fx.cache
            .set_with_tags(
                format!("k{i}"),
                &i,
                Some(Duration::from_millis(400)),
                &["hot"],
            )
            .await
            .unwrap();
    }
    let members: u64 = raw.zcard(&index).await.unwrap();
    assert_eq!(members, 10_000);
    let pttl: i64 = raw.pttl(&index).await.unwrap();
    assert!(pttl > 0 && pttl <= 400, "index TTL {pttl} ms");

    tokio::time::sleep(Duration::from_millis(600)).await;
    let exists: bool = raw.exists(&index).await.unwrap();
    assert!(!exists, "the index must expire with its last entry");
    assert_eq!(fx.raw_count("*").await, 0, "nothing may be left behind");
}

/// A longer-lived entry written later extends the index's TTL; a shorter one does not
/// shorten it.
#[tokio::test]
async fn tag_index_lives_as_long_as_its_longest_entry() {
    let fx = Fixture::redis().await;
    let mut raw = fx.raw().await.unwrap();
    let index = format!("{}#tag:mixed", fx.prefix);
    let c = &fx.cache;
    c.set_with_tags("a", &1u8, Some(Duration::from_secs(10)), &["mixed"])
        .await
        .unwrap();
    c.set_with_tags("b", &1u8, Some(Duration::from_secs(100)), &["mixed"])
        .await
        .unwrap();
    c.set_with_tags("c", &1u8, Some(Duration::from_secs(1)), &["mixed"])
        .await
        .unwrap();
    let pttl: i64 = raw.pttl(&index).await.unwrap();
    assert!(pttl > 90_000 && pttl <= 100_000, "index TTL {pttl} ms");
    assert_eq!(c.invalidate_tag("mixed").await.unwrap(), 3);
    let exists: bool = raw.exists(&index).await.unwrap();
    assert!(!exists, "an emptied index is gone");
}
