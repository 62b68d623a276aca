// Parameters may be patterns, as axum extractors are: each bound name is part of the key, `_`
// contributes nothing.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

struct Wrapper<T>(T);

struct Query {
    page: u32,
    per_page: u32,
}

struct Extension;

#[cached]
async fn handler(
    Wrapper(id): Wrapper<u64>,
    Query {
        page,
        per_page: size,
    }: Query,
    (a, _): (u8, u8),
    _: Extension,
) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    format!("{id}:{page}:{size}:{a}")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let call = |b| {
        handler(
            Wrapper(1),
            Query {
                page: 2,
                per_page: 3,
            },
            (4, b),
            Extension,
        )
    };
    assert_eq!(call(5).await, "1:2:3:4");
    assert_eq!(call(6).await, "1:2:3:4");
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
}
