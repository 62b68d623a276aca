use cache_runtime::cached;

#[cached(cache_none = true)]
async fn get(id: u64) -> Result<u64, String> {
    Ok(id)
}

fn main() {}
