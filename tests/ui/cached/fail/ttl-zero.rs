use cache_runtime::cached;

#[cached(ttl = 0)]
async fn seconds(id: u64) -> u64 {
    id
}

#[cached(ttl = "0m")]
async fn minutes(id: u64) -> u64 {
    id
}

fn main() {}
