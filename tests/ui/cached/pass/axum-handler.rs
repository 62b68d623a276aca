// `#[cached]` directly on axum handlers: the key is what the extractors bind (`id`, `params`,
// `search`), `State(db)` is skipped by its binding, and `web::Json` is a cacheable response.
// Invalidation targets name the handler with its extractors.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::Router;
use cache_runtime::web::Json;
use cache_runtime::{cache_invalidate, cached, Cache};

#[derive(Clone, Default)]
struct Db {
    runs: Arc<AtomicUsize>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Product {
    id: u64,
    name: String,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct ListParams {
    page: u32,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Search {
    q: String,
}

#[derive(Debug)]
struct NotFound;

impl axum::response::IntoResponse for NotFound {
    fn into_response(self) -> axum::response::Response {
        axum::http::StatusCode::NOT_FOUND.into_response()
    }
}

#[cached(ttl = "1m", skip(db), tags = ["product:{id}"])]
async fn get_product(State(db): State<Db>, Path(id): Path<u64>) -> Result<Json<Product>, NotFound> {
    db.runs.fetch_add(1, Ordering::SeqCst);
    if id == 0 {
        return Err(NotFound);
    }
    Ok(Json(Product {
        id,
        name: format!("product {id}"),
    }))
}

#[cached(skip(db))]
async fn list(State(db): State<Db>, Query(params): Query<ListParams>) -> Json<Vec<u32>> {
    db.runs.fetch_add(1, Ordering::SeqCst);
    Json(vec![params.page])
}

#[cached(skip(db))]
async fn search(State(db): State<Db>, Json(search): Json<Search>) -> Json<String> {
    db.runs.fetch_add(1, Ordering::SeqCst);
    Json(search.q)
}

// The target takes the key's extractor, built from the plain id.
#[cache_invalidate(get_product(Path(id)))]
async fn rename(id: u64) -> Result<(), NotFound> {
    let _ = id;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    cache_runtime::init(Cache::memory()).unwrap();
    let db = Db::default();
    let runs = || db.runs.load(Ordering::SeqCst);
    let product = |id| get_product(State(db.clone()), Path(id));
    let expected = Product {
        id: 7,
        name: "product 7".to_owned(),
    };
    assert_eq!(product(7).await.unwrap(), Json(expected.clone()));
    assert_eq!(product(7).await.unwrap().0, expected);
    assert_eq!(runs(), 1);
    assert!(product(0).await.is_err());
    assert!(product(0).await.is_err()); // `Err` is not cached
    assert_eq!(runs(), 3);
    rename(7).await.unwrap();
    assert_eq!(product(7).await.unwrap().0, expected);
    assert_eq!(runs(), 4);

    // The key hashes the bound values, not the extractors: `key_for` over `(id,)` finds it.
    let key = cache_runtime::key_for::<Json<Product>>(
        concat!(module_path!(), "::get_product"),
        1,
        &(7u64,),
    )
    .unwrap();
    assert!(cache_runtime::global().exists(&key).await.unwrap());

    let page = |page| list(State(db.clone()), Query(ListParams { page }));
    assert_eq!(page(2).await.0, vec![2]);
    assert_eq!(page(2).await.0, vec![2]);
    let find = |q: &str| search(State(db.clone()), Json(Search { q: q.to_owned() }));
    assert_eq!(find("a").await.0, "a");
    assert_eq!(find("a").await.0, "a");
    assert_eq!(runs(), 6);

    // They are axum handlers as written.
    let _app: Router = Router::new()
        .route("/products/{id}", get(get_product))
        .route("/products", get(list).post(search))
        .with_state(db.clone());
}
