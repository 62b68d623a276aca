//! A small JSON API (axum) over a slow SQLite database, cached with `#[cached]`.
//!
//! ```text
//! cargo run -p cache-examples --bin axum_service                        # embedded default
//! REDIS_URL=redis://127.0.0.1:6379 cargo run -p cache-examples --bin axum_service
//! cargo run -p cache-examples --bin axum_service -- --port 0            # any free port
//! ```
//!
//! The database is a real SQLite file in a temporary directory, seeded with 30 products at
//! start and deleted at exit (Ctrl-C or SIGTERM); every read sleeps 30 ms first, so a hit
//! and a miss are easy to tell apart. It listens on 127.0.0.1:3000 (`PORT` or `--port N`
//! to change it; `0` picks a free port) and prints the address it bound.
//!
//! | request | handler |
//! | --- | --- |
//! | `GET /products/{id}` | calls the `#[cached]` fn `product_by_id` |
//! | `GET /products?category=books&page=2&per_page=5` | `#[cached]` directly on the handler (`Query`) |
//! | `GET /search?q=set&limit=5` | calls the `#[cached]` fn `search_products` |
//! | `POST /search` with `{"q": "set", "limit": 5}` | `#[cached]` directly on the handler (`Json`) |
//! | `PUT /products/{id}` with `{"name": .., "category": .., "price_cents": ..}` | `#[cache_invalidate]`: the next read is a miss |
//! | `PATCH /products/{id}` with any of those fields | `#[cache_put]`: the next read is a hit with the new value |
//! | `DELETE /products/{id}` | `#[cache_invalidate]` |
//! | `GET /stats` | database reads and cache counters |
//! | `GET /metrics` | the cache's counters and latency histogram in the Prometheus text format (metrics-exporter-prometheus) |
//! | `GET /visits` | a per-visitor counter in a tower-sessions session, stored on the same cache (`sessions::CacheSessionStore`) |
//! | `/admin/cache/...` | the cache's admin API and dashboard (`CACHE_ADMIN_TOKEN`, else a token printed at start) |
//!
//! Every response that made cached calls carries `X-Cache: hit|miss|stale|bypass`, and an
//! operator's `?fresh=true` or `Cache-Control: no-cache` (a request carrying the admin bearer
//! token) bypasses the cache for the request (the fresh values are stored); anyone else's is
//! served from the cache like any request: that is `web::CacheLayer`.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use cache_runtime::admin::{self, AdminConfig};
use cache_runtime::sessions::CacheSessionStore;
use cache_runtime::web::{CacheLayer, Json};
use cache_runtime::{cache_invalidate, cache_put, cached, Cache};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;

mod db;
mod model;

use db::{not_found, Db};
use model::{
    AppError, ListParams, Product, ProductInput, ProductPage, ProductPatch, Search, ServiceStats,
};

/// How long every database read sleeps before it runs: slow on purpose.
const READ_DELAY: Duration = Duration::from_millis(30);

/// The namespaces of this service's cached fns, cleared at start so every run starts cold.
const NAMESPACES: [&str; 4] = [
    "shop.product",
    "shop.products",
    "shop.search",
    "shop.search_post",
];

// Every list and search entry is recorded under the tag `shop:lists`, which every write
// invalidates: a write can move a product into or out of any of them.

// ---- cached reads, and the writes that keep them right ---------------------------------

/// Style 1: a `#[cached]` fn that handlers call. The key is `id` (the database handle is
/// skipped); `Err` (404, a database error) is never cached.
#[cached(ttl = "10m", namespace = "shop.product", skip(db))]
async fn product_by_id(db: &Db, id: i64) -> Result<Product, AppError> {
    db.product(id).await?.ok_or_else(|| not_found(id))
}

/// Style 1 again: the search behind `GET /search`.
#[cached(ttl = "1m", namespace = "shop.search", skip(db), tags = ["shop:lists"])]
async fn search_products(db: &Db, q: String, limit: u32) -> Result<Vec<Product>, AppError> {
    db.search(q, limit).await
}

/// `PUT`: the entry of `product_by_id(id)` and every list and search are invalidated after
/// the update commits, so the next read of the product is a miss that reads the new row.
#[cache_invalidate(product_by_id(id), tags = ["shop:lists"])]
async fn update_product(db: &Db, id: i64, input: ProductInput) -> Result<Product, AppError> {
    db.update(id, input).await?.ok_or_else(|| not_found(id))
}

/// `PATCH`: the updated product is written to `product_by_id(id)`'s entry, so the next read
/// is a hit with the new value; lists and searches are invalidated.
#[cache_put(product_by_id(id))]
#[cache_invalidate(tags = ["shop:lists"])]
async fn patch_product(db: &Db, id: i64, patch: ProductPatch) -> Result<Product, AppError> {
    db.patch(id, patch).await?.ok_or_else(|| not_found(id))
}

/// `DELETE`: the product's entry and every list and search go.
#[cache_invalidate(product_by_id(id), tags = ["shop:lists"])]
async fn delete_product(db: &Db, id: i64) -> Result<(), AppError> {
    if db.delete(id).await? {
        Ok(())
    } else {
        Err(not_found(id))
    }
}

// ---- handlers ---------------------------------------------------------------------------

/// `GET /products/{id}`: calls the cached fn.
async fn get_product(State(db): State<Db>, Path(id): Path<i64>) -> Result<Json<Product>, AppError> {
    product_by_id(&db, id).await.map(Json)
}

/// `GET /products?category=..&page=..&per_page=..`. Style 2: `#[cached]` on the handler
/// itself. The key is `params` (what `Query` bound), the `State` is skipped by its binding,
/// and `web::Json` makes the response a value the cache can store.
#[cached(ttl = "1m", namespace = "shop.products", skip(db), tags = ["shop:lists"])]
async fn list_products(
    State(db): State<Db>,
    Query(params): Query<ListParams>,
) -> Result<Json<ProductPage>, AppError> {
    let page = params.page.unwrap_or(1);
    let per_page = params.per_page.unwrap_or(5);
    if page == 0 || !(1..=50).contains(&per_page) {
        return Err(AppError::BadRequest(
            "page starts at 1 and per_page is 1 to 50".to_owned(),
        ));
    }
    Ok(Json(db.list(params.category, page, per_page).await?))
}

/// `GET /search?q=..&limit=..`: calls the cached fn.
async fn search_get(
    State(db): State<Db>,
    Query(search): Query<Search>,
) -> Result<Json<Vec<Product>>, AppError> {
    let limit = search_limit(&search)?;
    search_products(&db, search.q, limit).await.map(Json)
}

/// `POST /search` with a JSON body. Style 2: the key is the body `Json` bound.
#[cached(ttl = "1m", namespace = "shop.search_post", skip(db), tags = ["shop:lists"])]
async fn search_post(
    State(db): State<Db>,
    Json(search): Json<Search>,
) -> Result<Json<Vec<Product>>, AppError> {
    let limit = search_limit(&search)?;
    Ok(Json(db.search(search.q, limit).await?))
}

fn search_limit(search: &Search) -> Result<u32, AppError> {
    match search.limit.unwrap_or(10) {
        limit @ 1..=50 => Ok(limit),
        _ => Err(AppError::BadRequest("limit is 1 to 50".to_owned())),
    }
}

/// `PUT /products/{id}`.
async fn put_product(
    State(db): State<Db>,
    Path(id): Path<i64>,
    Json(input): Json<ProductInput>,
) -> Result<Json<Product>, AppError> {
    update_product(&db, id, input).await.map(Json)
}

/// `PATCH /products/{id}`.
async fn patch_product_handler(
    State(db): State<Db>,
    Path(id): Path<i64>,
    Json(patch): Json<ProductPatch>,
) -> Result<Json<Product>, AppError> {
    patch_product(&db, id, patch).await.map(Json)
}

/// `DELETE /products/{id}`: 204.
async fn delete_product_handler(
    State(db): State<Db>,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    delete_product(&db, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /stats`.
async fn stats(State(db): State<Db>) -> Json<ServiceStats> {
    let cache = cache_runtime::global();
    let stats = cache.stats();
    Json(ServiceStats {
        backend: cache.backend(),
        db_reads: db.reads(),
        cache_hits: stats.hits,
        cache_misses: stats.misses,
    })
}

/// What `GET /visits` answers.
#[derive(Serialize)]
struct Visits {
    visits: u64,
}

/// `GET /visits`: how many times this visitor (its session cookie) came, counting this one.
async fn visits(session: tower_sessions::Session) -> Result<axum::Json<Visits>, AppError> {
    let failed = |e: tower_sessions::session::Error| AppError::Internal(e.to_string());
    let visits = session
        .get::<u64>("visits")
        .await
        .map_err(failed)?
        .unwrap_or(0)
        + 1;
    session.insert("visits", visits).await.map_err(failed)?;
    Ok(axum::Json(Visits { visits }))
}

/// The searches most users make, warmed at start-up.
const POPULAR_SEARCHES: [&str; 3] = ["hammer", "drill", "saw"];

/// Registers the warmer of the popular searches (run at start-up, and by `POST
/// /admin/cache/warm`): it fills `search_products` for each, 2 at a time.
fn register_warmers(cache: &Cache, db: &Db) {
    let db = db.clone();
    cache.register_warmer("popular_searches", move || {
        let db = db.clone();
        async move {
            let queries = POPULAR_SEARCHES.map(String::from);
            let filled = cache_runtime::warm_each(queries, 2, |q: String| {
                let db = db.clone();
                async move { search_products(&db, q, 10).await }
            })
            .await;
            Ok::<u64, String>(filled)
        }
    });
}

/// The API, with the cache layer; the admin router is nested beside it. Sessions live on
/// the global cache too (Redis when `REDIS_URL` is set: every process sees them). Requests
/// carrying `Authorization: Bearer <admin token>` may bypass the cache.
fn app(db: Db, admin: Router, metrics: PrometheusHandle, admin_token: &str) -> Router {
    let sessions = tower_sessions::SessionManagerLayer::new(CacheSessionStore::new(
        cache_runtime::global().clone(),
    ))
    // The example serves plain HTTP on loopback.
    .with_secure(false);
    let visits = Router::new().route("/visits", get(visits)).layer(sessions);
    let api = Router::new()
        .route("/products", get(list_products))
        .route(
            "/products/{id}",
            get(get_product)
                .put(put_product)
                .patch(patch_product_handler)
                .delete(delete_product_handler),
        )
        .route("/search", get(search_get).post(search_post))
        .route("/stats", get(stats))
        .with_state(db)
        // An operator's `?fresh=true` or `Cache-Control: no-cache` bypasses every cached
        // call of the request; `X-Cache` says how the request's cached calls were served.
        .layer(CacheLayer::new().x_cache_header(true).bypass_if({
            let bearer = format!("Bearer {admin_token}");
            move |request: &Parts| is_operator(request, &bearer)
        }));
    let exposition = Router::new().route("/metrics", get(move || async move { metrics.render() }));
    api.merge(visits)
        .merge(exposition)
        // `nest_service`, not `nest`: it serves the dashboard at both `/admin/cache` and
        // `/admin/cache/` (axum 0.8's `nest` answers only the first).
        .nest_service("/admin/cache", admin)
}

/// Whether `request` carries `bearer` as its `Authorization` header (compared without an
/// early exit, so the time taken does not tell how much of a guess was right).
fn is_operator(request: &Parts, bearer: &str) -> bool {
    request.headers.get(AUTHORIZATION).is_some_and(|value| {
        let (presented, expected) = (value.as_bytes(), bearer.as_bytes());
        presented.len() == expected.len()
            && presented
                .iter()
                .zip(expected)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    })
}

// ---- start-up ---------------------------------------------------------------------------

/// The port: `--port N`, else `PORT`, else 3000.
fn port() -> Result<u16, String> {
    let mut args = std::env::args().skip(1);
    let mut from_args = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => from_args = Some(args.next().ok_or("--port needs a value")?),
            other => match other.strip_prefix("--port=") {
                Some(value) => from_args = Some(value.to_owned()),
                None => return Err(format!("unknown argument {other:?}; usage: [--port N]")),
            },
        }
    }
    match from_args.or_else(|| std::env::var("PORT").ok()) {
        Some(text) => text
            .parse()
            .map_err(|_| format!("port {text:?} is not a number from 0 to 65535")),
        None => Ok(3000),
    }
}

/// The admin token: `CACHE_ADMIN_TOKEN`, else a random one (printed at start).
fn admin_token() -> String {
    match std::env::var("CACHE_ADMIN_TOKEN") {
        Ok(token) if !token.is_empty() => token,
        _ => {
            use std::hash::{BuildHasher, Hasher};
            // Two std `RandomState` hashers: 128 random bits without a dependency.
            (0..2)
                .map(|_| {
                    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
                    hasher.write_u128(
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_nanos()),
                    );
                    format!("{:016x}", hasher.finish())
                })
                .collect()
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

async fn run() -> Result<(), String> {
    let port = port()?;
    // The recorder behind the `metrics` facade, installed before the first cached call.
    let metrics = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("installing the Prometheus recorder: {e}"))?;
    // Memory, or Redis when REDIS_URL is set; a bad setting is reported here.
    let cache = Cache::from_env().await.map_err(|e| e.to_string())?;
    println!("cache backend: {}", cache.backend());
    cache_runtime::init(cache.clone()).map_err(|e| e.to_string())?;
    // Start cold, also against a Redis that holds a previous run's entries.
    for namespace in NAMESPACES {
        cache
            .clear_namespace(namespace)
            .await
            .map_err(|e| format!("clearing {namespace}: {e}"))?;
    }

    let dir = tempfile::Builder::new()
        .prefix("axum_service-")
        .tempdir()
        .map_err(|e| format!("temporary directory: {e}"))?;
    let path = dir.path().join("shop.sqlite3");
    let db = Db::create(&path).map_err(|e| format!("creating {}: {e:?}", path.display()))?;
    println!(
        "database: {} (30 products, {} ms per read)",
        path.display(),
        READ_DELAY.as_millis()
    );

    register_warmers(&cache, &db);
    for report in cache.warm_all().await {
        println!(
            "warmed {}: {} entries in {} ms{}",
            report.name,
            report.count,
            report.duration_ms,
            report
                .error
                .map(|e| format!(" (failed: {e})"))
                .unwrap_or_default()
        );
    }

    let token = admin_token();
    let admin = admin::router(cache, AdminConfig::new().bearer_token(token.clone()))
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("binding 127.0.0.1:{port}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("admin: http://{addr}/admin/cache/ (bearer token {token})");
    println!("try: curl -i http://{addr}/products/1");
    // Tests wait for this line.
    println!("listening on http://{addr}");
    axum::serve(listener, app(db, admin, metrics, &token))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    // Deletes the database file.
    drop(dir);
    println!("stopped");
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
