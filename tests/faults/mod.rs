//! The fault tests, built once per server: `tests/faults.rs` (Redis) and
//! `tests/valkey_faults.rs` (Valkey) each set `crate::KIND`, the server the tests start.

mod fallback;
mod flight;
mod load;
mod outage;
mod server_side;
