use cache_runtime::cached;

#[cached(batch)]
async fn get_names(_: Vec<u64>) -> Vec<String> {
    Vec::new()
}

#[cached(batch)]
async fn get_labels(ref ids: Vec<u64>) -> Vec<String> {
    ids.iter().map(u64::to_string).collect()
}

fn main() {}
