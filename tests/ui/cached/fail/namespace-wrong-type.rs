use cache_runtime::cached;

#[cached(namespace = 5)]
async fn number(id: u64) -> u64 {
    id
}

#[cached(namespace = users)]
async fn path(id: u64) -> u64 {
    id
}

fn main() {}
