use cache_runtime::cached;

struct Pool;

#[cached]
async fn get_user(id: u64, pool: &Pool) -> u64 {
    let _ = pool;
    id
}

fn main() {}
