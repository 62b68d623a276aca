// A target must be a `#[cached]` fn: a plain async fn has no entries to invalidate.
use cache_runtime::cache_invalidate;

async fn get_user(id: u64) -> u64 {
    id
}

#[cache_invalidate(get_user(id))]
async fn update(id: u64) {
    let _ = id;
}

fn main() {
    let _ = get_user(1);
}
