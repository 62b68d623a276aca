use std::collections::BTreeMap;

use cache_runtime::cached;

#[cached(batch)]
async fn get_names(ids: Vec<u64>) -> BTreeMap<u64, String> {
    ids.iter().map(|id| (*id, id.to_string())).collect()
}

#[cached(batch)]
async fn get_name(ids: Vec<u64>) -> Result<String, String> {
    Ok(format!("{ids:?}"))
}

fn main() {}
