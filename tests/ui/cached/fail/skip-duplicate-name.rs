use cache_runtime::cached;

#[cached(skip(pool, pool))]
async fn get_user(id: u64, pool: &str) -> u64 {
    let _ = pool;
    id
}

fn main() {}
