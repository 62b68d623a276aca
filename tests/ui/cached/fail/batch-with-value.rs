use cache_runtime::cached;

#[cached(batch = true)]
async fn get_names(ids: Vec<u64>) -> Vec<String> {
    ids.iter().map(u64::to_string).collect()
}

#[cached(batch(ids))]
async fn get_labels(ids: Vec<u64>) -> Vec<String> {
    ids.iter().map(u64::to_string).collect()
}

fn main() {}
