// A target takes the arguments of the cached fn's key: here only `id`.
use cache_runtime::{cache_invalidate, cached};

#[cached]
async fn get_user(id: u64) -> u64 {
    id
}

#[cache_invalidate(get_user(id, name))]
async fn update(id: u64, name: String) {
    let _ = (id, name);
}

fn main() {}
