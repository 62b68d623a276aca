use cache_runtime::cached;

#[cached(ttl = "10x")]
async fn unit(id: u64) -> u64 {
    id
}

#[cached(ttl = "1h30m")]
async fn compound(id: u64) -> u64 {
    id
}

fn main() {}
