use axum::extract::{Path, State};
use cache_runtime::cached;

#[derive(Clone)]
struct Db;

// `skip` takes the names the extractor patterns bind, not the extractor types.
#[cached(skip(State))]
async fn get_product(State(db): State<Db>, Path(id): Path<u64>) -> String {
    let _ = db;
    id.to_string()
}

fn main() {}
