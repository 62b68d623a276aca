// A target's arguments have the cached fn's parameter types.
use cache_runtime::{cache_invalidate, cached};

#[cached]
async fn get_user(id: u64) -> u64 {
    id
}

#[cache_invalidate(get_user(name))]
async fn update(name: String) {
    let _ = name;
}

fn main() {}
