// `#[cache_put]` takes targets, `cache` and `crate` only.
use cache_runtime::{cache_put, cached};

#[cached]
async fn get_user(id: u64) -> String {
    id.to_string()
}

#[cache_put(get_user(id), ttl = 60)]
async fn save(id: u64) -> String {
    id.to_string()
}

fn main() {}
