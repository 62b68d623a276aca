//! `web::CacheLayer` on an axum router over real HTTP, on the memory store and on a real
//! `redis-server`: the exact `X-Cache` of every request; the bypass (`?fresh=true`,
//! `Cache-Control: no-cache`, a configured flag) honoured only for the requests the
//! application's predicate lets through, by every cached call of the request, through single
//! flight (1,000 concurrent bypasses of one key run its body once) and the fill lease (a
//! bypass racing an invalidation stores nothing); no header for requests without cached
//! calls or when disabled; and `#[cached]` directly on handlers with extractors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
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
use tokio::sync::Barrier;

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

/// A layer that lets every request that asks bypass (the tests of what a bypass does).
fn trusting() -> CacheLayer {
    CacheLayer::new().x_cache_header(true).bypass_if(|_| true)
}

/// The header an operator's requests carry in these tests.
const OPERATOR: (&str, &str) = ("X-Operator", "yes");

/// A layer that lets only requests with [`OPERATOR`] bypass.
fn operators_only() -> CacheLayer {
    CacheLayer::new().x_cache_header(true).bypass_if(|request| {
        request
            .headers
            .get(OPERATOR.0)
            .is_some_and(|v| v == OPERATOR.1)
    })
}

/// One cached call per request: miss, hit, then each bypass runs the body and stores its
/// value, which the next plain request reads.
async fn one_call_per_request(cache: Cache) {
    let (addr, runs) = serve(cache, trusting()).await;
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
    let (addr, runs) = serve(cache, trusting()).await;
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
    let (addr, runs) = serve(cache, trusting()).await;
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
    let (addr, runs) = serve(cache, trusting()).await;
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
    let (addr, runs) = serve(cache, CacheLayer::new().bypass_if(|_| true)).await;
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
    let layer = trusting().query_flag("nocache");
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

    let layer = trusting().without_query_flag().cache_control(false);
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

/// By default no request bypasses: an anonymous `Cache-Control: no-cache` (what a browser
/// sends on every hard reload) or `?fresh=true` is a plain hit. With a predicate, only the
/// requests it lets through bypass, and only when they ask.
async fn anonymous_requests_cannot_bypass(cache: Cache) {
    let (addr, runs) = serve(cache.clone(), CacheLayer::new().x_cache_header(true)).await;
    let v1 = "double(8) = 16 (run 1)";
    expect(addr, "/one/8", &[], Some("miss"), v1).await;
    for _ in 0..3 {
        expect(addr, "/one/8", NO_CACHE, Some("hit"), v1).await;
        expect(addr, "/one/8?fresh=true", NO_CACHE, Some("hit"), v1).await;
    }
    assert_eq!(runs.double.load(SeqCst), 1);

    let (addr, runs) = serve(cache, operators_only()).await;
    let v1 = "double(9) = 18 (run 1)";
    expect(addr, "/one/9", &[], Some("miss"), v1).await;
    expect(addr, "/one/9", NO_CACHE, Some("hit"), v1).await;
    expect(addr, "/one/9", &[OPERATOR], Some("hit"), v1).await;
    let v2 = "double(9) = 18 (run 2)";
    expect(addr, "/one/9", &[OPERATOR, NO_CACHE[0]], Some("bypass"), v2).await;
    expect(addr, "/one/9?fresh", &[], Some("hit"), v2).await;
    let v3 = "double(9) = 18 (run 3)";
    expect(addr, "/one/9?fresh", &[OPERATOR], Some("bypass"), v3).await;
    expect(addr, "/one/9", NO_CACHE, Some("hit"), v3).await;
    assert_eq!(runs.double.load(SeqCst), 3);
}

/// How many requests [`thousand_bypasses_run_the_body_once`] sends at once.
const BURST: usize = 1_000;

/// The state of the burst and race services.
#[derive(Clone)]
struct Gate {
    cache: Cache,
    /// Requests that entered the handler (and so joined the key's flight in the same poll:
    /// the test runtime has one thread).
    entered: Arc<AtomicUsize>,
    runs: Arc<AtomicUsize>,
    /// The row the body reads, as a database would hold it.
    row: Arc<AtomicU64>,
    /// When set, the body waits here after reading the row.
    hold: Arc<std::sync::Mutex<Option<Arc<Barrier>>>>,
}

impl Gate {
    fn new(cache: Cache) -> Gate {
        Gate {
            cache,
            entered: Arc::default(),
            runs: Arc::default(),
            row: Arc::new(AtomicU64::new(1)),
            hold: Arc::default(),
        }
    }
}

/// Waits until [`BURST`] requests entered their handler: every one of them is then in the
/// flight of this call.
#[cached(cache = gate.cache, skip(gate), namespace = "layer.burst")]
async fn burst(gate: &Gate, id: u64) -> String {
    let run = gate.runs.fetch_add(1, SeqCst) + 1;
    while gate.entered.load(SeqCst) < BURST {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    format!("burst({id}) (run {run})")
}

/// Reads the row, then waits at the barrier in `hold` if one is set.
#[cached(cache = gate.cache, skip(gate), namespace = "layer.row")]
async fn row(gate: &Gate, id: u64) -> String {
    gate.runs.fetch_add(1, SeqCst);
    let version = gate.row.load(SeqCst);
    let hold = gate.hold.lock().unwrap().clone();
    if let Some(barrier) = hold {
        barrier.wait().await;
        barrier.wait().await;
    }
    format!("row {id} v{version}")
}

async fn burst_handler(State(gate): State<Gate>, Path(id): Path<u64>) -> String {
    gate.entered.fetch_add(1, SeqCst);
    burst(&gate, id).await
}

async fn row_handler(State(gate): State<Gate>, Path(id): Path<u64>) -> String {
    row(&gate, id).await
}

/// Serves `/burst/{id}` and `/row/{id}` on `gate` behind `layer`.
async fn serve_gate(gate: Gate, layer: CacheLayer) -> SocketAddr {
    let router = Router::new()
        .route("/burst/{id}", get(burst_handler))
        .route("/row/{id}", get(row_handler))
        .with_state(gate)
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// 1,000 concurrent bypassing requests of one key, through a real axum router: the body
/// runs once, every request gets its value (`X-Cache: bypass`), one write stores it, and
/// the next plain request reads it.
async fn thousand_bypasses_run_the_body_once(cache: Cache) {
    let gate = Gate::new(cache.clone());
    let addr = serve_gate(gate.clone(), trusting()).await;
    // A value to recompute, read by a plain request first.
    gate.entered.store(BURST, SeqCst);
    expect(addr, "/burst/1", &[], Some("miss"), "burst(1) (run 1)").await;
    gate.entered.store(0, SeqCst);
    let writes = cache.stats().writes;

    let requests: Vec<_> = (0..BURST)
        .map(|_| tokio::spawn(async move { get_with(addr, "/burst/1", NO_CACHE).await }))
        .collect();
    for request in requests {
        let response = request.await.unwrap();
        assert_eq!(
            (
                response.status,
                response.header("x-cache"),
                response.body.as_str()
            ),
            (200, Some("bypass"), "burst(1) (run 2)"),
            "{response:?}"
        );
    }
    assert_eq!(gate.runs.load(SeqCst), 2);
    assert_eq!(cache.stats().writes - writes, 1);
    expect(addr, "/burst/1", &[], Some("hit"), "burst(1) (run 2)").await;
}

/// A bypass whose body read the row before an update and its invalidation, and finishes
/// after them, stores nothing: the next plain request runs the body and reads the new row.
async fn bypass_racing_an_invalidation_stores_nothing(cache: Cache) {
    let gate = Gate::new(cache.clone());
    let addr = serve_gate(gate.clone(), trusting()).await;
    for (path, row) in [("/row/1", "row 1 v1"), ("/row/2", "row 2 v1")] {
        // Once with a value to replace, once without.
        if path == "/row/1" {
            expect(addr, path, &[], Some("miss"), row).await;
        }
        let barrier = Arc::new(Barrier::new(2));
        *gate.hold.lock().unwrap() = Some(barrier.clone());
        let bypass = tokio::spawn(async move { get_with(addr, path, NO_CACHE).await });
        barrier.wait().await; // the body has read v1
        *gate.hold.lock().unwrap() = None;
        gate.row.store(2, SeqCst);
        cache.invalidate_namespace("layer.row").await.unwrap();
        barrier.wait().await; // the body returns v1
        let response = bypass.await.unwrap();
        assert_eq!(
            (response.header("x-cache"), response.body.as_str()),
            (Some("bypass"), row)
        );
        let fresh = row.replace("v1", "v2");
        expect(addr, path, &[], Some("miss"), &fresh).await;
        expect(addr, path, &[], Some("hit"), &fresh).await;
        gate.row.store(1, SeqCst);
    }
    assert_eq!(cache.stats().stale_fills_refused, 2, "{:?}", cache.stats());
}

/// A bypass that replaces a value drops the copies other processes hold in L1: a second
/// cache on the same Redis, which served the old value from its L1, reads the new one.
#[tokio::test]
async fn bypass_drops_other_processes_l1_copies() {
    let server = RedisServer::start();
    let (a, b) = (redis_cache(&server).await, redis_cache(&server).await);
    for cache in [&a, &b] {
        assert!(cache.wait_for_backplane(Duration::from_secs(5)).await);
    }
    let (in_a, in_b) = (Gate::new(a.clone()), Gate::new(b.clone()));
    // B's database already has the new row.
    in_b.row.store(2, SeqCst);
    // Read until A serves it from L1 (with tracking, at its first read after the fill).
    let in_l1 = cache_tests::suite::tier::in_l1(&a, || row(&in_a, 5)).await;
    assert_eq!(in_l1, "row 5 v1");

    let bypass = cache_runtime::scope::RequestScope::new(true);
    assert_eq!(bypass.run(row(&in_b, 5)).await, "row 5 v2");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while row(&in_a, 5).await != "row 5 v2" {
        assert!(tokio::time::Instant::now() < deadline, "A still serves v1");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        in_a.runs.load(SeqCst),
        1,
        "A read the new value, it did not recompute"
    );
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
    anonymous_requests_cannot_bypass,
    thousand_bypasses_run_the_body_once,
    bypass_racing_an_invalidation_stores_nothing,
);
