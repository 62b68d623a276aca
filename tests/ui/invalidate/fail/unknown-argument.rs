// An unknown argument lists the valid ones, with a hint when the name is close to one.
use cache_runtime::{cache_invalidate, cached};

#[cached]
async fn get_user(id: u64) -> u64 {
    id
}

#[cache_invalidate(get_user(id), namspace = "users")]
async fn update(id: u64) {
    let _ = id;
}

fn main() {}
