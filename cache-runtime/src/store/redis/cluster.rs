//! Redis Cluster (feature `cluster`): the cluster connection behind [`Conn`](super::Conn),
//! and the per-master SCAN of [`delete_matching`](super::RedisStore::delete_matching).
//!
//! redis-rs routes every keyed command to its slot's master and splits MGET and UNLINK
//! per slot; pipelines and scripts must stay in one slot, so on a cluster a tagged write
//! or fill touches the entry, then each tag index in a pipeline of its own (an index lies in
//! its own slot), and `set_many` is one SET per item. SCAN is not routed by the client (it would reach one random node), so a
//! clear scans every master with its own cursor.
//!
//! The circuit breakers are per part of the slot space (see
//! [`breakers`](super::breakers)): one unreachable master opens its parts' breakers only.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{Cmd, RedisFuture, Value};

use super::{RedisOptions, RedisStore};
use crate::error::{Error, Result};

/// A cluster connection made on first use (connecting spawns a task, which needs the tokio
/// runtime that `build_lazy` may not run on). Cheap to clone.
#[derive(Clone)]
pub(crate) struct LazyCluster(Arc<Shared>);

struct Shared {
    client: ClusterClient,
    connect_timeout: Duration,
    response_timeout: Duration,
    conn: OnceLock<ClusterConnection>,
}

/// `host:port` or `redis://host:port` as a `redis://` URL, and `rediss://host:port` (TLS,
/// feature `tls`) as itself; anything else is refused.
pub(crate) fn node_url(entry: &str) -> std::result::Result<String, String> {
    super::node::node_url(entry, "a cluster node")
}

/// Whether the nodes (checked by [`node_url`]) are reached over TLS; an error when they mix
/// `redis://` and `rediss://`.
fn nodes_use_tls(nodes: &[String]) -> Result<bool> {
    let tls = nodes.iter().filter(|n| n.starts_with("rediss://")).count();
    match tls {
        0 => Ok(false),
        n if n == nodes.len() => Ok(true),
        _ => Err(Error::config(format_args!(
            "Redis Cluster nodes mix redis:// and rediss://: {nodes:?}; every node of a \
             cluster is reached the same way"
        ))),
    }
}

impl LazyCluster {
    /// The client for `nodes` (already checked by [`node_url`]), with a small retry count:
    /// redis-rs's default retries with a backoff could stall one call for seconds.
    ///
    /// Each node's connection keeps `response_timeout` as its reply deadline (it also bounds
    /// redis-rs's own slot refreshes), but the deadline redis-rs puts around each whole
    /// request is only kept when it is shorter than the operation deadline every command
    /// already runs under, as for a single node (`deadline::reply_timeout`): otherwise it never fires,
    /// and every command would pay for one more timer.
    pub(crate) fn open(nodes: &[String], options: &RedisOptions) -> Result<Self> {
        let mut builder = ClusterClientBuilder::new(nodes.iter().map(String::as_str))
            .connection_timeout(options.connect_timeout)
            .response_timeout(options.response_timeout)
            .overall_response_timeout(super::deadline::reply_timeout(options))
            .retries(1)
            .min_retry_wait(10)
            .max_retry_wait(100);
        if let Some(user) = &options.username {
            builder = builder.username(user);
        }
        if let Some(password) = &options.password {
            builder = builder.password(password);
        }
        let tls = nodes_use_tls(nodes)?;
        // Over TLS, the CA to trust instead of the system's roots and the client
        // certificate, as for one node (without the `tls` feature, `node_url` refused every
        // rediss:// node).
        #[cfg(feature = "tls")]
        if tls {
            if let Some(certificates) = super::tls::certificates(options)? {
                builder = builder.certs(certificates);
            }
        }
        #[cfg(not(feature = "tls"))]
        let _ = tls;
        let client = builder.build().map_err(|e| {
            Error::config(format_args!("invalid Redis Cluster nodes {nodes:?}: {e}"))
        })?;
        Ok(LazyCluster(Arc::new(Shared {
            client,
            connect_timeout: options.connect_timeout,
            response_timeout: options.response_timeout,
            conn: OnceLock::new(),
        })))
    }

    fn conn(&self) -> ClusterConnection {
        let shared = &self.0;
        shared
            .conn
            .get_or_init(|| {
                let config = ClusterConfig::new()
                    .set_connection_timeout(shared.connect_timeout)
                    .set_response_timeout(shared.response_timeout);
                shared
                    .client
                    .get_pending_async_connection_with_config(config)
            })
            .clone()
    }

    /// `cmd` sent to the node at `host:port`.
    pub(crate) async fn route_to(
        &self,
        cmd: &Cmd,
        host: &str,
        port: u16,
    ) -> redis::RedisResult<Value> {
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
            host: host.to_owned(),
            port,
        });
        self.conn().route_command(cmd.clone(), routing).await
    }

    /// `cmd` sent to any one node.
    pub(crate) async fn route_random(&self, cmd: &Cmd) -> redis::RedisResult<Value> {
        let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random);
        self.conn().route_command(cmd.clone(), routing).await
    }
}

impl ConnectionLike for LazyCluster {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let mut conn = self.conn();
        Box::pin(async move { conn.req_packed_command(cmd).await })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        let mut conn = self.conn();
        Box::pin(async move { conn.req_packed_commands(pipeline, offset, count).await })
    }

    fn get_db(&self) -> i64 {
        0
    }
}

/// The serving masters in a `CLUSTER NODES` reply, as `(host, port)`: flagged `master`,
/// not failed, without a missing address, and serving at least one slot.
pub(crate) fn masters(nodes: &str) -> Vec<(String, u16)> {
    master_slots(nodes)
        .into_iter()
        .map(|(addr, _)| addr)
        .collect()
}

/// Slot ranges, inclusive: `(0, 5460)`.
pub(crate) type SlotRanges = Vec<(u16, u16)>;

/// [`masters`], each with the slot ranges it serves (inclusive; the `[slot->-id]` entries
/// of a slot being migrated are left out).
pub(crate) fn master_slots(nodes: &str) -> Vec<((String, u16), SlotRanges)> {
    nodes
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let flags = fields.get(2)?;
            let serving = flags.split(',').any(|f| f == "master")
                && !flags
                    .split(',')
                    .any(|f| f.starts_with("fail") || f == "noaddr" || f == "handshake")
                && fields.len() > 8;
            if !serving {
                return None;
            }
            // `ip:port@cport[,hostname]`
            let addr = fields.get(1)?.split('@').next()?;
            let (host, port) = addr.rsplit_once(':')?;
            let ranges = fields[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => s.parse().ok().map(|one| (one, one)),
                })
                .collect();
            Some(((host.to_owned(), port.parse().ok()?), ranges))
        })
        .collect()
}

impl RedisStore {
    /// On a cluster, [`delete_matching`](RedisStore::delete_matching) on every serving
    /// master (from `CLUSTER NODES`), each SCAN cursor continued on its own node; the found
    /// keys are UNLINKed through the cluster client, which splits them per slot. A master
    /// that joins or a slot that moves during the clear is not followed.
    /// The serving masters, from `CLUSTER NODES` asked of any node.
    pub(super) async fn cluster_masters(
        &self,
        cluster: &LazyCluster,
    ) -> Result<Vec<(String, u16)>> {
        let reply = self
            .guard(cluster.route_random(redis::cmd("CLUSTER").arg("NODES")))
            .await?;
        let nodes: String =
            redis::from_redis_value(reply).map_err(|e| Error::store(e.to_string()))?;
        let masters = masters(&nodes);
        if masters.is_empty() {
            return Err(Error::store(
                "CLUSTER NODES lists no serving master: the cluster cannot be scanned",
            ));
        }
        Ok(masters)
    }

    pub(super) async fn delete_matching_cluster(
        &self,
        cluster: &LazyCluster,
        glob: &str,
    ) -> Result<u64> {
        fn parse<T: redis::FromRedisValue>(v: Value) -> Result<T> {
            redis::from_redis_value(v).map_err(|e| Error::store(e.to_string()))
        }
        let masters = self.cluster_masters(cluster).await?;
        let mut removed = 0;
        for (host, port) in &masters {
            let mut cursor: u64 = 0;
            loop {
                let scan = super::scan::scan_cmd(cursor, glob);
                let (next, keys): (u64, Vec<Vec<u8>>) =
                    parse(self.guard(cluster.route_to(&scan, host, *port)).await?)?;
                if !keys.is_empty() {
                    let n: u64 = self.run(redis::cmd("UNLINK").arg(&keys)).await?;
                    removed += n;
                }
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_entries() {
        assert_eq!(
            node_url("127.0.0.1:7000").as_deref(),
            Ok("redis://127.0.0.1:7000")
        );
        assert_eq!(node_url(" redis://h:1 ").as_deref(), Ok("redis://h:1"));
        let tls = node_url("rediss://h:1/");
        if cfg!(feature = "tls") {
            assert_eq!(tls.as_deref(), Ok("rediss://h:1"));
        } else {
            assert_eq!(
                tls,
                Err(
                    "`rediss://h:1/` needs TLS, and cache-runtime was built without its \
                     `tls` feature"
                        .to_owned()
                )
            );
        }
        for bad in [
            "",
            "h",
            "h:",
            ":1",
            "h:0",
            "h:x",
            "rediss://h",
            "u:p@h:1",
            "rediss://u:p@h:1",
        ] {
            assert!(node_url(bad).is_err(), "{bad}");
        }
        assert_eq!(
            node_url("rediss://u:p@h:1"),
            Err(
                "`rediss://u:***@h:1` is not a cluster node; expected host:port, \
                 redis://host:port or rediss://host:port"
                    .to_owned()
            )
        );
    }

    #[test]
    fn nodes_are_all_plain_or_all_tls() {
        let nodes = |list: &[&str]| list.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
        assert!(matches!(
            nodes_use_tls(&nodes(&["redis://a:1", "redis://b:2"])),
            Ok(false)
        ));
        assert!(matches!(
            nodes_use_tls(&nodes(&["rediss://a:1", "rediss://b:2"])),
            Ok(true)
        ));
        let mixed = nodes_use_tls(&nodes(&["redis://a:1", "rediss://b:2"]));
        assert_eq!(
            mixed.map_err(|e| e.to_string()),
            Err(
                "invalid cache configuration: Redis Cluster nodes mix redis:// and rediss://: \
                 [\"redis://a:1\", \"rediss://b:2\"]; every node of a cluster is reached the \
                 same way"
                    .to_owned()
            )
        );
    }

    #[test]
    fn masters_from_cluster_nodes() {
        let reply = "\
a 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
b 127.0.0.1:7001@17001 master - 0 0 2 connected 5461-10922
c 127.0.0.1:7002@17002,host master,fail - 0 0 3 connected 10923-16383
d 127.0.0.1:7003@17003 slave a 0 0 1 connected
e 127.0.0.1:7004@17004 master - 0 0 4 connected
";
        assert_eq!(
            masters(reply),
            vec![
                ("127.0.0.1".to_owned(), 7000),
                ("127.0.0.1".to_owned(), 7001)
            ]
        );
        assert_eq!(
            master_slots(reply),
            vec![
                (("127.0.0.1".to_owned(), 7000), vec![(0, 5460)]),
                (("127.0.0.1".to_owned(), 7001), vec![(5461, 10922)])
            ]
        );
        let moving =
            "a 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-99 100 [101->-b] 102-5460";
        assert_eq!(
            master_slots(moving),
            vec![(
                ("127.0.0.1".to_owned(), 7000),
                vec![(0, 99), (100, 100), (102, 5460)]
            )]
        );
    }
}
