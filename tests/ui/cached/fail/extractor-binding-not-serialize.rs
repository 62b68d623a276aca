use axum::extract::Query;
use cache_runtime::cached;

// Deserialize only: `Query` can build it, but the key cannot hash it.
#[derive(serde::Deserialize)]
struct ListParams {
    page: u32,
}

#[cached]
async fn list(Query(params): Query<ListParams>) -> Vec<u32> {
    vec![params.page]
}

fn main() {}
