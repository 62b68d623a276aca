// `tags = [...]` records tags formatted from the arguments (skipped ones and `self` included);
// invalidating a tag drops every entry recorded with it.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

struct User {
    org_id: u32,
}

struct Users {
    tenant: &'static str,
}

impl Users {
    #[cached(
        skip(user),
        tags = ["user:{id}", "org:{user.org_id}", "tenant:{self.tenant}", "static-tag", "braces:{{literal}}"]
    )]
    async fn name(&self, id: u64, user: &User) -> String {
        RUNS.fetch_add(1, Ordering::SeqCst);
        format!("{}/{}/{id}", self.tenant, user.org_id)
    }
}

/// Tags with no key part: `__cache_key` must still be `mut`.
#[cached(tags = ["rates"])]
async fn rates() -> u32 {
    RUNS.fetch_add(1, Ordering::SeqCst);
    7
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let users = Users { tenant: "acme" };
    let user = User { org_id: 9 };
    assert_eq!(users.name(1, &user).await, "acme/9/1");
    assert_eq!(users.name(1, &user).await, "acme/9/1");
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);

    cache_runtime::global()
        .invalidate_tag("org:9")
        .await
        .unwrap();
    assert_eq!(users.name(1, &user).await, "acme/9/1");
    assert_eq!(RUNS.load(Ordering::SeqCst), 2);

    assert_eq!(rates().await, 7);
    assert_eq!(rates().await, 7);
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
    cache_runtime::global()
        .invalidate_tag("rates")
        .await
        .unwrap();
    assert_eq!(rates().await, 7);
    assert_eq!(RUNS.load(Ordering::SeqCst), 4);
}
