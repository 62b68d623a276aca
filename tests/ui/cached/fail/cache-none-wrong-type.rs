use cache_runtime::cached;

#[cached(cache_none = 1)]
async fn find(id: u64) -> Option<u64> {
    Some(id)
}

fn main() {}
