//! The shared suites against the memory store (the embedded default).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

cache_tests::backend_suite!(cache_tests::fixture::Fixture::memory());
