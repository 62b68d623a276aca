// `namespace`, `tags` (placeholders over the invalidating fn's parameters) and `pattern`.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cache_invalidate, cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[cached(namespace = "users")]
async fn user(id: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    id
}

#[cached(namespace = "profiles", tags = ["org:{org}"])]
async fn profile(org: u32, id: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    id + u64::from(org)
}

#[cached(namespace = "sessions")]
async fn session(id: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    id * 2
}

struct Org {
    id: u32,
}

#[cache_invalidate(namespace = "users")]
async fn reset_users() {}

#[cache_invalidate(tags = ["org:{org.id}"])]
async fn rename_org(org: &Org) -> Option<()> {
    None // an `Option` shape invalidates whatever it returns
}

#[cache_invalidate(pattern = "sess*")]
async fn logout_everyone() {}

async fn all_three() {
    user(1).await;
    profile(7, 1).await;
    profile(8, 1).await;
    session(1).await;
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let runs = || RUNS.load(Ordering::SeqCst);
    all_three().await;
    all_three().await;
    assert_eq!(runs(), 4);

    reset_users().await;
    all_three().await;
    assert_eq!(runs(), 5);

    assert_eq!(rename_org(&Org { id: 7 }).await, None);
    all_three().await;
    assert_eq!(runs(), 6); // only `profile(7, 1)`

    logout_everyone().await;
    all_three().await;
    assert_eq!(runs(), 7);
}
