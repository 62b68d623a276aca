//! The cluster harness itself with `valkey-server` nodes: `tests/cluster/harness.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The server the cluster's nodes run.
const KIND: cache_tests::kind::ServerKind = cache_tests::kind::ServerKind::Valkey;

#[path = "cluster/harness.rs"]
mod harness;
