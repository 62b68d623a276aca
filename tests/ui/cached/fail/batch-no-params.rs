use cache_runtime::cached;

#[cached(batch)]
async fn all_users() -> Vec<u64> {
    Vec::new()
}

fn main() {}
