// The invalidation is awaited, so the fn must be async; the error points at `fn`.
use cache_runtime::{cache_invalidate, cached};

#[cached]
async fn get_user(id: u64) -> u64 {
    id
}

#[cache_invalidate(get_user(id))]
fn update(id: u64) {
    let _ = id;
}

fn main() {}
