//! Test support for the integration tests: real `redis-server` processes and the backend
//! fixture the shared suites run against.

pub mod redis_server;
