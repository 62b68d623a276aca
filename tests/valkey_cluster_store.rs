//! The shared suites against a Valkey cluster (3 masters, started once for this binary),
//! with no L1: every read reaches the cluster. Tests take turns on the cluster.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

cache_tests::backend_suite!(
    cache_tests::fixture::Fixture::cluster_on(cache_tests::kind::ServerKind::Valkey).await
);
