use cache_runtime::cached;

#[cached(tags = "user:{id}")]
async fn single(id: u64) -> u64 {
    id
}

#[cached(tags = ["user:{id}", 42])]
async fn number(id: u64) -> u64 {
    id
}

fn main() {}
