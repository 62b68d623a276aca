// The value written must have the target's value type; the error points at the target.
use cache_runtime::{cache_put, cached};

#[cached]
async fn get_user(id: u64) -> Option<String> {
    Some(id.to_string())
}

#[cache_put(get_user(id))]
async fn save(id: u64) -> Result<u64, ()> {
    Ok(id)
}

fn main() {}
