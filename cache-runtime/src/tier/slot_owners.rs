//! Which tracking connection serves each slot of a cluster, for L1's admission check: a value
//! read from Redis goes into L1 only if its key's master is tracked (see
//! [`cluster_tracking`](crate::tier::cluster_tracking)).

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::store::redis::breakers::slot_of;

/// Which tracking connection serves each slot, while tracking is up.
pub(crate) struct SlotMap {
    /// The cache's key prefix, `{prefix}:`.
    prefix: String,
    /// Per slot, the index in `conns` of its master's connection; `u16::MAX`: none.
    owner: Box<[u16]>,
    conns: Vec<MultiplexedConnection>,
}

impl SlotMap {
    /// The map of `conns`, the connection of each slot's master given by `owner`.
    pub(crate) fn new(prefix: &str, owner: Box<[u16]>, conns: &[MultiplexedConnection]) -> Self {
        SlotMap {
            prefix: format!("{prefix}:"),
            owner,
            conns: conns.to_vec(),
        }
    }
}

/// The slot map of a cluster's tracking connections, for the L1 admission check
/// ([`Owners::serves`]), and the signal that a slot was found moved.
#[derive(Default)]
pub(crate) struct Owners {
    map: Mutex<Option<Arc<SlotMap>>>,
    /// Woken when a master answered a redirect: the tracker reads the topology at once.
    pub(crate) moved: tokio::sync::Notify,
    /// The connection (index) that answered it, whose view of its own slots is current.
    pub(crate) moved_at: AtomicUsize,
}

impl Owners {
    /// The map of the connections now up; `None` while tracking is down.
    pub(crate) fn set(&self, map: Option<SlotMap>) {
        if let Ok(mut slot) = self.map.lock() {
            *slot = map.map(Arc::new);
        }
    }

    /// Whether the master serving `key`'s slot is tracked by this cache: its tracking
    /// connection answers `TYPE` on the key without a redirect (within `timeout`). Its
    /// reply also comes after every invalidation that master sent before it. `false`
    /// while tracking is down, on a redirect (which wakes the tracker), or without an
    /// answer.
    pub(crate) async fn serves(&self, key: &str, timeout: Duration) -> bool {
        let Some(map) = self.map.lock().ok().and_then(|m| m.clone()) else {
            return false;
        };
        let redis_key = [map.prefix.as_str(), key].concat();
        let slot = slot_of(&[redis_key.as_bytes()]);
        let at = map
            .owner
            .get(usize::from(slot))
            .copied()
            .unwrap_or(u16::MAX);
        let Some(mut conn) = map.conns.get(usize::from(at)).cloned() else {
            self.moved.notify_one();
            return false;
        };
        let ask = redis::cmd("TYPE").arg(&redis_key).clone();
        match tokio::time::timeout(timeout, ask.query_async::<redis::Value>(&mut conn)).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) if e.redirect_node().is_some() => {
                self.moved_at.store(usize::from(at), Relaxed);
                self.moved.notify_one();
                false
            }
            _ => false,
        }
    }
}
