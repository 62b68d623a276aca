// A target that names no fn in scope is reported at the target.
use cache_runtime::cache_invalidate;

#[cache_invalidate(get_usr(id))]
async fn update(id: u64) {
    let _ = id;
}

fn main() {}
