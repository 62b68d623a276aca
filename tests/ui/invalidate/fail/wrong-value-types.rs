// Each named argument's value has a type: a string, a bool, an array of strings, an
// expression that is not a literal.
use cache_runtime::cache_invalidate;

#[cache_invalidate(namespace = users, pattern = 1, before = "yes", after = 0, tags = "user:{id}", cache = "redis://localhost")]
async fn update(id: u64) {
    let _ = id;
}

fn main() {}
