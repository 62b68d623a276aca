use cache_runtime::cached;

#[cached(ttl = "1m", soft_timeout = "200ms")]
async fn quote(symbol: String) -> Result<u64, String> {
    Ok(symbol.len() as u64)
}

fn main() {}
