// `before = false, after = false` never invalidates anything.
use cache_runtime::{cache_invalidate, cached};

#[cached]
async fn get_user(id: u64) -> u64 {
    id
}

#[cache_invalidate(get_user(id), before = false, after = false)]
async fn update(id: u64) {
    let _ = id;
}

fn main() {}
