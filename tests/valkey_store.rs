//! The shared suites against Valkey: each test starts its own `valkey-server`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

cache_tests::backend_suite!(cache_tests::fixture::Fixture::valkey().await);
