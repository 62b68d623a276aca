// Tag placeholders refer to the invalidating fn's own parameters.
use cache_runtime::cache_invalidate;

#[cache_invalidate(tags = ["user:{user_id}"])]
async fn update(id: u64) {
    let _ = id;
}

fn main() {}
