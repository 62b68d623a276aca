use cache_runtime::cached;

#[cached(cache = "redis://localhost")]
async fn literal(id: u64) -> u64 {
    id
}

struct Pool {
    url: String,
}

#[cached(cache = pool.url, skip(pool))]
async fn not_a_cache(id: u64, pool: &Pool) -> u64 {
    id
}

fn main() {}
