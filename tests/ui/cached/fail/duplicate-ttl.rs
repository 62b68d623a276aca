use cache_runtime::cached;

#[cached(ttl = 60, namespace = "n", ttl = "1m")]
async fn get(id: u64) -> u64 {
    id
}

fn main() {}
