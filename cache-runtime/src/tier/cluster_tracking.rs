//! Tracking on a Redis Cluster: one tracking connection per serving master.
//!
//! A key changes on the master that serves its slot, and only that master's trackers hear
//! of it; so L1 is served only while every serving master has a tracking connection of this
//! cache. The masters are read from `CLUSTER NODES` (through a seed, then through a tracking
//! connection every second). When the set of masters changes (a failover, a master added
//! or removed) or any connection drops, every connection is closed, L1 is skipped, and it is
//! cleared when all of them are back: a promoted replica may lack writes its old master
//! took, and what changed while a connection was down was not heard.
//!
//! Slots move between masters without notice. A key moved away from a master is deleted
//! there, which that master's tracker hears: its L1 copy goes. A value read from Redis goes
//! into L1 only once the master this cache believes serves its slot, asked over its tracking
//! connection (`TYPE`), answers without redirecting ([`Owners::serves`]): the value then
//! came from a tracked master, and what changes it later is heard (the `TYPE` goes out
//! alongside the first GET of a call, see `call/peek.rs`). A redirect (`MOVED`,
//! `ASK`) keeps the value out of L1 and makes the tracker read the topology at once: a
//! slot moved between tracked masters updates the slot map; a slot moved to a master that
//! is not tracked yet (one added after connecting) counts as a change of masters.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::ConnectionAddr;

use crate::observe::Coherence;
use crate::store::redis::breakers::SLOTS;
use crate::store::redis::cluster::{master_slots, SlotRanges};
use crate::tier::slot_owners::{Owners, SlotMap};
use crate::tier::tracking::{connect, Failure, Tracker};

/// A client for `host:port` with the settings (credentials, TLS) of `seed`.
fn client_at(seed: &redis::Client, host: &str, port: u16) -> Option<redis::Client> {
    let info = seed.get_connection_info().clone();
    let mut addr = info.addr().clone();
    match &mut addr {
        ConnectionAddr::Tcp(h, p)
        | ConnectionAddr::TcpTls {
            host: h, port: p, ..
        } => {
            *h = host.to_owned();
            *p = port;
        }
        _ => return None,
    }
    redis::Client::open(info.set_addr(addr)).ok()
}

/// The serving masters of a cluster (sorted) and the slot ranges each serves.
#[derive(PartialEq, Eq)]
struct Topology {
    masters: Vec<(String, u16)>,
    ranges: Vec<SlotRanges>,
}

/// The topology, asked of `conn`; `None` without an answer or without a serving master.
async fn topology_of(conn: &mut MultiplexedConnection, timeout: Duration) -> Option<Topology> {
    let cmd = redis::cmd("CLUSTER").arg("NODES").clone();
    let reply = tokio::time::timeout(timeout, cmd.query_async::<String>(conn))
        .await
        .ok()?
        .ok()?;
    let mut found = master_slots(&reply);
    found.sort();
    let (masters, ranges) = found.into_iter().unzip();
    let topology = Topology { masters, ranges };
    (!topology.masters.is_empty()).then_some(topology)
}

/// The topology, asked of the first seed that answers.
async fn discover(seeds: &[redis::Client], timeout: Duration) -> Option<Topology> {
    for seed in seeds {
        let connecting = seed.get_multiplexed_async_connection();
        if let Ok(Ok(mut conn)) = tokio::time::timeout(timeout, connecting).await {
            if let Some(found) = topology_of(&mut conn, timeout).await {
                return Some(found);
            }
        }
    }
    None
}

/// Per slot, the index of its master in `topology.masters`; `u16::MAX` for a slot no
/// master serves.
fn owner_by_slot(topology: &Topology) -> Box<[u16]> {
    let mut owner = vec![u16::MAX; usize::from(SLOTS)].into_boxed_slice();
    for (i, ranges) in topology.ranges.iter().enumerate() {
        let i = u16::try_from(i).unwrap_or(u16::MAX);
        for &(first, last) in ranges {
            for slot in first..=last.min(SLOTS - 1) {
                owner[usize::from(slot)] = i;
            }
        }
    }
    owner
}

/// Keeps tracking on every serving master of the cluster behind `nodes` (the seed nodes)
/// for as long as the cache lives; returns if the first answer is a refusal.
pub(crate) async fn run(tracker: Tracker) -> Failure {
    let Tracker {
        nodes,
        prefix,
        timeout,
        target,
        state,
    } = tracker;
    let prefix_bytes: Arc<[u8]> = format!("{prefix}:").into_bytes().into();
    let mut backoff = Duration::from_millis(50);
    // The masters a tracked master named when they changed: used as they are, since a seed
    // may not know of the change yet.
    let mut named = None;
    loop {
        let seeds = nodes.clients().await;
        let found = match named.take() {
            Some(found) => Some(found),
            None => discover(&seeds, timeout).await,
        };
        if let Some(found) = found {
            let gone = Arc::new(tokio::sync::Notify::new());
            let mut conns = Vec::with_capacity(found.masters.len());
            let mut failure = None;
            for (host, port) in &found.masters {
                let Some(client) = seeds.first().and_then(|s| client_at(s, host, *port)) else {
                    failure = Some(Failure::Refused(format!(
                        "no address for the cluster node {host}:{port}"
                    )));
                    break;
                };
                let on_push = target.on_push(prefix_bytes.clone(), gone.clone());
                match connect(&client, &prefix, timeout, on_push).await {
                    Ok(conn) => conns.push(conn),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            match failure {
                Some(Failure::Refused(why)) if state.mode() == Coherence::Connecting => {
                    return Failure::Refused(why);
                }
                Some(_) => {}
                None => {
                    state.set_mode(Coherence::Tracking);
                    state.set_conns(conns.clone());
                    let owners = &state.owners;
                    owners.set(Some(SlotMap::new(&prefix, owner_by_slot(&found), &conns)));
                    target.up();
                    backoff = Duration::from_millis(50);
                    named = watch(&mut conns, found, &gone, owners, &prefix, timeout).await;
                    target.down();
                    owners.set(None);
                    state.set_conns(Vec::new());
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// Returns when a connection is gone (closed, or a PING unanswered within `timeout`:
/// `None`) or the serving masters are no longer `found`'s (the new topology); looks every
/// second, and at once when a master answered a redirect ([`Owners::serves`]). Slots that
/// moved between the same masters only update the slot map.
async fn watch(
    conns: &mut [MultiplexedConnection],
    mut found: Topology,
    gone: &tokio::sync::Notify,
    owners: &Owners,
    prefix: &str,
    timeout: Duration,
) -> Option<Topology> {
    loop {
        let ask = tokio::select! {
            () = gone.notified() => return None,
            () = owners.moved.notified() => owners.moved_at.load(Relaxed),
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                for conn in conns.iter_mut() {
                    let ping = redis::cmd("PING");
                    match tokio::time::timeout(timeout, ping.query_async::<()>(conn)).await {
                        Ok(Ok(())) => {}
                        _ => return None,
                    }
                }
                0
            }
        };
        let at = if ask < conns.len() { ask } else { 0 };
        let conn = conns.get_mut(at)?;
        let now = topology_of(conn, timeout).await?;
        if now.masters != found.masters {
            return Some(now);
        }
        if now != found {
            owners.set(Some(SlotMap::new(prefix, owner_by_slot(&now), conns)));
            found = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_names_its_master() {
        let topology = Topology {
            masters: vec![("a".to_owned(), 1), ("b".to_owned(), 2)],
            ranges: vec![vec![(0, 99), (101, 101)], vec![(102, 16_383)]],
        };
        let owner = owner_by_slot(&topology);
        assert_eq!(owner.len(), 16_384);
        assert_eq!((owner[0], owner[99], owner[101]), (0, 0, 0));
        assert_eq!(owner[100], u16::MAX, "a slot nobody serves");
        assert_eq!((owner[102], owner[16_383]), (1, 1));
    }
}
