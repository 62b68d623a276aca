use cache_runtime::cached;

#[cached(ttl = "1h", ttl_jitter = 1.5)]
async fn catalog(page: u32) -> Vec<u32> {
    vec![page]
}

fn main() {}
