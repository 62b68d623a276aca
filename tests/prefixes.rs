//! Key prefixes are one key segment, so two caches on one Redis never read, list, clear or
//! delete each other's keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cache_runtime::{Cache, Error};
use cache_tests::redis_server::RedisServer;

/// What every refused prefix is told, after its own name and character.
const RULE: &str = "use letters, digits, `_`, `-` and `.` (the prefix is one key segment: `:` \
                    and `#` end it, so a prefix holding them would overlap another cache's keys)";

/// A prefix that nests inside another (`app:t` in `app`), or holds the tag index separator
/// or a glob character, is refused by the builder and by `CACHE_PREFIX`, naming the rule.
#[tokio::test]
async fn prefixes_with_separators_or_globs_are_refused() {
    let server = RedisServer::start();
    for (prefix, found) in [
        ("app:t", "':'"),
        ("app#tag", "'#'"),
        ("app*", "'*'"),
        ("app?", "'?'"),
        ("app[t]", "'['"),
        ("app\\t", "'\\\\'"),
        ("app t", "' '"),
    ] {
        let expected =
            format!("invalid cache configuration: prefix {prefix:?} contains {found}; {RULE}");
        let built = Cache::builder()
            .redis_url(server.url())
            .prefix(prefix)
            .build()
            .await;
        match built {
            Err(e @ Error::Config(_)) => assert_eq!(e.to_string(), expected),
            other => panic!("prefix {prefix:?} must be refused, got {other:?}"),
        }
        let from_env = cache_runtime::CacheBuilder::from_lookup(|name| {
            (name == "CACHE_PREFIX").then(|| prefix.to_owned())
        });
        match from_env {
            Err(e @ Error::Config(_)) => assert_eq!(
                e.to_string(),
                format!(
                    "invalid cache configuration: CACHE_PREFIX {prefix:?} contains {found}; {RULE}"
                )
            ),
            other => panic!("CACHE_PREFIX={prefix:?} must be refused, got {other:?}"),
        }
    }
    let empty = Cache::builder().prefix("").build().await.unwrap_err();
    assert_eq!(
        empty.to_string(),
        "invalid cache configuration: prefix must be 1 to 64 characters, got 0 characters"
    );
}

/// `app` next to `app.t` (what `app:t` must be written as) on one Redis: `get("t:k")`,
/// `keys("t")`, `clear_namespace("t")` and `clear_pattern("t:*")` on `app` find nothing of
/// `app.t`'s, whose entries all survive; `app`'s own `t:` entries are found and cleared.
#[tokio::test]
async fn neighbouring_prefixes_never_touch_each_other() {
    let server = RedisServer::start();
    let build = |prefix: &'static str| {
        let url = server.url();
        async move {
            Cache::builder()
                .redis_url(url)
                .prefix(prefix)
                .l1(false)
                .build()
                .await
                .unwrap()
        }
    };
    let app = build("app").await;
    let nested = build("app.t").await;
    nested.set("k", &"nested".to_owned(), None).await.unwrap();
    nested
        .set("t:k", &"nested t".to_owned(), None)
        .await
        .unwrap();
    assert_eq!(app.get::<String>("t:k").await.unwrap(), None);
    assert_eq!(app.keys("t", 100).await.unwrap(), Vec::<String>::new());
    assert_eq!(app.clear_namespace("t").await.unwrap(), 0);
    assert_eq!(app.clear_pattern("t:*").await.unwrap(), 0);
    assert_eq!(app.clear_pattern("*").await.unwrap(), 0);
    assert_eq!(
        nested.get::<String>("k").await.unwrap().as_deref(),
        Some("nested")
    );
    assert_eq!(
        nested.get::<String>("t:k").await.unwrap().as_deref(),
        Some("nested t")
    );

    // `app`'s own entries of namespace `t` are its to list and clear.
    app.set("t:mine", &"app t".to_owned(), None).await.unwrap();
    assert_eq!(app.keys("t", 100).await.unwrap(), vec!["t:mine".to_owned()]);
    assert_eq!(app.clear_namespace("t").await.unwrap(), 1);
    assert_eq!(
        nested.get::<String>("k").await.unwrap().as_deref(),
        Some("nested")
    );
    let mut raw = server.client().get_connection().unwrap();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut raw).unwrap();
    keys.sort();
    assert_eq!(keys, ["app.t:k", "app.t:t:k"]);
}
