//! The fault tests of `tests/faults.rs` (`tests/faults/`) against `valkey-server`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The server the fault tests start.
const KIND: cache_tests::kind::ServerKind = cache_tests::kind::ServerKind::Valkey;

#[path = "faults/mod.rs"]
mod faults;
