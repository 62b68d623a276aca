//! Failover behind Redis Sentinel: `tests/sentinel/failover.rs` against `redis-server` and
//! `redis-server --sentinel` (`tests/valkey_sentinel_failover.rs`: the same on Valkey).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The server the group runs.
const KIND: cache_tests::kind::ServerKind = cache_tests::kind::ServerKind::Redis;

#[path = "sentinel/failover.rs"]
mod failover;
