use cache_runtime::cached;

#[cached(namespace = "")]
async fn get(id: u64) -> u64 {
    id
}

fn main() {}
