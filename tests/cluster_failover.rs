//! Failover under load on a Redis Cluster: `tests/cluster/failover.rs` against `redis-server`
//! nodes (`tests/valkey_cluster_failover.rs`: the same against `valkey-server`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The server the cluster's nodes run.
const KIND: cache_tests::kind::ServerKind = cache_tests::kind::ServerKind::Redis;

#[path = "cluster/failover.rs"]
mod failover;
