// With nothing to invalidate (no target, `namespace`, `tags` or `pattern`) the attribute does
// nothing, which is a mistake.
use cache_runtime::cache_invalidate;

#[cache_invalidate(before = true)]
async fn update(id: u64) {
    let _ = id;
}

fn main() {}
