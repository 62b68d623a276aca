//! The backplane: every invalidation is published on a Redis channel, and every process
//! drops the matching entries of its in-process tier (L1).
//!
//! Messages are one kind byte and a payload: `K` + key, `P` + pattern (namespaces travel as
//! their `{namespace}:*` pattern), `T` + tag. The subscriber reconnects by itself with a
//! backoff; L1 is only served while it is subscribed (or while the circuit breaker finds
//! Redis down), and it is cleared whenever it (re)subscribes, since messages published while
//! it was away are lost.

#[cfg(feature = "redis")]
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
#[cfg(feature = "redis")]
use std::sync::Arc;
#[cfg(feature = "redis")]
use std::time::Duration;

#[cfg(feature = "redis")]
use futures_util::StreamExt;

#[cfg(feature = "redis")]
use crate::call::marks::Marks;
use crate::store::memory::MemoryStore;

/// What to drop from every process's L1.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
#[derive(Clone, Copy, Debug)]
pub(crate) enum Forget<'a> {
    Key(&'a str),
    Pattern(&'a str),
    Tag(&'a str),
}

impl Forget<'_> {
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn encode(&self) -> Vec<u8> {
        let (kind, text) = match self {
            Forget::Key(k) => (b'K', k),
            Forget::Pattern(p) => (b'P', p),
            Forget::Tag(t) => (b'T', t),
        };
        let mut out = Vec::with_capacity(1 + text.len());
        out.push(kind);
        out.extend_from_slice(text.as_bytes());
        out
    }

    /// Moves the invalidation marks this message covers.
    pub(crate) fn mark(&self, marks: &crate::call::marks::Marks) {
        match self {
            Forget::Key(k) => marks.key(k),
            Forget::Pattern(_) | Forget::Tag(_) => marks.everything(),
        }
    }

    /// Applies the message to an L1 store.
    pub(crate) fn apply(&self, l1: &MemoryStore) {
        match self {
            Forget::Key(k) => {
                l1.remove(k);
            }
            Forget::Pattern(p) => {
                l1.remove_matching(p);
            }
            Forget::Tag(t) => {
                l1.remove_tag(t);
            }
        }
    }
}

/// Decodes and applies one message; unknown or malformed messages are ignored.
#[cfg(feature = "redis")]
fn apply_message(payload: &[u8], l1: &MemoryStore, epoch: &AtomicU64, marks: &Marks) {
    let Some((kind, rest)) = payload.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let forget = match kind {
        b'K' => Forget::Key(text),
        b'P' => Forget::Pattern(text),
        b'T' => Forget::Tag(text),
        _ => return,
    };
    epoch.fetch_add(1, SeqCst);
    forget.mark(marks);
    forget.apply(l1);
}

/// Aborts the subscriber task when the cache is dropped.
#[cfg(feature = "redis")]
pub(crate) struct Subscriber(tokio::task::JoinHandle<()>);

#[cfg(feature = "redis")]
impl Drop for Subscriber {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the subscriber on the current tokio runtime. `live` is true while subscribed.
///
/// It subscribes through the first of `nodes`' clients that answers (one per node given;
/// behind sentinels, the master they name at each attempt). On a Redis Cluster that is a
/// plain connection to one node, which is enough: a cluster broadcasts every PUBLISH to all
/// of its nodes.
#[cfg(feature = "redis")]
pub(crate) fn subscribe(
    nodes: crate::store::redis::Subscription,
    channel: String,
    l1: MemoryStore,
    live: Arc<AtomicBool>,
    epoch: Arc<AtomicU64>,
    marks: Arc<Marks>,
) -> Option<Subscriber> {
    let handle = tokio::runtime::Handle::try_current().ok()?;
    Some(Subscriber(handle.spawn(async move {
        let mut backoff = Duration::from_millis(50);
        loop {
            let mut subscribed = None;
            for client in nodes.clients().await {
                if let Ok(mut pubsub) = client.get_async_pubsub().await {
                    if pubsub.subscribe(&channel).await.is_ok() {
                        subscribed = Some(pubsub);
                        break;
                    }
                }
            }
            if let Some(mut pubsub) = subscribed {
                // Whatever was published while we were away is lost: start empty.
                epoch.fetch_add(1, SeqCst);
                marks.everything();
                l1.clear();
                live.store(true, Relaxed);
                backoff = Duration::from_millis(50);
                let mut messages = pubsub.on_message();
                while let Some(message) = messages.next().await {
                    apply_message(message.get_payload_bytes(), &l1, &epoch, &marks);
                }
                // The connection ended. L1 is kept (it is cleared when the subscription
                // comes back) but skipped, unless the circuit breaker finds Redis down.
                live.store(false, Relaxed);
                epoch.fetch_add(1, SeqCst);
                marks.everything();
            }
            nodes.lost();
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    })))
}
