//! The cache on a Redis Cluster: `tests/cluster/caches.rs` against `redis-server` nodes
//! (`tests/valkey_cluster.rs`: the same against `valkey-server`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The server the cluster's nodes run.
const KIND: cache_tests::kind::ServerKind = cache_tests::kind::ServerKind::Redis;

#[path = "cluster/caches.rs"]
mod caches;
