use axum::extract::Path;
use axum::response::IntoResponse;
use cache_runtime::cached;

#[cached]
async fn get_product(Path(id): Path<u64>) -> impl IntoResponse {
    id.to_string()
}

fn main() {}
