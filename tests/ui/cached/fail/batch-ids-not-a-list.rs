use std::collections::HashMap;

use cache_runtime::cached;

#[cached(batch)]
async fn get_users(id: u64, db: &str) -> HashMap<u64, String> {
    let _ = db;
    HashMap::from([(id, String::new())])
}

#[cached(batch)]
async fn get_names(ids: &mut [u64]) -> Vec<String> {
    ids.iter().map(u64::to_string).collect()
}

fn main() {}
