//! The cluster harness itself: `tests/cluster/harness.rs` with `redis-server` nodes
//! (`tests/valkey_cluster_harness.rs`: with `valkey-server` nodes).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The server the cluster's nodes run.
const KIND: cache_tests::kind::ServerKind = cache_tests::kind::ServerKind::Redis;

#[path = "cluster/harness.rs"]
mod harness;
