use cache_runtime::cached;

#[cached(ttl = true)]
async fn boolean(id: u64) -> u64 {
    id
}

#[cached(ttl = 1.5)]
async fn float(id: u64) -> u64 {
    id
}

fn main() {}
