//! The shared suites and the tier suite against a Valkey cluster with the in-process tier
//! (L1) in front and the backplane subscribed on one node of the cluster.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

cache_tests::backend_suite!(
    cache_tests::fixture::Fixture::cluster_tiered_on(cache_tests::kind::ServerKind::Valkey).await
);
cache_tests::tier_suite!(
    cache_tests::fixture::Fixture::cluster_tiered_on(cache_tests::kind::ServerKind::Valkey).await
);
