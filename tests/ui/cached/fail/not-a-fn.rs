use cache_runtime::cached;

#[cached]
struct User {
    id: u64,
}

fn main() {}
