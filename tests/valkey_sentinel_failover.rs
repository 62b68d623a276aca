//! Failover behind Valkey's sentinels: `tests/sentinel/failover.rs` against `valkey-server`
//! and `valkey-server --sentinel`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The server the group runs.
const KIND: cache_tests::kind::ServerKind = cache_tests::kind::ServerKind::Valkey;

#[path = "sentinel/failover.rs"]
mod failover;
