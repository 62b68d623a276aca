use cache_runtime::cached;

#[cached(batch, key = ids.len())]
async fn with_key(ids: Vec<u64>) -> Vec<u64> {
    ids
}

#[cached(batch, skip(db))]
async fn with_skip(ids: Vec<u64>, db: &str) -> Vec<u64> {
    let _ = db;
    ids
}

#[cached(batch, tags = ["users"])]
async fn with_tags(ids: Vec<u64>) -> Vec<u64> {
    ids
}

#[cached(batch, cache_none = true)]
async fn with_cache_none(ids: Vec<u64>) -> Vec<u64> {
    ids
}

#[cached(batch, stale_if_error = "1h")]
async fn with_stale_if_error(ids: Vec<u64>) -> Result<Vec<u64>, String> {
    Ok(ids)
}

#[cached(lock = true, batch)]
async fn with_lock(ids: Vec<u64>) -> Vec<u64> {
    ids
}

fn main() {}
