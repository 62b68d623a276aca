use cache_runtime::cached;

#[cached(compress = false, ttl = 60, compress = true)]
async fn thumbnail(id: u64) -> Vec<u8> {
    vec![id as u8]
}

fn main() {}
