//! Server-assisted client-side caching: Redis tells this process which keys changed.
//!
//! One RESP3 connection per node sends `CLIENT TRACKING ON BCAST PREFIX {prefix}:` and
//! receives an `invalidate` push for every key under the prefix that changes in Redis, for
//! any reason and from any client: a write, `DEL`/`UNLINK`, an expiry, an eviction. A
//! `FLUSHALL`/`FLUSHDB` arrives as one push without keys. Each push drops the L1 copies
//! of its keys (and moves their L1 epoch slots, so a Redis read that began before it does
//! not put its value into L1 after it).
//!
//! While a tracking connection is down, L1 is not served (`live` is false); when it is back,
//! L1 starts empty, since the server did not track anything for a connection it did not
//! have. A server or proxy that refuses RESP3 or `CLIENT TRACKING` at the first connect
//! leaves the cache on the backplane ([`Coherence::Backplane`]).
//!
//! Why BCAST and not the default mode: see `docs/coherence.md`.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ProtocolVersion, PushInfo, PushKind, Value};

use crate::observe::Coherence;
use crate::store::memory::MemoryStore;
use crate::tier::marks::Marks;

/// The coherence state shared by the cache and its background task.
#[derive(Default)]
pub(crate) struct State {
    mode: AtomicU8,
    /// The tracking connections while they are up (one per serving master of a cluster):
    /// [`State::barrier`] goes through them.
    conns: Mutex<Vec<MultiplexedConnection>>,
    /// On a cluster, which tracking connection serves each slot.
    #[cfg(feature = "cluster")]
    pub(crate) owners: crate::tier::slot_owners::Owners,
}

impl State {
    pub(crate) fn mode(&self) -> Coherence {
        Coherence::from_u8(self.mode.load(Relaxed))
    }

    pub(crate) fn set_mode(&self, mode: Coherence) {
        self.mode.store(mode as u8, Relaxed);
    }

    pub(crate) fn set_conns(&self, conns: Vec<MultiplexedConnection>) {
        if let Ok(mut slot) = self.conns.lock() {
            *slot = conns;
        }
    }

    /// Waits until every invalidation Redis sent before now has been applied: a PING on the
    /// tracking connection, whose reply comes after the pushes sent before it. A write of
    /// this process is echoed back as an invalidation; waiting for it after the write keeps
    /// a later read from racing its own echo. Bounded by `timeout`; a no-op without tracking.
    pub(crate) async fn barrier(&self, timeout: Duration) {
        if self.mode() != Coherence::Tracking {
            return;
        }
        let conns = self.conns.lock().map(|c| c.clone()).unwrap_or_default();
        let ping = redis::cmd("PING");
        let pings = conns.into_iter().map(|mut conn| {
            let ping = &ping;
            async move { ping.query_async::<()>(&mut conn).await }
        });
        let _ = tokio::time::timeout(timeout, futures_util::future::join_all(pings)).await;
    }
}

/// What the push handler changes.
#[derive(Clone)]
pub(crate) struct Target {
    pub(crate) l1: MemoryStore,
    /// L1's epoch slots: a value read from Redis goes into L1 only if its key's slot did not
    /// move since the read began.
    pub(crate) epoch: Arc<Marks>,
    /// Whether L1 is served (the one relaxed load on the hit path).
    pub(crate) live: Arc<AtomicBool>,
}

impl Target {
    /// Applies one push from a tracking connection. Keys outside `prefix`, and pushes of
    /// other kinds, are ignored; nothing in a push can make this panic.
    fn apply(&self, prefix: &[u8], push: &PushInfo) {
        if push.kind != PushKind::Invalidate {
            return;
        }
        match push.data.first() {
            Some(Value::Array(keys)) | Some(Value::Set(keys)) => {
                for key in keys {
                    let bytes = match key {
                        Value::BulkString(b) => b.as_slice(),
                        Value::SimpleString(s) => s.as_bytes(),
                        _ => continue,
                    };
                    let Some(key) = bytes
                        .strip_prefix(prefix)
                        .and_then(|k| std::str::from_utf8(k).ok())
                    else {
                        continue;
                    };
                    self.epoch.key(key);
                    self.l1.remove(key);
                }
            }
            // No key list: the database was flushed.
            _ => self.forget_everything(),
        }
    }

    /// What a tracking connection does with its pushes: applies them, and on the client's
    /// disconnection message takes L1 down and wakes `gone`.
    pub(crate) fn on_push(
        &self,
        prefix: Arc<[u8]>,
        gone: Arc<tokio::sync::Notify>,
    ) -> impl Fn(PushInfo) + Send + Sync + 'static {
        let target = self.clone();
        move |push: PushInfo| {
            if push.kind == PushKind::Disconnection {
                target.down();
                gone.notify_one();
            } else {
                target.apply(&prefix, &push);
            }
        }
    }

    fn forget_everything(&self) {
        self.epoch.everything();
        self.l1.clear();
    }

    /// The connection is gone: L1 is skipped from now on, and no read that began before
    /// puts its value into it.
    pub(crate) fn down(&self) {
        self.live.store(false, Relaxed);
        self.epoch.everything();
    }

    /// Tracking is (again) in place: L1 starts empty and is served.
    pub(crate) fn up(&self) {
        self.forget_everything();
        self.live.store(true, Relaxed);
    }
}

/// What a tracking task works with.
pub(crate) struct Tracker {
    /// The nodes to ask (the seeds of a cluster; behind sentinels, the current master).
    pub(crate) nodes: crate::store::redis::Subscription,
    /// The cache's key prefix (tracked as `{prefix}:`).
    pub(crate) prefix: String,
    /// How long a connection may take to open, and a reply to come.
    pub(crate) timeout: Duration,
    pub(crate) target: Target,
    pub(crate) state: Arc<State>,
}

/// Why a tracking connection could not be made.
pub(crate) enum Failure {
    /// The server answered, refusing RESP3 or `CLIENT TRACKING`: it never will.
    Refused(String),
    /// No answer (refused connection, timeout, a node loading): try again.
    Transport,
}

/// Opens a RESP3 connection to the node of `client` whose pushes go to `on_push`, and turns
/// on broadcast tracking of `prefix`.
pub(crate) async fn connect(
    client: &redis::Client,
    prefix: &str,
    timeout: Duration,
    on_push: impl Fn(PushInfo) + Send + Sync + 'static,
) -> Result<MultiplexedConnection, Failure> {
    let info = client.get_connection_info().clone();
    let settings = info
        .redis_settings()
        .clone()
        .set_protocol(ProtocolVersion::RESP3);
    let classify = |e: redis::RedisError| {
        if crate::store::redis::is_transport(&e) {
            Failure::Transport
        } else {
            Failure::Refused(e.to_string())
        }
    };
    let client = redis::Client::open(info.set_redis_settings(settings)).map_err(classify)?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout))
        .set_push_sender(move |push: PushInfo| {
            on_push(push);
            Ok::<(), std::convert::Infallible>(())
        });
    let mut conn = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(classify)?;
    redis::cmd("CLIENT")
        .arg("TRACKING")
        .arg("ON")
        .arg("BCAST")
        .arg("PREFIX")
        .arg(format!("{prefix}:"))
        .query_async::<()>(&mut conn)
        .await
        .map_err(classify)?;
    Ok(conn)
}

/// Keeps broadcast tracking on the first of `nodes` (behind sentinels, the master they name
/// at each attempt) for as long as the cache lives: reconnects with a backoff, and keeps
/// `target` live only while tracking is in place. Returns (without having served L1) if the
/// first answer is a refusal.
pub(crate) async fn run(t: Tracker) -> Failure {
    let prefix_bytes: Arc<[u8]> = format!("{}:", t.prefix).into_bytes().into();
    let mut backoff = Duration::from_millis(50);
    loop {
        let gone = Arc::new(tokio::sync::Notify::new());
        let on_push = t.target.on_push(prefix_bytes.clone(), gone.clone());
        let Some(client) = t.nodes.clients().await.into_iter().next() else {
            t.nodes.lost();
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
            continue;
        };
        match connect(&client, &t.prefix, t.timeout, on_push).await {
            Ok(mut conn) => {
                t.state.set_mode(Coherence::Tracking);
                t.state.set_conns(vec![conn.clone()]);
                t.target.up();
                backoff = Duration::from_millis(50);
                watch(&mut conn, &gone, t.timeout).await;
                t.target.down();
                t.state.set_conns(Vec::new());
            }
            Err(Failure::Refused(why)) if t.state.mode() == Coherence::Connecting => {
                return Failure::Refused(why);
            }
            Err(_) => {}
        }
        t.nodes.lost();
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// Returns when the connection is gone: closed (the client's disconnection push), or not
/// answering a PING sent every second within `timeout` (a paused or unreachable server
/// closes nothing).
async fn watch(conn: &mut MultiplexedConnection, gone: &tokio::sync::Notify, timeout: Duration) {
    loop {
        tokio::select! {
            () = gone.notified() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                let ping = redis::cmd("PING");
                match tokio::time::timeout(timeout, ping.query_async::<()>(conn)).await {
                    Ok(Ok(())) => {}
                    _ => return,
                }
            }
        }
    }
}
