//! Axum sessions kept in Redis, shared by every process, or in process memory: see
//! [`CacheSessionStore`], a [tower-sessions] store.
//!
//! [tower-sessions]: https://docs.rs/tower-sessions

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, SessionStore};

use crate::observe::stats::Counters;
use crate::Cache;

/// How many fresh ids [`SessionStore::create`] tries before giving up. Ids are 128 random
/// bits, so a second try is already astronomically unlikely; the bound only keeps a broken
/// store (one that reports every key as present) from looping forever.
const CREATE_ATTEMPTS: usize = 8;

/// A tower-sessions [`SessionStore`] on a [`Cache`]: each session is one cache entry, kept
/// until the session's expiry date.
///
/// A session lives under the key `{namespace}:{digest}` of the cache (on Redis,
/// `{prefix}:{namespace}:{digest}`), where `{digest}` is 32 hex digits of a blake3 hash of
/// the session id (see [`key`](Self::key)) and the namespace is escaped as `#[cached]`
/// namespaces are. A session id is a bearer credential: whoever presents it is logged in. So
/// it is never part of a key, and neither the cache's logs (which name keys), its errors,
/// key listings ([`Cache::keys`], the admin API's `GET /keys`) nor anyone who can list the
/// Redis keys ever see one; the digest cannot be turned back into the id. (Versions before
/// 0.3 keyed sessions by the id itself: upgrading drops the sessions stored by them, and
/// their visitors start new ones.) Its TTL is the time left until the record's
/// [`expiry_date`](Record::expiry_date): a record that has already expired is not stored
/// (saving one deletes the session), and one is never loaded after its expiry date.
///
/// The record is stored with the cache's codec (its envelope, compression and signing), its
/// body being the record's JSON: session data is `serde_json` values, which bincode cannot
/// decode by itself.
///
/// An entry that cannot be read back (corrupt bytes, a foreign or truncated value, a record
/// of another id) loads as no session (`Ok(None)`): it is deleted, counted in
/// [`Stats::decode_errors`](crate::Stats::decode_errors) and logged, and the visitor starts
/// a fresh session, instead of every request carrying that cookie failing.
///
/// Clones share the cache. Errors of the cache become [`session_store::Error::Backend`]
/// (store failures) or [`session_store::Error::Encode`] (a record over the cache's maximum
/// value size).
///
/// ```no_run
/// use axum::{routing::get, Router};
/// use cache_runtime::{sessions::CacheSessionStore, Cache};
/// use tower_sessions::{Session, SessionManagerLayer};
///
/// async fn visits(session: Session) -> String {
///     let n: u64 = session.get("visits").await.ok().flatten().unwrap_or(0) + 1;
///     let _ = session.insert("visits", n).await;
///     format!("visit {n}")
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let cache = Cache::builder().redis_url("redis://127.0.0.1:6379").build().await?;
/// let store = CacheSessionStore::new(cache).namespace("sessions");
/// let app = Router::new()
///     .route("/", get(visits))
///     .layer(SessionManagerLayer::new(store));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// axum::serve(listener, app).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct CacheSessionStore {
    cache: Cache,
    /// The escaped namespace.
    namespace: String,
}

/// The blake3 context of the digests sessions are keyed by.
const SESSION_KEY_CONTEXT: &str = "cache-rs 2026-12 session id digest";

/// What one session's entry holds: the record as JSON (tower-sessions' session data is
/// `serde_json::Value`, which needs a self-describing format).
#[derive(Clone, Serialize, Deserialize)]
struct StoredSession(String);

impl CacheSessionStore {
    /// The namespace sessions live in unless [`namespace`](Self::namespace) says otherwise.
    pub const DEFAULT_NAMESPACE: &'static str = "sessions";

    /// A store keeping sessions in `cache`, in the namespace
    /// [`DEFAULT_NAMESPACE`](Self::DEFAULT_NAMESPACE).
    pub fn new(cache: Cache) -> Self {
        CacheSessionStore {
            cache,
            namespace: crate::key::escape_namespace(Self::DEFAULT_NAMESPACE),
        }
    }

    /// Keeps sessions in `namespace` instead (escaped like a `#[cached]` namespace, so any
    /// text is safe), e.g. to give two applications on one Redis separate sessions.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = crate::key::escape_namespace(namespace);
        self
    }

    /// The cache key of session `id`: `{namespace}:{digest}`, the digest being the first 16
    /// bytes, in hex, of a blake3 hash (in its key derivation mode, with a context of its
    /// own) of the id's string form (on Redis, the cache's prefix and `:` come first).
    pub fn key(&self, id: &Id) -> String {
        let mut hasher = blake3::Hasher::new_derive_key(SESSION_KEY_CONTEXT);
        hasher.update(id.to_string().as_bytes());
        let digest = hasher.finalize().to_hex();
        format!("{}:{}", self.namespace, &digest[..32])
    }

    /// The cache the sessions are kept in.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    /// Stores `record` under its id for `ttl`.
    async fn put(&self, record: &Record, ttl: Duration) -> session_store::Result<()> {
        let json = serde_json::to_string(record).map_err(|e| {
            session_store::Error::Encode(format!("session record could not be encoded: {e}"))
        })?;
        self.cache
            .set(self.key(&record.id), &StoredSession(json), Some(ttl))
            .await
            .map_err(|e| match e {
                crate::Error::TooLarge { .. } | crate::Error::Codec(_) => {
                    session_store::Error::Encode(format!("session not saved: {e}"))
                }
                e => backend("save", e),
            })
    }

    /// Drops an unreadable entry: counted, logged (without the session id, a credential),
    /// deleted if it still holds `read`, the bytes it was read from (best effort: a failed
    /// delete leaves it to its TTL; a record saved since stays).
    async fn drop_unreadable(&self, id: &Id, read: &[u8], why: &str) {
        Counters::bump(&self.cache.inner.counters.decode_errors);
        self.cache.warn(format_args!(
            "dropping an unreadable session in namespace `{}`: {why}",
            self.namespace
        ));
        let _ = self.cache.remove_unreadable(&self.key(id), read).await;
    }
}

/// The time left until `record` expires; `None` once it has expired.
fn time_left(record: &Record) -> Option<Duration> {
    Duration::try_from(record.expiry_date - OffsetDateTime::now_utc())
        .ok()
        .filter(|left| !left.is_zero())
}

fn backend(op: &str, e: crate::Error) -> session_store::Error {
    session_store::Error::Backend(format!("session {op} failed: {e}"))
}

#[async_trait]
impl SessionStore for CacheSessionStore {
    /// Stores a new session, never over an existing one: while the record's id is taken, it
    /// gets a fresh random id (as tower-sessions' own stores do), at most 8 times.
    ///
    /// The check and the write are two steps (`EXISTS`, then `SET`): two creates racing on
    /// one id could both write. With 128-bit random ids that needs a collision in the first
    /// place, so the store accepts it rather than widening the cache's API.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        for _ in 0..CREATE_ATTEMPTS {
            let taken = self
                .cache
                .exists(self.key(&record.id))
                .await
                .map_err(|e| backend("create", e))?;
            if !taken {
                return match time_left(record) {
                    Some(ttl) => self.put(record, ttl).await,
                    None => Ok(()),
                };
            }
            record.id = Id::default();
        }
        Err(session_store::Error::Backend(format!(
            "session create failed: no free session id after {CREATE_ATTEMPTS} tries"
        )))
    }

    /// Stores `record` until its expiry date, replacing what its id held; an expired record
    /// deletes the session instead.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match time_left(record) {
            Some(ttl) => self.put(record, ttl).await,
            None => self.delete(&record.id).await,
        }
    }

    /// The session `session_id`, if it is stored and has not expired. An unreadable entry
    /// is `Ok(None)` (see [`CacheSessionStore`]).
    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        // The record is parsed where the bytes it came from are at hand: an unreadable one
        // is deleted only if it still holds them.
        let parsed = |StoredSession(json): StoredSession, bytes: &[u8]| match serde_json::from_str::<
            Record,
        >(&json)
        {
            Ok(record) if record.id == *session_id => Ok(record),
            Ok(_) => Err((
                "it holds another session's record".to_owned(),
                bytes.to_vec(),
            )),
            Err(e) => Err((format!("its record is not valid: {e}"), bytes.to_vec())),
        };
        let record = match self.cache.read_with(&self.key(session_id), parsed).await {
            Ok(Some(Ok(record))) => record,
            Ok(Some(Err((why, read)))) => {
                self.drop_unreadable(session_id, &read, &why).await;
                return Ok(None);
            }
            Ok(None) => return Ok(None),
            Err(e) => return Err(backend("load", e)),
        };
        // The store's TTL ends it at the same moment; this covers clocks a little apart.
        Ok(time_left(&record).map(|_| record))
    }

    /// Deletes the session `session_id` (nothing happens if there is none).
    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.cache
            .delete(self.key(session_id))
            .await
            .map(|_| ())
            .map_err(|e| backend("delete", e))
    }
}
