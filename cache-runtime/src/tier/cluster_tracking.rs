//! Tracking on a Redis Cluster: one tracking connection per serving master.
//!
//! A key changes on the master that serves its slot, and only that master's trackers hear
//! of it; so L1 is served only while every serving master has a tracking connection of this
//! cache. The masters are read from `CLUSTER NODES` (through a seed, then through a tracking
//! connection every second). When the set of masters changes (a failover, a master added
//! or removed) or any connection drops, every connection is closed, L1 is skipped, and it is
//! cleared when all of them are back: a promoted replica may lack writes its old master
//! took, and what changed while a connection was down was not heard.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::ConnectionAddr;

use crate::observe::Coherence;
use crate::store::redis::cluster::masters;
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

/// The serving masters, asked of `conn`.
async fn masters_of(
    conn: &mut MultiplexedConnection,
    timeout: Duration,
) -> Option<Vec<(String, u16)>> {
    let cmd = redis::cmd("CLUSTER").arg("NODES").clone();
    let reply = tokio::time::timeout(timeout, cmd.query_async::<String>(conn))
        .await
        .ok()?
        .ok()?;
    let mut found = masters(&reply);
    found.sort();
    (!found.is_empty()).then_some(found)
}

/// The serving masters, asked of the first seed that answers.
async fn discover(seeds: &[redis::Client], timeout: Duration) -> Option<Vec<(String, u16)>> {
    for seed in seeds {
        let connecting = seed.get_multiplexed_async_connection();
        if let Ok(Ok(mut conn)) = tokio::time::timeout(timeout, connecting).await {
            if let Some(found) = masters_of(&mut conn, timeout).await {
                return Some(found);
            }
        }
    }
    None
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
    loop {
        let seeds = nodes.clients().await;
        if let Some(found) = discover(&seeds, timeout).await {
            let gone = Arc::new(tokio::sync::Notify::new());
            let mut conns = Vec::with_capacity(found.len());
            let mut failure = None;
            for (host, port) in &found {
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
                    target.up();
                    backoff = Duration::from_millis(50);
                    watch(&mut conns, &found, &gone, timeout).await;
                    target.down();
                    state.set_conns(Vec::new());
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// Returns when a connection is gone (closed, or a PING unanswered within `timeout`) or the
/// serving masters are no longer `found`; looks every second.
async fn watch(
    conns: &mut [MultiplexedConnection],
    found: &[(String, u16)],
    gone: &tokio::sync::Notify,
    timeout: Duration,
) {
    loop {
        tokio::select! {
            () = gone.notified() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                for conn in conns.iter_mut() {
                    let ping = redis::cmd("PING");
                    match tokio::time::timeout(timeout, ping.query_async::<()>(conn)).await {
                        Ok(Ok(())) => {}
                        _ => return,
                    }
                }
                let Some(first) = conns.first_mut() else {
                    return;
                };
                if masters_of(first, timeout).await.as_deref() != Some(found) {
                    return;
                }
            }
        }
    }
}
