//! Fault injection against real `redis-server` processes: Redis killed and restarted, stopped
//! (`SIGSTOP`), never started or not resolvable, full (`maxmemory` with `noeviction`), holding
//! garbage, and values above `max_value_bytes`; and single flight while Redis fails.
//! `tests/valkey_faults.rs` runs the same tests against `valkey-server`.
//!
//! Each test builds its own `Cache` on its own server and drives `#[cached]` calls from many
//! tokio tasks at once through the whole episode. Every call must return the body's value
//! (never a wrong one), no task may panic, and no call may take longer than the configured
//! operation timeout plus the body's time plus a generous margin. The measured p50, p99 and
//! max latencies are printed (`cargo test -p cache-tests --test faults -- --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// The server the fault tests start.
const KIND: cache_tests::kind::ServerKind = cache_tests::kind::ServerKind::Redis;

#[path = "faults/mod.rs"]
mod faults;
