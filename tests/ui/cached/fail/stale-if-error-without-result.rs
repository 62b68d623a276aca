use cache_runtime::cached;

#[cached(ttl = "1m", stale_if_error = "1h")]
async fn rates(id: u64) -> Option<u64> {
    Some(id)
}

fn main() {}
