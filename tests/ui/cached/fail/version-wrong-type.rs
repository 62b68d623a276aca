use cache_runtime::cached;

#[cached(version = "2")]
async fn string(id: u64) -> u64 {
    id
}

#[cached(version = 4294967296)]
async fn too_large(id: u64) -> u64 {
    id
}

fn main() {}
