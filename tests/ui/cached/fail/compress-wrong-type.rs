use cache_runtime::cached;

#[cached(compress = "no")]
async fn thumbnail(id: u64) -> Vec<u8> {
    vec![id as u8]
}

#[cached(compress = 0)]
async fn banner(id: u64) -> Vec<u8> {
    vec![id as u8]
}

fn main() {}
