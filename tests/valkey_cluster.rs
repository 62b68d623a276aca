//! The cache on a cluster of `valkey-server` nodes: `tests/cluster/caches.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The server the cluster's nodes run.
const KIND: cache_tests::kind::ServerKind = cache_tests::kind::ServerKind::Valkey;

#[path = "cluster/caches.rs"]
mod caches;
