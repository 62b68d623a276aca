use cache_runtime::cached;

#[cached(skip(pool, foo))]
async fn get_user(id: u64, pool: &str) -> u64 {
    let _ = pool;
    id
}

#[cached(skip(self))]
async fn free(id: u64) -> u64 {
    id
}

fn main() {}
