use cache_runtime::cached;

#[cached(l1_ttl = 0)]
async fn price(sku: u64) -> u64 {
    sku
}

fn main() {}
