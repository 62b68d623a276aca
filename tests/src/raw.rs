//! A raw connection to the fixture's Redis that bypasses the cache: one node, or a Redis
//! Cluster (commands routed by slot by redis-rs, like any user's cluster client).

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

/// A connection to a single node or to a cluster, usable with `query_async` and
/// `redis::AsyncCommands`.
#[derive(Clone)]
pub enum RawConn {
    /// A single `redis-server`.
    Single(MultiplexedConnection),
    /// A Redis Cluster (single-key commands go to the key's master).
    Cluster(ClusterConnection),
}

impl ConnectionLike for RawConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            RawConn::Single(c) => c.req_packed_command(cmd),
            RawConn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            RawConn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            RawConn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        0
    }
}
