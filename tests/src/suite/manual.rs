//! Every manual operation of [`Cache`](cache_runtime::Cache), with exact counter deltas.

use std::time::Duration;

use cache_runtime::key_for;
use serde::{Deserialize, Serialize};

use crate::fixture::{Counts, Fixture};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    id: u64,
    name: String,
    tags: Vec<String>,
}

fn user(id: u64) -> User {
    User {
        id,
        name: format!("user {id}"),
        tags: vec!["a".into(), "b".into()],
    }
}

/// `set` then `get` returns the value (a hit); an absent key is a miss; `set` overwrites.
pub async fn get_set_round_trip(fx: &Fixture) {
    let c = &fx.cache;
    let before = fx.counts();
    c.set("user:1", &user(1), None).await.unwrap();
    assert_eq!(c.get::<User>("user:1").await.unwrap(), Some(user(1)));
    assert_eq!(c.get::<User>("user:2").await.unwrap(), None);
    assert_eq!(fx.counts().since(before), Counts::calls(1, 1, 1));

    c.set("user:1", &user(9), None).await.unwrap();
    assert_eq!(c.get::<User>("user:1").await.unwrap(), Some(user(9)));
    c.set("n", &42u64, None).await.unwrap();
    assert_eq!(c.get::<u64>("n").await.unwrap(), Some(42));
    assert_eq!(fx.counts().since(before), Counts::calls(3, 1, 3));
    fx.assert_stored("user:1").await;
    fx.assert_not_stored("user:2").await;
}

/// `delete` removes the entry and says whether it existed; `exists` follows.
pub async fn delete_and_exists(fx: &Fixture) {
    let c = &fx.cache;
    c.set("k", &"v".to_owned(), None).await.unwrap();
    assert!(c.exists("k").await.unwrap());
    assert!(!c.exists("other").await.unwrap());
    assert!(c.delete("k").await.unwrap());
    assert!(!c.exists("k").await.unwrap());
    assert!(!c.delete("k").await.unwrap());
    let before = fx.counts();
    assert_eq!(c.get::<String>("k").await.unwrap(), None);
    assert_eq!(fx.counts().since(before), Counts::reads(0, 1));
    fx.assert_not_stored("k").await;
}

/// `ttl` reports the remaining time (default TTL when none is given); `expire` replaces it
/// and says whether the key existed.
pub async fn expire_and_ttl(fx: &Fixture) {
    let c = &fx.cache;
    c.set("short", &1u8, Some(Duration::from_secs(60)))
        .await
        .unwrap();
    c.set("default", &2u8, None).await.unwrap();
    let short = c.ttl("short").await.unwrap().unwrap();
    assert!(
        short > Duration::from_secs(50) && short <= Duration::from_secs(60),
        "{short:?}"
    );
    let default = c.ttl("default").await.unwrap().unwrap();
    let want = c.default_ttl();
    assert_eq!(want, Duration::from_secs(300));
    assert!(
        default > want - Duration::from_secs(10) && default <= want,
        "{default:?}"
    );
    assert_eq!(c.ttl("missing").await.unwrap(), None);

    assert!(c.expire("default", Duration::from_secs(10)).await.unwrap());
    let now = c.ttl("default").await.unwrap().unwrap();
    assert!(
        now > Duration::from_secs(5) && now <= Duration::from_secs(10),
        "{now:?}"
    );
    assert!(c.expire("short", Duration::from_secs(3600)).await.unwrap());
    let longer = c.ttl("short").await.unwrap().unwrap();
    assert!(longer > Duration::from_secs(3500), "{longer:?}");
    assert!(!c.expire("missing", Duration::from_secs(10)).await.unwrap());
    assert!(!c.exists("missing").await.unwrap());
    // The value is untouched by a new TTL.
    assert_eq!(c.get::<u8>("default").await.unwrap(), Some(2));
}

/// An entry is gone once its TTL (given to `set`, or by `expire`) has passed.
pub async fn entries_expire(fx: &Fixture) {
    let c = &fx.cache;
    c.set("brief", &1u32, Some(Duration::from_millis(300)))
        .await
        .unwrap();
    c.set("shortened", &2u32, None).await.unwrap();
    c.set("stays", &3u32, Some(Duration::from_secs(60)))
        .await
        .unwrap();
    assert!(c
        .expire("shortened", Duration::from_millis(300))
        .await
        .unwrap());
    assert_eq!(c.get::<u32>("brief").await.unwrap(), Some(1));
    tokio::time::sleep(Duration::from_millis(800)).await;
    let before = fx.counts();
    assert_eq!(c.get::<u32>("brief").await.unwrap(), None);
    assert_eq!(c.get::<u32>("shortened").await.unwrap(), None);
    assert_eq!(c.get::<u32>("stays").await.unwrap(), Some(3));
    assert_eq!(fx.counts().since(before), Counts::reads(1, 2));
    assert!(!c.exists("brief").await.unwrap());
    assert_eq!(c.ttl("brief").await.unwrap(), None);
    fx.assert_not_stored("shortened").await;
}

/// `get_many` answers in the order asked, `None` for missing keys, counting each read.
pub async fn get_many_keeps_order(fx: &Fixture) {
    let c = &fx.cache;
    c.set("a", &"A".to_owned(), None).await.unwrap();
    c.set("c", &"C".to_owned(), None).await.unwrap();
    let before = fx.counts();
    let got = c
        .get_many::<String, _>(&["c", "b", "a", "c"])
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![Some("C".into()), None, Some("A".into()), Some("C".into())]
    );
    assert_eq!(fx.counts().since(before), Counts::reads(3, 1));
    let none: Vec<Option<String>> = c.get_many::<String, &str>(&[]).await.unwrap();
    assert!(none.is_empty());
    let owned = vec!["a".to_owned(), "zz".to_owned()];
    assert_eq!(
        c.get_many::<String, _>(&owned).await.unwrap(),
        vec![Some("A".into()), None]
    );
}

/// `set_many` stores every item with its TTL; `delete_many` counts the keys that existed.
pub async fn set_many_and_delete_many(fx: &Fixture) {
    let c = &fx.cache;
    let before = fx.counts();
    let items = [("m1", 1u64), ("m2", 2), ("m3", 3)];
    c.set_many(&items, Some(Duration::from_secs(120)))
        .await
        .unwrap();
    assert_eq!(fx.counts().since(before).writes, 3);
    for (key, value) in items {
        assert_eq!(c.get::<u64>(key).await.unwrap(), Some(value));
        let ttl = c.ttl(key).await.unwrap().unwrap();
        assert!(
            ttl > Duration::from_secs(100) && ttl <= Duration::from_secs(120),
            "{ttl:?}"
        );
    }
    c.set_many(&[("d1", 10u64)], None).await.unwrap();
    let ttl = c.ttl("d1").await.unwrap().unwrap();
    assert!(ttl > Duration::from_secs(290), "{ttl:?}");
    c.set_many::<u64, &str>(&[], None).await.unwrap();

    assert_eq!(c.delete_many(&["m1", "m2", "nope"]).await.unwrap(), 2);
    assert_eq!(c.delete_many(&["m1"]).await.unwrap(), 0);
    assert_eq!(c.delete_many::<&str>(&[]).await.unwrap(), 0);
    fx.assert_not_stored("m1").await;
    fx.assert_not_stored("m2").await;
    fx.assert_stored("m3").await;
    fx.assert_stored("d1").await;
    assert_eq!(fx.counts().since(before), Counts::calls(3, 0, 4));
}

/// `clear_namespace` deletes every version and value type of one namespace, and nothing of
/// a namespace that merely starts with the same text.
pub async fn clear_namespace_only_that_namespace(fx: &Fixture) {
    let c = &fx.cache;
    let mut doomed = Vec::new();
    for id in 0..3u64 {
        doomed.push(key_for::<u64>("users", 1, &(id,)).unwrap());
    }
    doomed.push(key_for::<u64>("users", 2, &(0u64,)).unwrap());
    doomed.push(key_for::<String>("users", 1, &(0u64,)).unwrap());
    let kept = [
        key_for::<u64>("orders", 1, &(0u64,)).unwrap(),
        key_for::<u64>("users2", 1, &(0u64,)).unwrap(),
        key_for::<u64>("user", 1, &(0u64,)).unwrap(),
        key_for::<u64>("users.archive", 1, &(0u64,)).unwrap(),
    ];
    for key in doomed.iter().chain(&kept) {
        c.set(key, &7u64, None).await.unwrap();
    }
    c.set("users", &1u64, None).await.unwrap();
    assert_eq!(c.clear_namespace("users").await.unwrap(), 5);
    for key in &doomed {
        fx.assert_not_stored(key.as_str()).await;
    }
    for key in &kept {
        fx.assert_stored(key.as_str()).await;
    }
    fx.assert_stored("users").await;
    assert_eq!(c.clear_namespace("users").await.unwrap(), 0);
    assert_eq!(c.clear_namespace("nothing-here").await.unwrap(), 0);
}

/// In `clear_pattern` only `*` is a wildcard: `?`, `[`, `]` and `\` match themselves.
pub async fn clear_pattern_only_star_is_wildcard(fx: &Fixture) {
    let c = &fx.cache;
    let keys = [
        "user[1]x", "user[1]", "user1x", "userx", "user?x", "userAx", "a\\b", "a\\\\b", "abc",
        "ac", "abd", "zz",
    ];
    for key in keys {
        c.set(key, &key.len(), None).await.unwrap();
    }
    assert_eq!(c.clear_pattern("user[1]*").await.unwrap(), 2);
    fx.assert_not_stored("user[1]x").await;
    fx.assert_not_stored("user[1]").await;
    fx.assert_stored("user1x").await;
    fx.assert_stored("userx").await;

    assert_eq!(c.clear_pattern("user?x").await.unwrap(), 1);
    fx.assert_stored("userAx").await;
    assert_eq!(c.clear_pattern("a\\b").await.unwrap(), 1);
    fx.assert_stored("a\\\\b").await;
    assert_eq!(c.clear_pattern("a*c").await.unwrap(), 2);
    fx.assert_stored("abd").await;
    assert_eq!(c.clear_pattern("user").await.unwrap(), 0);
    assert_eq!(c.clear_pattern("*").await.unwrap(), 6);
    for key in keys {
        fx.assert_not_stored(key).await;
    }
}

/// `ping` answers (memory: zero round trip).
pub async fn ping_answers(fx: &Fixture) {
    let rtt = fx.cache.ping().await.unwrap();
    match fx.backend() {
        "memory" => assert_eq!(rtt, Duration::ZERO),
        _ => assert!(rtt < Duration::from_secs(1), "{rtt:?}"),
    }
    assert_eq!(fx.counts(), Counts::default());
}

/// `stats` starts at zero on a fresh cache, names the backend and computes the hit rate.
pub async fn stats_count_reads_and_writes(fx: &Fixture) {
    let c = &fx.cache;
    let fresh = c.stats();
    assert_eq!(fresh.backend, fx.backend());
    assert_eq!(c.backend(), fx.backend());
    assert_eq!(Counts::of(&fresh), Counts::default());
    assert_eq!((fresh.evictions, fresh.hit_rate()), (0, 0.0));

    c.set("s", &1i32, None).await.unwrap();
    c.set("t", &2i32, None).await.unwrap();
    for _ in 0..3 {
        assert_eq!(c.get::<i32>("s").await.unwrap(), Some(1));
    }
    assert_eq!(c.get::<i32>("u").await.unwrap(), None);
    let stats = c.stats();
    assert_eq!(Counts::of(&stats), Counts::calls(3, 1, 2));
    assert!(
        (stats.hit_rate() - 0.75).abs() < 1e-9,
        "{}",
        stats.hit_rate()
    );
    // Clones share the counters.
    let clone = c.clone();
    assert_eq!(clone.get::<i32>("t").await.unwrap(), Some(2));
    assert_eq!(c.stats().hits, 4);
}
