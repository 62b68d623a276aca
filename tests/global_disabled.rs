//! A malformed environment disables the global cache: calls still work, errors are counted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
    // The only test in this binary: nothing else reads the environment concurrently.
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
