//! The global cache that `#[cached]` functions use unless given `cache = ...`.

use std::sync::OnceLock;

use crate::cache::builder::CacheBuilder;
use crate::cache::Cache;
use crate::error::{Error, Result};

static GLOBAL: OnceLock<Cache> = OnceLock::new();

/// Sets the global cache. Call it once at start-up, before the first `#[cached]` call:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> cache_runtime::Result<()> {
/// cache_runtime::init(cache_runtime::Cache::from_env().await?)?;
/// # Ok(()) }
/// ```
///
/// Building the cache yourself surfaces configuration and connection errors at start-up.
/// If `init` is never called, the first use builds the global cache from the environment
/// (see [`CacheBuilder::from_env`]) without connecting; if that configuration is invalid (a
/// malformed variable, or one that needs a feature cache-runtime was built without, such as
/// `REDIS_CLUSTER_NODES` without `cluster`), the global cache is *disabled*: every `#[cached]`
/// call runs its body, and each failed read is counted in
/// [`Stats::errors`](crate::Stats::errors). The cause, naming the variable or the feature, is
/// reported once as an error event, or on standard error when no tracing subscriber would
/// record that event, and stays in [`Stats::disabled_reason`](crate::Stats::disabled_reason)
/// and [`Health::disabled_reason`](crate::Health::disabled_reason).
///
/// # Errors
/// [`Error::Config`] if the global cache was already set or already used.
pub fn init(cache: Cache) -> Result<()> {
    GLOBAL.set(cache).map_err(|_| {
        Error::config(
            "the global cache is already set (by an earlier `init`, or by a `#[cached]` call made before `init`); call `cache_runtime::init` once, before the first cached call",
        )
    })
}

/// The global cache (built from the environment on first use if [`init`] was not called;
/// see [`init`] for what happens when that configuration is invalid).
pub fn global() -> &'static Cache {
    GLOBAL.get_or_init(
        || match CacheBuilder::from_env().and_then(CacheBuilder::build_lazy) {
            Ok(cache) => cache,
            Err(e) => disabled(&e),
        },
    )
}

/// The disabled global cache, once its configuration failed with `error`: says so, as an
/// error event, or on standard error when no subscriber would record that event (a program
/// without a tracing subscriber would otherwise run every body without a word).
#[cold]
fn disabled(error: &Error) -> Cache {
    let reason = error.to_string();
    let message = disabled_message(&reason);
    if tracing::enabled!(tracing::Level::ERROR) {
        tracing::error!("{message}");
    } else {
        eprintln!("cache-runtime: {message}");
    }
    CacheBuilder::build_disabled(reason)
}

/// What is said when the global cache is disabled because of `reason`.
fn disabled_message(reason: &str) -> String {
    format!(
        "the global cache is disabled, every #[cached] call runs its body: {reason}; fix the \
         environment, or build the cache and call cache_runtime::init at start-up to fail there"
    )
}

// The feature is on whenever the workspace is built together (the tests enable it): run with
// `cargo test -p cache-runtime`.
#[cfg(all(test, not(feature = "cluster")))]
mod tests {
    use super::*;

    /// With `REDIS_CLUSTER_NODES` set and the `cluster` feature off, a program without a
    /// tracing subscriber is told once on standard error, naming the variable and the
    /// feature; `stats()` and `health()` carry the reason. Run in a child process (this test
    /// binary again, running only the child half) to read its standard error.
    #[test]
    fn cluster_nodes_without_the_feature_is_said_on_stderr() {
        const CHILD: &str = "CACHE_RUNTIME_TEST_GLOBAL_CHILD";
        if std::env::var_os(CHILD).is_some() {
            return child();
        }
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => unreachable!("the test binary: {e}"),
        };
        let output = std::process::Command::new(exe)
            .args([
                "--exact",
                "cache::global::tests::cluster_nodes_without_the_feature_is_said_on_stderr",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .env("REDIS_CLUSTER_NODES", "127.0.0.1:7000")
            .env_remove("REDIS_URL")
            .output();
        let output = match output {
            Ok(output) => output,
            Err(e) => unreachable!("running the child: {e}"),
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let said = "cache-runtime: the global cache is disabled, every #[cached] call runs its \
                    body: invalid cache configuration: REDIS_CLUSTER_NODES is set but \
                    cache-runtime was built without its `cluster` feature; enable the feature \
                    or unset the variable; fix the environment, or build the cache and call \
                    cache_runtime::init at start-up to fail there\n";
        assert_eq!(stderr.matches(said).count(), 1, "{stderr}");
    }

    /// The child half: uses the global cache three times, checks what it reports.
    fn child() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let Ok(runtime) = runtime else {
            unreachable!("a runtime")
        };
        runtime.block_on(async {
            for _ in 0..3 {
                assert!(global().get::<u64>("k").await.is_err());
            }
            let reason = "invalid cache configuration: REDIS_CLUSTER_NODES is set but \
                          cache-runtime was built without its `cluster` feature; enable the \
                          feature or unset the variable";
            let stats = global().stats();
            assert_eq!(stats.backend, "disabled");
            assert_eq!(stats.disabled_reason.as_deref(), Some(reason));
            assert_eq!(stats.errors, 3);
            let health = global().health().await;
            assert_eq!(health.disabled_reason.as_deref(), Some(reason));
            assert!(!health.is_healthy());
        });
    }
}
