//! `stale_if_error`: a failing body is answered with the stale value, fresh reads never are.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use cache_runtime::{cached, key_for, Cache, ComputeOptions};

use crate::fixture::Fixture;

/// The upstream: returns its call count, or fails while `down`.
#[derive(Default)]
pub struct Upstream {
    calls: AtomicUsize,
    down: AtomicBool,
}

impl Upstream {
    fn call(&self) -> Result<u64, String> {
        let n = self.calls.fetch_add(1, SeqCst) as u64 + 1;
        if self.down.load(SeqCst) {
            Err("upstream down".into())
        } else {
            Ok(n)
        }
    }
}

#[cached(namespace = "sie.rates", ttl = "300ms", stale_if_error = "10s", cache = cache, skip(up))]
async fn rates(id: u64, cache: &Cache, up: &Upstream) -> Result<u64, String> {
    up.call().map(|n| n * 100 + id)
}

#[cached(namespace = "sie.plain", ttl = "300ms", cache = cache, skip(up))]
async fn without_stale(id: u64, cache: &Cache, up: &Upstream) -> Result<u64, String> {
    up.call().map(|n| n * 100 + id)
}

/// Past the TTL the body runs again; when it fails, the stale value is returned and
/// counted; when it succeeds again, the new value replaces the stale one.
pub async fn stale_value_stands_in_for_errors(fx: &Fixture) {
    let (c, up) = (&fx.cache, Upstream::default());
    assert_eq!(rates(1, c, &up).await, Ok(101));
    assert_eq!(rates(1, c, &up).await, Ok(101), "fresh: a hit");
    tokio::time::sleep(Duration::from_millis(400)).await;
    up.down.store(true, SeqCst);
    assert_eq!(
        rates(1, c, &up).await,
        Ok(101),
        "stale stands in for the error"
    );
    assert_eq!(rates(1, c, &up).await, Ok(101));
    assert_eq!(c.stats().stale_served, 2);
    assert_eq!(
        up.calls.load(SeqCst),
        3,
        "a stale entry is a miss: the body runs"
    );
    up.down.store(false, SeqCst);
    assert_eq!(
        rates(1, c, &up).await,
        Ok(401),
        "past its TTL, a success refreshes"
    );
    assert_eq!(rates(1, c, &up).await, Ok(401));
    assert_eq!(up.calls.load(SeqCst), 4);
}

/// Without `stale_if_error` the error is returned; an invalidated entry is not stale, it is
/// gone.
pub async fn no_stale_without_window_or_after_invalidation(fx: &Fixture) {
    let (c, up) = (&fx.cache, Upstream::default());
    assert_eq!(without_stale(1, c, &up).await, Ok(101));
    tokio::time::sleep(Duration::from_millis(400)).await;
    up.down.store(true, SeqCst);
    assert_eq!(without_stale(1, c, &up).await, Err("upstream down".into()));

    up.down.store(false, SeqCst);
    assert_eq!(rates(2, c, &up).await, Ok(302));
    let key = key_for::<u64>("sie.rates", 1, &(2u64,)).unwrap();
    c.invalidate_key(&key).await.unwrap();
    up.down.store(true, SeqCst);
    assert_eq!(rates(2, c, &up).await, Err("upstream down".into()));
    assert_eq!(c.stats().stale_served, 0);
}

/// The same through `try_get_or_compute` with `ComputeOptions::stale_if_error`.
pub async fn stale_if_error_in_compute_options(fx: &Fixture) {
    let (c, up) = (&fx.cache, Upstream::default());
    let options = ComputeOptions::new()
        .ttl(Duration::from_millis(300))
        .stale_if_error(Duration::from_secs(10));
    let get = || c.try_get_or_compute("sie:manual", &options, || async { up.call() });
    assert_eq!(get().await, Ok(1));
    tokio::time::sleep(Duration::from_millis(400)).await;
    up.down.store(true, SeqCst);
    assert_eq!(get().await, Ok(1));
    assert_eq!(c.stats().stale_served, 1);
}
