//! Fault injection against real `redis-server` processes: Redis killed and restarted, stopped
//! (`SIGSTOP`), never started or not resolvable, full (`maxmemory` with `noeviction`), holding
//! garbage, and values above `max_value_bytes`; and single flight while Redis fails.
//!
//! Each test builds its own `Cache` on its own server and drives `#[cached]` calls from many
//! tokio tasks at once through the whole episode. Every call must return the body's value
//! (never a wrong one), no task may panic, and no call may take longer than the configured
//! operation timeout plus the body's time plus a generous margin. The measured p50, p99 and
//! max latencies are printed (`cargo test -p cache-tests --test faults -- --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "faults/flight.rs"]
mod flight;
#[path = "faults/load.rs"]
mod load;
#[path = "faults/outage.rs"]
mod outage;
#[path = "faults/server_side.rs"]
mod server_side;
