//! The backend suite and the tier suite against Valkey with the in-process tier (L1) in
//! front: each test starts its own `valkey-server`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

cache_tests::backend_suite!(
    cache_tests::fixture::Fixture::tiered_on(cache_tests::kind::ServerKind::Valkey).await
);
cache_tests::tier_suite!(
    cache_tests::fixture::Fixture::tiered_on(cache_tests::kind::ServerKind::Valkey).await
);
