use cache_runtime::cached;

#[cached(tags = [])]
async fn get_user(id: u64) -> u64 {
    id
}

fn main() {}
