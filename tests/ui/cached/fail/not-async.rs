use cache_runtime::cached;

#[cached]
fn get(id: u64) -> u64 {
    id
}

fn main() {}
