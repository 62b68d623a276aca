//! The shared suites against Redis: each test starts its own `redis-server`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

cache_tests::backend_suite!(cache_tests::fixture::Fixture::redis().await);
