// `key = expr` alone makes the key; it can read every parameter.
use std::sync::atomic::{AtomicUsize, Ordering};

use cache_runtime::{cached, Cache};

static RUNS: AtomicUsize = AtomicUsize::new(0);

struct Request {
    user: u64,
    trace_id: String,
}

#[cached(key = (request.user, page))]
async fn feed(request: &Request, page: u32) -> Vec<u64> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    let _ = &request.trace_id;
    vec![request.user, u64::from(page)]
}

#[cached(key = name.to_lowercase())]
async fn normalized(name: String) -> usize {
    name.len()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let a = Request {
        user: 1,
        trace_id: "a".to_owned(),
    };
    let b = Request {
        user: 1,
        trace_id: "b".to_owned(),
    };
    assert_eq!(feed(&a, 2).await, vec![1, 2]);
    assert_eq!(feed(&b, 2).await, vec![1, 2]);
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(normalized("Ab".to_owned()).await, 2);
}
