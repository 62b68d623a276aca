//! The backend suite against Redis with the in-process tier (L1) in front, as users get it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

cache_tests::backend_suite!(cache_tests::fixture::Fixture::tiered().await);
