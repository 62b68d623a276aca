//! Values read as another type, values above `max_value_bytes`, and hostile key material.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cached, key_for, Cache, Error};
use serde::{Deserialize, Serialize};

use crate::fixture::{Counts, Fixture};

fn runs(calls: &AtomicUsize) -> usize {
    calls.load(SeqCst)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: u64,
    lines: Vec<(String, u32)>,
}

/// Reading a key as another type than it was written as is a miss: the entry is deleted and
/// counted in `decode_errors`, never a panic or a wrong value.
pub async fn other_type_is_a_miss(fx: &Fixture) {
    let c = &fx.cache;
    c.set("s", &"hello".to_owned(), None).await.unwrap();
    c.set(
        "o",
        &Order {
            id: 1,
            lines: vec![("x".into(), 2)],
        },
        None,
    )
    .await
    .unwrap();
    c.set("n", &7u32, None).await.unwrap();
    let before = fx.counts();
    assert_eq!(c.get::<u64>("s").await.unwrap(), None);
    assert_eq!(
        fx.counts().since(before),
        Counts {
            misses: 1,
            decode_errors: 1,
            ..Counts::default()
        }
    );
    fx.assert_not_stored("s").await;
    assert_eq!(c.get::<String>("s").await.unwrap(), None);

    assert_eq!(c.get::<Vec<u64>>("o").await.unwrap(), None);
    assert_eq!(c.get::<String>("n").await.unwrap(), None);
    fx.assert_not_stored("o").await;
    fx.assert_not_stored("n").await;
    assert_eq!(
        fx.counts().since(before),
        Counts {
            misses: 4,
            decode_errors: 3,
            ..Counts::default()
        }
    );

    // get_many drops an unreadable entry the same way, keeping the others.
    c.set("g1", &"text".to_owned(), None).await.unwrap();
    c.set("g2", &5u64, None).await.unwrap();
    let before = fx.counts();
    assert_eq!(
        c.get_many::<u64, _>(&["g1", "g2"]).await.unwrap(),
        vec![None, Some(5)]
    );
    assert_eq!(
        fx.counts().since(before),
        Counts {
            hits: 1,
            misses: 1,
            decode_errors: 1,
            ..Counts::default()
        }
    );
    fx.assert_not_stored("g1").await;
}

/// A value whose encoding exceeds `max_value_bytes` is not stored: `set` fails with
/// `TooLarge` and `oversized` counts it; `set_many` stores the others.
pub async fn oversized_value_not_stored(fx: &Fixture) {
    let c = fx.another(|b| b.max_value_bytes(1024)).await;
    let big = vec![7u8; 4096];
    match c.set("big", &big, None).await {
        Err(Error::TooLarge { size, max }) => {
            assert_eq!(max, 1024);
            assert!(size > 1024, "{size}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(!c.exists("big").await.unwrap());
    assert_eq!(fx.raw_exists("big").await, fx.on_redis().then_some(false));
    c.set("small", &vec![7u8; 512], None).await.unwrap();
    assert_eq!(
        Counts::of(&c.stats()),
        Counts {
            writes: 1,
            oversized: 1,
            ..Counts::default()
        }
    );

    let items = [
        ("m1", vec![1u8; 10]),
        ("m2", vec![2u8; 5000]),
        ("m3", vec![3u8; 10]),
    ];
    assert!(matches!(
        c.set_many(&items, None).await,
        Err(Error::TooLarge { .. })
    ));
    assert_eq!(c.get::<Vec<u8>>("m1").await.unwrap(), Some(vec![1u8; 10]));
    assert_eq!(c.get::<Vec<u8>>("m3").await.unwrap(), Some(vec![3u8; 10]));
    assert!(!c.exists("m2").await.unwrap());
    assert_eq!(
        Counts::of(&c.stats()),
        Counts {
            hits: 2,
            writes: 3,
            oversized: 2,
            ..Counts::default()
        }
    );
}

#[cached(namespace = "values.big", cache = cache, skip(cache, calls))]
async fn blob(len: usize, cache: &Cache, calls: &AtomicUsize) -> Vec<u8> {
    calls.fetch_add(1, SeqCst);
    vec![9u8; len]
}

/// A `#[cached]` fn whose value is oversized still returns it, and runs its body every call.
pub async fn oversized_cached_value_returned(fx: &Fixture) {
    let c = fx.another(|b| b.max_value_bytes(1024)).await;
    let calls = AtomicUsize::new(0);
    assert_eq!(blob(4096, &c, &calls).await, vec![9u8; 4096]);
    assert_eq!(blob(4096, &c, &calls).await, vec![9u8; 4096]);
    assert_eq!(runs(&calls), 2);
    assert_eq!(
        Counts::of(&c.stats()),
        Counts {
            misses: 2,
            oversized: 2,
            ..Counts::default()
        }
    );
    assert!(!c
        .exists(key_for::<Vec<u8>>("values.big", 1, &(4096usize,)).unwrap())
        .await
        .unwrap());
    // A small value of the same fn is cached.
    assert_eq!(blob(8, &c, &calls).await, vec![9u8; 8]);
    assert_eq!(blob(8, &c, &calls).await, vec![9u8; 8]);
    assert_eq!(runs(&calls), 3);
}

/// Key text full of glob, separator, control and non-ASCII characters (and 1 MB long)
/// round-trips through the manual API, each key its own entry.
pub async fn hostile_manual_keys_round_trip(fx: &Fixture) {
    let c = &fx.cache;
    let mut keys: Vec<String> = [
        "*",
        "?",
        "[",
        "]",
        "[a-z]",
        "\\",
        "\\*",
        ":",
        "::",
        "a:b:c",
        "\n",
        "line\nbreak",
        "\r\n\t",
        "\0",
        "",
        " ",
        "ключ🔑",
        "%2A",
        "%",
        "{slot}",
    ]
    .iter()
    .map(|k| (*k).to_owned())
    .collect();
    keys.push("x".repeat(1 << 20));
    keys.push("é".repeat(1 << 19));
    for (i, key) in keys.iter().enumerate() {
        c.set(key, &i, None).await.unwrap();
    }
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(c.get::<usize>(key).await.unwrap(), Some(i), "key #{i}");
        fx.assert_stored(key).await;
    }
    let got = c.get_many::<usize, _>(&keys).await.unwrap();
    assert_eq!(got, (0..keys.len()).map(Some).collect::<Vec<_>>());
    // A literal pattern removes exactly its own key.
    for literal in ["[", "?", "[a-z]", "\\", ":"] {
        assert_eq!(c.clear_pattern(literal).await.unwrap(), 1, "{literal:?}");
        fx.assert_not_stored(literal).await;
    }
    assert_eq!(c.delete_many(&keys).await.unwrap(), keys.len() as u64 - 5);
    assert_eq!(fx.counts().errors, 0);
}

/// Hostile namespaces round-trip through `key_for`, and `clear_namespace` takes its text
/// literally: `"a*"` deletes nothing of `"ab"`, `"a"` nothing of `"a:b"`.
pub async fn hostile_namespaces_are_literal(fx: &Fixture) {
    let c = &fx.cache;
    let long = "n".repeat(1 << 20);
    let namespaces = [
        "a*",
        "ab",
        "a?",
        "a[b]",
        "a\\b",
        "a:b",
        "a",
        "a\nb",
        "a b",
        "a%2A",
        "ключ🔑",
        "",
        long.as_str(),
    ];
    let key = |ns: &str| key_for::<u64>(ns, 1, &(1u64,)).unwrap();
    for (i, ns) in namespaces.iter().enumerate() {
        c.set(key(ns), &(i as u64), None).await.unwrap();
    }
    for (i, ns) in namespaces.iter().enumerate() {
        assert_eq!(
            c.get::<u64>(key(ns)).await.unwrap(),
            Some(i as u64),
            "{ns:?}"
        );
    }
    for (i, ns) in namespaces.iter().enumerate() {
        assert_eq!(
            c.clear_namespace(ns).await.unwrap(),
            1,
            "clear_namespace({ns:?})"
        );
        fx.assert_not_stored(key(ns).as_str()).await;
        for other in &namespaces[i + 1..] {
            fx.assert_stored(key(other).as_str()).await;
        }
    }
}

#[cached(namespace = "we*ird: ns?[x]", cache = cache, skip(cache, calls))]
async fn weird_namespace(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id
}

/// A `#[cached(namespace = ...)]` with glob characters is cleared by its own text only.
pub async fn cached_hostile_namespace(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(weird_namespace(1, c, &calls).await, 1);
    fx.assert_stored(
        key_for::<u64>("we*ird: ns?[x]", 1, &(1u64,))
            .unwrap()
            .as_str(),
    )
    .await;
    assert_eq!(c.clear_namespace("we").await.unwrap(), 0);
    assert_eq!(c.clear_namespace("we*").await.unwrap(), 0);
    assert_eq!(c.clear_namespace("we*ird: ns?[x]").await.unwrap(), 1);
    assert_eq!(weird_namespace(1, c, &calls).await, 1);
    assert_eq!(runs(&calls), 2);
}

/// The limit is inclusive: an encoding of exactly `max_value_bytes` is stored and read back,
/// one byte more is not (12-byte envelope + 3-byte length + body).
pub async fn value_at_the_limit_is_cached(fx: &Fixture) {
    let c = fx.another(|b| b.max_value_bytes(1024)).await;
    c.set("edge", &vec![1u8; 1009], None).await.unwrap();
    assert_eq!(
        c.get::<Vec<u8>>("edge").await.unwrap(),
        Some(vec![1u8; 1009])
    );
    assert!(matches!(
        c.set("over", &vec![1u8; 1010], None).await,
        Err(Error::TooLarge {
            size: 1025,
            max: 1024
        })
    ));
    assert_eq!(
        Counts::of(&c.stats()),
        Counts {
            hits: 1,
            writes: 1,
            oversized: 1,
            ..Counts::default()
        }
    );
}

/// A value whose `Serialize` fails on purpose.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Unencodable(u32);

impl Serialize for Unencodable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "this value refuses to be serialized",
        ))
    }
}

#[cached(namespace = "values.unencodable", cache = cache, skip(cache, calls))]
async fn unencodable(id: u32, cache: &Cache, calls: &AtomicUsize) -> Unencodable {
    calls.fetch_add(1, SeqCst);
    Unencodable(id)
}

/// A value that cannot be encoded is returned, not cached, and counted as an error; the
/// manual `set` reports a codec error.
pub async fn unencodable_value_fails_open(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(unencodable(1, c, &calls).await, Unencodable(1));
    assert_eq!(unencodable(1, c, &calls).await, Unencodable(1));
    assert_eq!(runs(&calls), 2);
    assert_eq!(
        fx.counts(),
        Counts {
            misses: 2,
            errors: 2,
            ..Counts::default()
        }
    );
    let err = c.set("u", &Unencodable(1), None).await.unwrap_err();
    assert!(matches!(err, Error::Codec(_)), "{err:?}");
    assert!(err.to_string().contains("refuses"), "{err}");
    fx.assert_not_stored("u").await;
}
