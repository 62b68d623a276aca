use axum::extract::Path;
use axum::Json;
use cache_runtime::cached;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Product {
    id: u64,
}

// axum's `Json` is a response, not a serializable value: use `cache_runtime::web::Json`.
#[cached]
async fn get_product(Path(id): Path<u64>) -> Result<Json<Product>, String> {
    Ok(Json(Product { id }))
}

fn main() {}
