//! `web::CacheLayer` on an axum router over real HTTP, on the memory store and on a real
//! `redis-server`: the exact `X-Cache` of every request, the bypass (`?fresh=true`,
//! `Cache-Control: no-cache`, a configured flag) honoured by every cached call of the
//! request and storing the fresh values, no header for requests without cached calls or
//! when disabled, and `#[cached]` directly on handlers with extractors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use cache_runtime::web::{CacheLayer, Json};
use cache_runtime::{cached, Cache};
use cache_tests::http::{self, Response};
use cache_tests::redis_server::RedisServer;

/// The state of the test service: its cache and how often each body ran.
#[derive(Clone)]
struct App {
    cache: Cache,
    runs: Arc<Runs>,
}

#[derive(Default)]
struct Runs {
    double: AtomicU64,
    square: AtomicU64,
    item: AtomicU64,
    flaky: AtomicU64,
    /// Whether `flaky`'s body fails.
    failing: AtomicBool,
}

#[cached(cache = app.cache, skip(app), namespace = "layer.double")]
async fn double(app: &App, id: u64) -> String {
    let run = app.runs.double.fetch_add(1, SeqCst) + 1;
    format!("double({id}) = {} (run {run})", id * 2)
}

#[cached(cache = app.cache, skip(app), namespace = "layer.square")]
async fn square(app: &App, id: u64) -> String {
    let run = app.runs.square.fetch_add(1, SeqCst) + 1;
    format!("square({id}) = {} (run {run})", id * id)
}

/// `ttl` short and `stale_if_error` long: past the TTL a failing body is answered stale.
#[cached(cache = app.cache, skip(app), namespace = "layer.flaky", ttl = "200ms", stale_if_error = "1h")]
async fn flaky(app: &App, id: u64) -> Result<String, String> {
    let run = app.runs.flaky.fetch_add(1, SeqCst) + 1;
    if app.runs.failing.load(SeqCst) {
        return Err(format!("flaky({id}) failed (run {run})"));
    }
    Ok(format!("flaky({id}) (run {run})"))
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Item {
    id: u64,
    label: String,
    run: u64,
}

/// `#[cached]` on the handler itself: the key is `id` and `query`; the state is skipped.
#[cached(cache = app.cache, skip(app), namespace = "layer.item")]
async fn item(
    State(app): State<App>,
    Path(id): Path<u64>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<Item>, StatusCode> {
    if id == 0 {
        return Err(StatusCode::NOT_FOUND);
    }
    let run = app.runs.item.fetch_add(1, SeqCst) + 1;
    let label = query
        .into_iter()
        .map(|(k, v)| format!("{k}={v};"))
        .collect();
    Ok(Json(Item { id, label, run }))
}

async fn one(State(app): State<App>, Path(id): Path<u64>) -> String {
    double(&app, id).await
}

async fn both(State(app): State<App>, Path(id): Path<u64>) -> String {
    format!("{} | {}", double(&app, id).await, square(&app, id).await)
}

async fn flaky_handler(State(app): State<App>, Path(id): Path<u64>) -> String {
    flaky(&app, id)
        .await
        .unwrap_or_else(|e| format!("error: {e}"))
}

async fn uncached() -> &'static str {
    "no cached call"
}

/// A cached call in a spawned task: outside the request's scope.
async fn spawned(State(app): State<App>, Path(id): Path<u64>) -> String {
    tokio::spawn(async move { double(&app, id).await })
        .await
        .unwrap()
}

/// Serves the test routes behind `layer` on 127.0.0.1:0.
async fn serve(cache: Cache, layer: CacheLayer) -> (SocketAddr, Arc<Runs>) {
    let runs = Arc::new(Runs::default());
    let app = App {
        cache,
        runs: Arc::clone(&runs),
    };
    let router = Router::new()
        .route("/one/{id}", get(one))
        .route("/both/{id}", get(both))
        .route("/flaky/{id}", get(flaky_handler))
        .route("/item/{id}", get(item))
        .route("/uncached", get(uncached))
        .route("/spawned/{id}", get(spawned))
        .with_state(app)
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (addr, runs)
}

async fn redis_cache(server: &RedisServer) -> Cache {
    Cache::builder()
        .redis_url(server.url())
        .build()
        .await
        .unwrap()
}

/// GET `path` with `headers`: status, `X-Cache` (if any) and body.
async fn get_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response {
    http::get(addr, path, headers).await
}

/// Asserts the status, the `X-Cache` header and the body of one GET.
async fn expect(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    x_cache: Option<&str>,
    body: &str,
) {
    let response = get_with(addr, path, headers).await;
    assert_eq!(
        (
            response.status,
            response.header("x-cache"),
            response.body.as_str()
        ),
        (200, x_cache, body),
        "GET {path} {headers:?}: {response:?}"
    );
}

const NO_CACHE: &[(&str, &str)] = &[("Cache-Control", "no-cache")];

/// One cached call per request: miss, hit, then each bypass runs the body and stores its
/// value, which the next plain request reads.
async fn one_call_per_request(cache: Cache) {
    let (addr, runs) = serve(cache, CacheLayer::new().x_cache_header(true)).await;
    let v1 = "double(21) = 42 (run 1)";
    expect(addr, "/one/21", &[], Some("miss"), v1).await;
    expect(addr, "/one/21", &[], Some("hit"), v1).await;
    let v2 = "double(21) = 42 (run 2)";
    expect(addr, "/one/21?fresh=true", &[], Some("bypass"), v2).await;
    expect(addr, "/one/21", &[], Some("hit"), v2).await;
    let v3 = "double(21) = 42 (run 3)";
    expect(addr, "/one/21", NO_CACHE, Some("bypass"), v3).await;
    expect(addr, "/one/21", &[], Some("hit"), v3).await;
    let v4 = "double(21) = 42 (run 4)";
    expect(
        addr,
        "/one/21",
        &[("Cache-Control", "max-age=0, No-Cache")],
        Some("bypass"),
        v4,
    )
    .await;
    expect(addr, "/one/21?fresh=false", &[], Some("hit"), v4).await;
    expect(
        addr,
        "/one/21",
        &[("Cache-Control", "max-age=0")],
        Some("hit"),
        v4,
    )
    .await;
    assert_eq!(runs.double.load(SeqCst), 4);
}

/// Two cached calls per request: the header sums both; a bypass reaches both.
async fn two_calls_per_request(cache: Cache) {
    let (addr, runs) = serve(cache, CacheLayer::new().x_cache_header(true)).await;
    expect(addr, "/one/3", &[], Some("miss"), "double(3) = 6 (run 1)").await;
    // `double` hits, `square` misses: one miss makes the request a miss.
    let both = |d, s| format!("double(3) = 6 (run {d}) | square(3) = 9 (run {s})");
    expect(addr, "/both/3", &[], Some("miss"), &both(1, 1)).await;
    expect(addr, "/both/3", &[], Some("hit"), &both(1, 1)).await;
    expect(addr, "/both/3?fresh", &[], Some("bypass"), &both(2, 2)).await;
    expect(addr, "/both/3", &[], Some("hit"), &both(2, 2)).await;
    expect(addr, "/both/3", NO_CACHE, Some("bypass"), &both(3, 3)).await;
    expect(addr, "/both/3", &[], Some("hit"), &both(3, 3)).await;
    assert_eq!((runs.double.load(SeqCst), runs.square.load(SeqCst)), (3, 3));
}

/// No cached call: no header; a cached call in a spawned task is outside the scope.
async fn no_cached_call_no_header(cache: Cache) {
    let (addr, runs) = serve(cache, CacheLayer::new().x_cache_header(true)).await;
    expect(addr, "/uncached", &[], None, "no cached call").await;
    expect(
        addr,
        "/uncached?fresh=true",
        NO_CACHE,
        None,
        "no cached call",
    )
    .await;
    let v1 = "double(5) = 10 (run 1)";
    expect(addr, "/spawned/5", &[], None, v1).await;
    // The spawned call does not bypass either: it is served the cached value.
    expect(addr, "/spawned/5?fresh=true", &[], None, v1).await;
    expect(addr, "/one/5", &[], Some("hit"), v1).await;
    assert_eq!(runs.double.load(SeqCst), 1);
}

/// A value past its TTL with a failing body: answered stale.
async fn stale_value(cache: Cache) {
    let (addr, runs) = serve(cache, CacheLayer::new().x_cache_header(true)).await;
    expect(addr, "/flaky/1", &[], Some("miss"), "flaky(1) (run 1)").await;
    expect(addr, "/flaky/1", &[], Some("hit"), "flaky(1) (run 1)").await;
    runs.failing.store(true, SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    expect(addr, "/flaky/1", &[], Some("stale"), "flaky(1) (run 1)").await;
    assert_eq!(runs.flaky.load(SeqCst), 2);
}

/// `#[cached]` on the handler: the key is the path and the query (without the flag); the
/// value is the JSON response; an `Err` status is not cached.
async fn cached_handler(cache: Cache) {
    let (addr, runs) = serve(cache, CacheLayer::new().x_cache_header(true)).await;
    let body = |run| format!(r#"{{"id":7,"label":"a=1;b=2;","run":{run}}}"#);
    expect(addr, "/item/7?a=1&b=2", &[], Some("miss"), &body(1)).await;
    expect(addr, "/item/7?a=1&b=2", &[], Some("hit"), &body(1)).await;
    // Another query is another key.
    let other = r#"{"id":7,"label":"a=2;","run":2}"#;
    expect(addr, "/item/7?a=2", &[], Some("miss"), other).await;
    // The flag is taken off the query: the fresh value lands under the plain request's key.
    expect(
        addr,
        "/item/7?a=1&fresh=true&b=2",
        &[],
        Some("bypass"),
        &body(3),
    )
    .await;
    expect(addr, "/item/7?a=1&b=2", &[], Some("hit"), &body(3)).await;
    let response = get_with(addr, "/item/7?a=1&b=2", &[]).await;
    assert_eq!(response.header("content-type"), Some("application/json"));
    for _ in 0..2 {
        let response = get_with(addr, "/item/0", &[]).await;
        assert_eq!(
            (
                response.status,
                response.header("x-cache"),
                response.body.as_str()
            ),
            (404, Some("miss"), "")
        );
    }
    assert_eq!(runs.item.load(SeqCst), 3);
}

/// Without `x_cache_header(true)` there is no header, and the bypass still works.
async fn header_absent_when_disabled(cache: Cache) {
    let (addr, runs) = serve(cache, CacheLayer::new()).await;
    expect(
        addr,
        "/both/2",
        &[],
        None,
        "double(2) = 4 (run 1) | square(2) = 4 (run 1)",
    )
    .await;
    expect(
        addr,
        "/both/2",
        &[],
        None,
        "double(2) = 4 (run 1) | square(2) = 4 (run 1)",
    )
    .await;
    let fresh = "double(2) = 4 (run 2) | square(2) = 4 (run 2)";
    expect(addr, "/both/2?fresh=1", &[], None, fresh).await;
    expect(addr, "/both/2", &[], None, fresh).await;
    assert_eq!((runs.double.load(SeqCst), runs.square.load(SeqCst)), (2, 2));
}

/// Another query flag; the header and the flag turned off.
async fn configured_bypass(cache: Cache) {
    let layer = CacheLayer::new().x_cache_header(true).query_flag("nocache");
    let (addr, _) = serve(cache.clone(), layer).await;
    let body = |run| format!(r#"{{"id":1,"label":"fresh=true;","run":{run}}}"#);
    // `fresh` is an ordinary parameter now: part of the key, no bypass.
    expect(addr, "/item/1?fresh=true", &[], Some("miss"), &body(1)).await;
    expect(addr, "/item/1?fresh=true", &[], Some("hit"), &body(1)).await;
    expect(
        addr,
        "/item/1?fresh=true&nocache",
        &[],
        Some("bypass"),
        &body(2),
    )
    .await;
    expect(addr, "/item/1?fresh=true", &[], Some("hit"), &body(2)).await;

    let layer = CacheLayer::new()
        .x_cache_header(true)
        .without_query_flag()
        .cache_control(false);
    let (addr, runs) = serve(cache, layer).await;
    expect(addr, "/one/9", &[], Some("miss"), "double(9) = 18 (run 1)").await;
    expect(
        addr,
        "/one/9",
        NO_CACHE,
        Some("hit"),
        "double(9) = 18 (run 1)",
    )
    .await;
    expect(
        addr,
        "/one/9?fresh=true",
        NO_CACHE,
        Some("hit"),
        "double(9) = 18 (run 1)",
    )
    .await;
    assert_eq!(runs.double.load(SeqCst), 1);
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(cache_runtime::Cache::memory()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $name() {
                    let server = cache_tests::redis_server::RedisServer::start();
                    super::$name(super::redis_cache(&server).await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    one_call_per_request,
    two_calls_per_request,
    no_cached_call_no_header,
    stale_value,
    cached_handler,
    header_absent_when_disabled,
    configured_bypass,
);
