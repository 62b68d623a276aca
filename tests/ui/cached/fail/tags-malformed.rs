use cache_runtime::cached;

#[cached(tags = ["user:{id", "user:id}", "user:{}", "user:{id:?}", "user:{user..id}"])]
async fn get_user(id: u64) -> u64 {
    id
}

fn main() {}
