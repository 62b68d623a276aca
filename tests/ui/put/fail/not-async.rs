// The write is awaited, so the fn must be async; the error points at `fn`.
use cache_runtime::{cache_put, cached};

#[cached]
async fn get_user(id: u64) -> String {
    id.to_string()
}

#[cache_put(get_user(id))]
fn save(id: u64) -> String {
    id.to_string()
}

fn main() {}
