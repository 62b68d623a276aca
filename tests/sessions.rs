//! `CacheSessionStore`, the tower-sessions store on the cache: create, load, save, delete
//! and expiry on the memory store and on a real `redis-server` (each test starts its own),
//! and sessions through axum + `SessionManagerLayer` over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use cache_runtime::admin::{self, AdminConfig};
use cache_runtime::sessions::CacheSessionStore;
use cache_runtime::Cache;
use cache_tests::http;
use cache_tests::logs::capture_logs;
use cache_tests::redis_server::RedisServer;
use time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, SessionStore};

/// A store on one backend, with the server behind it when there is one.
struct Backend {
    store: CacheSessionStore,
    server: Option<RedisServer>,
}

impl Backend {
    fn memory() -> Backend {
        Backend {
            store: CacheSessionStore::new(Cache::memory()),
            server: None,
        }
    }

    async fn redis() -> Backend {
        let server = RedisServer::start();
        let cache = Cache::builder()
            .redis_url(server.url())
            .build()
            .await
            .unwrap();
        Backend {
            store: CacheSessionStore::new(cache),
            server: Some(server),
        }
    }

    /// The Redis key of session `id`, as Redis holds it.
    fn raw_key(&self, id: &Id) -> String {
        format!("{}:{}", self.store.cache().prefix(), self.store.key(id))
    }

    /// Whether Redis holds session `id` (the cache's view on the memory store).
    async fn stored(&self, id: &Id) -> bool {
        match &self.server {
            Some(server) => {
                let n: u64 = redis::cmd("EXISTS")
                    .arg(self.raw_key(id))
                    .query_async(&mut server.raw().await)
                    .await
                    .unwrap();
                n == 1
            }
            None => self.store.cache().exists(self.store.key(id)).await.unwrap(),
        }
    }

    /// The remaining TTL of session `id` in milliseconds (Redis PTTL; the cache's `ttl` on
    /// the memory store).
    async fn ttl_ms(&self, id: &Id) -> i64 {
        match &self.server {
            Some(server) => redis::cmd("PTTL")
                .arg(self.raw_key(id))
                .query_async(&mut server.raw().await)
                .await
                .unwrap(),
            None => {
                let ttl = self.store.cache().ttl(self.store.key(id)).await.unwrap();
                i64::try_from(ttl.unwrap().as_millis()).unwrap()
            }
        }
    }

    /// Writes `bytes` under session `id`'s key as someone else would: a raw SET on Redis,
    /// the manual API (a `String`'s envelope) on the memory store.
    async fn write_foreign(&self, id: &Id, bytes: &[u8]) {
        match &self.server {
            Some(server) => {
                let () = redis::cmd("SET")
                    .arg(self.raw_key(id))
                    .arg(bytes)
                    .query_async(&mut server.raw().await)
                    .await
                    .unwrap();
            }
            None => {
                let text = String::from_utf8(bytes.to_vec()).unwrap();
                self.store
                    .cache()
                    .set(self.store.key(id), &text, None)
                    .await
                    .unwrap();
            }
        }
    }
}

/// A record expiring `in_ms` milliseconds from now, holding `visits` and a name.
fn record(in_ms: i64, visits: u64) -> Record {
    let mut data = HashMap::new();
    data.insert("visits".to_owned(), serde_json::json!(visits));
    data.insert(
        "name".to_owned(),
        serde_json::json!({ "first": "Ada", "tags": [1, 2] }),
    );
    Record {
        id: Id::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + Duration::milliseconds(in_ms),
    }
}

/// Runs one check against the memory store and against Redis, as two tests.
macro_rules! on_both {
    ($check:ident) => {
        mod $check {
            #[tokio::test]
            async fn memory() {
                super::$check(super::Backend::memory()).await;
            }

            #[tokio::test]
            async fn redis() {
                super::$check(super::Backend::redis().await).await;
            }
        }
    };
}

on_both!(create_load_save_delete);
on_both!(ttl_follows_expiry);
on_both!(expired_records_are_not_stored);
on_both!(create_never_overwrites);
on_both!(unreadable_entries_load_as_none);
on_both!(namespaces_are_separate);

/// Create stores the exact record under its own id, save replaces it, delete removes it.
async fn create_load_save_delete(b: Backend) {
    let mut rec = record(60_000, 1);
    let id = rec.id;
    b.store.create(&mut rec).await.unwrap();
    assert_eq!(rec.id, id, "a free id is kept");
    assert_eq!(b.store.load(&id).await.unwrap(), Some(rec.clone()));
    assert!(b.stored(&id).await);

    rec.data.insert("visits".to_owned(), serde_json::json!(2));
    b.store.save(&rec).await.unwrap();
    let loaded = b.store.load(&id).await.unwrap().unwrap();
    assert_eq!(loaded, rec);
    assert_eq!(loaded.data["visits"], serde_json::json!(2));

    b.store.delete(&id).await.unwrap();
    assert_eq!(b.store.load(&id).await.unwrap(), None);
    assert!(!b.stored(&id).await);
    // Deleting what is gone is fine; an unknown id loads as nothing.
    b.store.delete(&id).await.unwrap();
    assert_eq!(b.store.load(&Id::default()).await.unwrap(), None);
}

/// The entry's TTL is the time left until the record's expiry date; it is gone after.
async fn ttl_follows_expiry(b: Backend) {
    let mut rec = record(1_500, 1);
    b.store.create(&mut rec).await.unwrap();
    let ttl = b.ttl_ms(&rec.id).await;
    assert!((1_000..=1_500).contains(&ttl), "TTL {ttl} ms");
    assert_eq!(b.store.load(&rec.id).await.unwrap(), Some(rec.clone()));

    tokio::time::sleep(StdDuration::from_millis(1_700)).await;
    assert_eq!(b.store.load(&rec.id).await.unwrap(), None);
    assert!(!b.stored(&rec.id).await);
}

/// An expired record is never written: create stores nothing, save deletes the session.
async fn expired_records_are_not_stored(b: Backend) {
    let mut expired = record(-1_000, 1);
    let id = expired.id;
    b.store.create(&mut expired).await.unwrap();
    assert_eq!(expired.id, id);
    assert!(!b.stored(&id).await);
    b.store.save(&expired).await.unwrap();
    assert!(!b.stored(&id).await);
    assert_eq!(b.store.load(&id).await.unwrap(), None);

    let mut live = record(60_000, 1);
    b.store.create(&mut live).await.unwrap();
    assert!(b.stored(&live.id).await);
    let mut ended = live.clone();
    ended.expiry_date = OffsetDateTime::now_utc() - Duration::seconds(1);
    b.store.save(&ended).await.unwrap();
    assert!(!b.stored(&live.id).await);
    assert_eq!(b.store.load(&live.id).await.unwrap(), None);
}

/// Create with an id that is taken picks a fresh id and leaves the existing session alone.
async fn create_never_overwrites(b: Backend) {
    let mut first = record(60_000, 1);
    b.store.create(&mut first).await.unwrap();
    let mut second = record(60_000, 99);
    second.id = first.id;
    b.store.create(&mut second).await.unwrap();
    assert_ne!(second.id, first.id);
    assert_eq!(b.store.load(&first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(
        b.store.load(&second.id).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(second.data["visits"], serde_json::json!(99));
}

/// Garbage, a valid entry that is not a record, and another session's record all load as
/// no session: the entry is deleted and counted, never a panic or an error.
async fn unreadable_entries_load_as_none(b: Backend) {
    let garbage = Id::default();
    b.write_foreign(&garbage, b"not a session envelope").await;
    assert_eq!(b.store.load(&garbage).await.unwrap(), None);
    assert!(!b.stored(&garbage).await);

    let not_json = Id::default();
    b.store
        .cache()
        .set(b.store.key(&not_json), &"{ not json".to_owned(), None)
        .await
        .unwrap();
    assert_eq!(b.store.load(&not_json).await.unwrap(), None);
    assert!(!b.stored(&not_json).await);

    // A record stored under another session's key (copied by someone with store access).
    let mut real = record(60_000, 1);
    b.store.create(&mut real).await.unwrap();
    let stolen = Id::default();
    let json = serde_json::to_string(&real).unwrap();
    b.store
        .cache()
        .set(b.store.key(&stolen), &json, None)
        .await
        .unwrap();
    assert_eq!(b.store.load(&stolen).await.unwrap(), None);
    assert!(!b.stored(&stolen).await);
    assert_eq!(b.store.load(&real.id).await.unwrap(), Some(real.clone()));

    // Redis: raw garbage fails the envelope (cache); the other two fail the store's check.
    // Memory: the foreign `String` is not a record either, so all three fail the store's.
    assert_eq!(b.store.cache().stats().decode_errors, 3);
}

/// Sessions live under the escaped namespace, and namespaces do not see each other.
async fn namespaces_are_separate(b: Backend) {
    let cache = b.store.cache().clone();
    let other = CacheSessionStore::new(cache).namespace("app one");
    let mut rec = record(60_000, 1);
    other.create(&mut rec).await.unwrap();
    let digest = b.store.key(&rec.id)["sessions:".len()..].to_owned();
    assert_eq!(other.key(&rec.id), format!("app%20one:{digest}"));
    assert_eq!(other.load(&rec.id).await.unwrap(), Some(rec.clone()));
    assert_eq!(b.store.load(&rec.id).await.unwrap(), None);
    assert!(!b.stored(&rec.id).await);
}

/// On Redis the key is exactly `{prefix}:sessions:{digest}`: 32 hex digits of the keyed
/// blake3 hash of the id's 22-character string form, never the id itself.
#[tokio::test]
async fn redis_key_layout() {
    let b = Backend::redis().await;
    let mut rec = record(60_000, 1);
    b.store.create(&mut rec).await.unwrap();
    let server = b.server.as_ref().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut server.raw().await)
        .await
        .unwrap();
    let id = rec.id.to_string();
    assert_eq!(id.len(), 22);
    let digest = blake3::Hasher::new_derive_key("cache-rs 2026-12 session id digest")
        .update(id.as_bytes())
        .finalize()
        .to_hex();
    assert_eq!(keys, vec![format!("cache:sessions:{}", &digest[..32])]);
    assert!(!keys[0].contains(&id), "{keys:?}");
    // Another id, another key; the same id, the same key.
    assert_ne!(b.store.key(&Id::default()), b.store.key(&rec.id));
    assert_eq!(b.store.key(&rec.id.clone()), b.store.key(&rec.id));
}

/// A session id is a bearer credential: the paths of the cache that name keys in their log
/// lines and errors (an unreadable entry, a record too large to store) and the admin API's
/// key listing never show one, only the digest the session is keyed by.
#[tokio::test]
async fn session_ids_never_reach_logs_errors_or_the_admin_api() {
    let server = RedisServer::start();
    let build = |max_value_bytes| {
        Cache::builder()
            .redis_url(server.url())
            .max_value_bytes(max_value_bytes)
            .build()
    };
    // Two caches on one Redis: the cache logs at most one warning a second each.
    let (cache, small) = (build(1 << 20).await.unwrap(), build(512).await.unwrap());
    let store = CacheSessionStore::new(cache.clone());
    let small_store = CacheSessionStore::new(small);
    let mut live = record(60_000, 1);
    store.create(&mut live).await.unwrap();
    let corrupt = Id::default();
    let mut big = record(60_000, 2);
    big.data
        .insert("blob".to_owned(), serde_json::json!("x".repeat(4096)));
    let raw_key = |id: &Id| format!("{}:{}", cache.prefix(), store.key(id));
    let () = redis::cmd("SET")
        .arg(raw_key(&corrupt))
        .arg(b"not a session envelope".as_slice())
        .query_async(&mut server.raw().await)
        .await
        .unwrap();

    let token = "sessions-admin-token";
    let app = admin::router(cache.clone(), AdminConfig::new().bearer_token(token)).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let ((error, listing), logs) = capture_logs(async {
        assert_eq!(store.load(&corrupt).await.unwrap(), None);
        let error = small_store.save(&big).await.unwrap_err().to_string();
        let auth = format!("Bearer {token}");
        let listing = http::get(
            addr,
            "/keys?namespace=sessions",
            &[("Authorization", auth.as_str())],
        )
        .await;
        (error, listing)
    })
    .await;

    // Each path ran, and named the entry by its digest.
    assert!(
        logs.contains(&format!(
            "dropping unreadable entry `{}`",
            store.key(&corrupt)
        )),
        "{logs}"
    );
    assert!(
        logs.contains(&format!("not caching `{}`", store.key(&big.id))),
        "{logs}"
    );
    assert!(
        error.starts_with("Encoding failed with: session not saved: value of "),
        "{error}"
    );
    assert_eq!(listing.status, 200, "{listing:?}");
    let listed: serde_json::Value = serde_json::from_str(&listing.body).unwrap();
    assert_eq!(listed["keys"], serde_json::json!([store.key(&live.id)]));
    for id in [&live.id, &corrupt, &big.id] {
        let id = id.to_string();
        assert!(!logs.contains(&id), "{id} in the logs: {logs}");
        assert!(!error.contains(&id), "{id} in the error: {error}");
        assert!(!listing.body.contains(&id), "{id} listed: {}", listing.body);
    }
}

/// Redis going away is an error naming the operation, not a missing session.
#[tokio::test]
async fn redis_down_is_a_backend_error() {
    let mut b = Backend::redis().await;
    let mut rec = record(60_000, 1);
    b.store.create(&mut rec).await.unwrap();
    b.server.as_mut().unwrap().kill();
    let err = b.store.load(&rec.id).await.unwrap_err();
    match &err {
        Error::Backend(text) => {
            assert!(text.starts_with("session load failed: "), "{text}")
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    let err = b.store.save(&rec).await.unwrap_err();
    assert!(matches!(&err, Error::Backend(t) if t.starts_with("session save failed: ")));
}

/// A login counter kept in the session.
async fn login(session: tower_sessions::Session) -> String {
    let logins = session.get::<u64>("logins").await.unwrap().unwrap_or(0) + 1;
    session.insert("logins", logins).await.unwrap();
    logins.to_string()
}

/// One HTTP/1.1 GET (`cache_tests::http`): the status, the `name=value` part of the
/// cookie the response sets, and the body.
async fn http_get(
    addr: std::net::SocketAddr,
    path: &str,
    cookie: Option<&str>,
) -> (u16, Option<String>, String) {
    let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
    let response = cache_tests::http::get(addr, path, &headers).await;
    let set_cookie = response
        .header("set-cookie")
        .map(|value| value.split(';').next().unwrap_or(value).to_owned());
    (response.status, set_cookie, response.body)
}

/// axum + `SessionManagerLayer` on the store over real HTTP and real Redis: the counter
/// goes 1, 2, 3 with the cookie, the session is one Redis key living for tower-sessions'
/// default two weeks, and a visitor without the cookie starts at 1.
#[tokio::test]
async fn axum_login_counter_over_http() {
    use axum::routing::get;
    let b = Backend::redis().await;
    let app = axum::Router::new()
        .route("/login", get(login))
        .layer(tower_sessions::SessionManagerLayer::new(b.store.clone()).with_secure(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let (status, set_cookie, body) = http_get(addr, "/login", None).await;
    assert_eq!((status, body.as_str()), (200, "1"));
    let cookie = set_cookie.unwrap();
    let id: Id = cookie.strip_prefix("id=").unwrap().parse().unwrap();
    for expected in ["2", "3"] {
        let (status, _, body) = http_get(addr, "/login", Some(&cookie)).await;
        assert_eq!((status, body.as_str()), (200, expected));
    }

    let rec = b.store.load(&id).await.unwrap().unwrap();
    assert_eq!(rec.data["logins"], serde_json::json!(3));
    let mut raw = b.server.as_ref().unwrap().raw().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(keys, vec![b.raw_key(&id)]);
    let two_weeks: i64 = 14 * 24 * 3_600 * 1_000;
    let ttl = b.ttl_ms(&id).await;
    assert!(
        (two_weeks - 60_000..=two_weeks).contains(&ttl),
        "TTL {ttl} ms"
    );

    let (status, set_cookie, body) = http_get(addr, "/login", None).await;
    assert_eq!((status, body.as_str()), (200, "1"));
    assert_ne!(set_cookie.unwrap(), cookie);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    server.abort();
}
