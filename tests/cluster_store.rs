//! The shared suites against a Redis Cluster (3 masters, started once for this binary),
//! Redis only (no L1): every read reaches the cluster. Tests take turns on the cluster.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

cache_tests::backend_suite!(cache_tests::fixture::Fixture::cluster().await);
