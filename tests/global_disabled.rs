//! A malformed environment disables the global cache: calls still work, errors are counted,
//! and the cause is said once (on standard error when no tracing subscriber records it) and
//! reported by `stats()` and `health()`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::cached;

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[cached]
async fn double(x: u64) -> u64 {
    CALLS.fetch_add(1, Ordering::SeqCst);
    x * 2
}

#[tokio::test]
async fn malformed_environment_fails_open() {
    // The only test of this binary that reads the environment in this process.
    std::env::set_var("CACHE_DEFAULT_TTL", "soon");
    assert_eq!(double(4).await, 8);
    assert_eq!(double(4).await, 8);
    assert_eq!(CALLS.load(Ordering::SeqCst), 2, "nothing may be cached");
    let global = cache_runtime::global();
    assert_eq!(global.backend(), "disabled");
    let stats = global.stats();
    assert_eq!((stats.hits, stats.writes), (0, 0));
    assert_eq!(
        stats.errors, 2,
        "one failed read per call; no write is tried after it"
    );
    let err = global.get::<u64>("anything").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("CACHE_DEFAULT_TTL=\"soon\" is not valid"),
        "{err}"
    );
}

/// The environment variable that makes this binary run [`child`]'s half; its value says
/// whether to install a tracing subscriber first (`"subscriber"`) or not (`"bare"`).
const CHILD: &str = "CACHE_TESTS_GLOBAL_DISABLED_CHILD";

/// The cause as the cache words it.
const REASON: &str = "invalid cache configuration: CACHE_DEFAULT_TTL=\"soon\" is not valid; \
                      expected a whole number of seconds greater than 0 (e.g. 300) or a \
                      duration such as 90s, 10m, 1h, 1d";

/// Runs [`child`] in a new process of this binary with a malformed `CACHE_DEFAULT_TTL`:
/// its standard output and standard error.
fn run_child(mode: &str) -> (String, String) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .env("CACHE_DEFAULT_TTL", "soon")
        .env_remove("REDIS_URL")
        .env_remove("REDIS_CLUSTER_NODES")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stdout}{stderr}");
    (stdout, stderr)
}

/// A program without a tracing subscriber is told once, on standard error, that the global
/// cache is disabled and why, however many calls it makes; with a subscriber, the subscriber
/// gets it as an error event instead, and standard error stays quiet.
#[test]
fn disabled_global_cache_is_said_once() {
    let said = format!(
        "cache-runtime: the global cache is disabled, every #[cached] call runs its body: \
         {REASON}; fix the environment, or build the cache and call cache_runtime::init at \
         start-up to fail there\n"
    );
    let (_, stderr) = run_child("bare");
    assert_eq!(stderr.matches(&said).count(), 1, "{stderr}");
    assert_eq!(stderr.matches("cache-runtime:").count(), 1, "{stderr}");

    let (stdout, stderr) = run_child("subscriber");
    assert!(!stderr.contains("cache-runtime:"), "{stderr}");
    let event = "ERROR cache_runtime::cache::global: the global cache is disabled, every \
                 #[cached] call runs its body: invalid cache configuration: CACHE_DEFAULT_TTL";
    assert_eq!(stdout.matches(event).count(), 1, "{stdout}");
}

/// The child half of [`disabled_global_cache_is_said_once`] (does nothing in the parent):
/// ten calls of a `#[cached]` fn, then what `stats()` and `health()` report.
#[test]
fn child() {
    let Ok(mode) = std::env::var(CHILD) else {
        return;
    };
    let _subscriber = (mode == "subscriber").then(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(std::io::stdout)
            .finish();
        tracing::subscriber::set_default(subscriber)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for _ in 0..10 {
            assert_eq!(double(21).await, 42);
        }
        assert_eq!(CALLS.load(Ordering::SeqCst), 10);
        let global = cache_runtime::global();
        let stats = global.stats();
        assert_eq!(
            (stats.backend, stats.disabled_reason.as_deref()),
            ("disabled", Some(REASON))
        );
        assert_eq!(stats.errors, 10);
        let health = global.health().await;
        assert_eq!(
            (health.backend, health.disabled_reason.as_deref()),
            ("disabled", Some(REASON))
        );
        assert_eq!(
            health.error.as_deref(),
            Some(format!("cache store error: the cache is disabled: {REASON}").as_str())
        );
        assert!(!health.is_healthy());
    });
}
