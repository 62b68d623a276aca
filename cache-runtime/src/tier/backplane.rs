//! The backplane: every invalidation is published on a Redis channel, and every process
//! drops the matching entries of its in-process tier (L1).
//!
//! Messages are one kind byte and a payload: `K` + key, `P` + pattern (namespaces travel as
//! their `{namespace}:*` pattern), `T` + tag. The subscriber reconnects by itself with a
//! backoff.
//!
//! With tracking ([`tracking`](crate::tier::tracking)), L1 follows Redis itself and the
//! backplane only moves the invalidation marks of single flight (see `docs/coherence.md`).
//! Without it, L1 is only served while the backplane is subscribed (or while the circuit
//! breaker finds Redis down), and it is cleared whenever it (re)subscribes, since messages
//! published while it was away are lost.

#[cfg(feature = "redis")]
use std::sync::Arc;
#[cfg(feature = "redis")]
use std::time::Duration;

#[cfg(feature = "redis")]
use futures_util::StreamExt;

use crate::store::memory::MemoryStore;
#[cfg(feature = "redis")]
use crate::tier::marks::Marks;
#[cfg(feature = "redis")]
use crate::tier::tracking::Target;

/// What to drop from every process's L1.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Forget<'a> {
    Key(&'a str),
    Pattern(&'a str),
    Tag(&'a str),
}

impl Forget<'_> {
    #[cfg(feature = "redis")]
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
    pub(crate) fn mark(&self, marks: &crate::tier::marks::Marks) {
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

/// Decodes and applies one message: the invalidation marks move, and with `l1` its
/// entries go. Unknown or malformed messages are ignored.
#[cfg(feature = "redis")]
fn apply_message(payload: &[u8], l1: Option<&Target>, marks: &Marks) {
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
    forget.mark(marks);
    if let Some(l1) = l1 {
        forget.mark(&l1.epoch);
        forget.apply(&l1.l1);
    }
}

/// Keeps the subscription for as long as the cache lives, reconnecting with a backoff.
///
/// It subscribes through the first of `nodes`' clients that answers (one per node given;
/// behind sentinels, the master they name at each attempt). On a Redis Cluster that is a
/// plain connection to one node, which is enough: a cluster broadcasts every PUBLISH to all
/// of its nodes.
///
/// With `l1` (the backplane keeps L1 coherent: no tracking), L1 is served only while
/// subscribed, and starts empty at every subscription (messages published while it was
/// away are lost). Without it (tracking keeps L1 coherent), the messages only move the
/// invalidation marks of single flight.
#[cfg(feature = "redis")]
pub(crate) async fn run(
    nodes: crate::store::redis::Subscription,
    channel: String,
    l1: Option<Target>,
    marks: Arc<Marks>,
) {
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
            marks.everything();
            if let Some(l1) = &l1 {
                l1.up();
            }
            backoff = Duration::from_millis(50);
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                apply_message(message.get_payload_bytes(), l1.as_ref(), &marks);
            }
            // The connection ended. L1 is kept (it is cleared when the subscription
            // comes back) but skipped, unless the circuit breaker finds Redis down.
            if let Some(l1) = &l1 {
                l1.down();
            }
            marks.everything();
        }
        nodes.lost();
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}
