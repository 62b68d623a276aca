//! `cache_runtime::admin::router` over real HTTP (axum on a loopback port), against real
//! `redis-server` processes and the memory store: authentication, every endpoint's answer
//! checked against the cache itself, and the JSON errors of bad requests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::admin::{self, AdminConfig};
use cache_runtime::{cached, key_for, Cache, Error};
use cache_tests::http::{self, Response};
use cache_tests::redis_server::RedisServer;
use serde_json::{json, Value};

const TOKEN: &str = "s3cret-admin-token";
const AUTH: (&str, &str) = ("Authorization", "Bearer s3cret-admin-token");
const JSON: (&str, &str) = ("Content-Type", "application/json");

/// A Redis cache without L1 (every read reaches Redis), timing every call.
async fn redis_cache(server: &RedisServer) -> Cache {
    Cache::builder()
        .redis_url(server.url())
        .prefix("it.admin")
        .l1(false)
        .stats_sample_every(1)
        .build()
        .await
        .unwrap()
}

/// Serves `admin::router(cache, config)` on a free loopback port.
async fn serve(cache: Cache, config: AdminConfig) -> SocketAddr {
    let app = admin::router(cache, config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Serves the router of `cache` with [`TOKEN`].
async fn serve_with_token(cache: &Cache) -> SocketAddr {
    serve(cache.clone(), AdminConfig::new().bearer_token(TOKEN)).await
}

fn body_json(response: &Response) -> Value {
    serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", response.body))
}

/// Asserts `response` is `status` with the JSON error `message`.
#[track_caller]
fn assert_error(response: &Response, status: u16, message: &str) {
    assert_eq!(
        (response.status, body_json(response)),
        (status, json!({ "error": message })),
        "{response:?}"
    );
    assert_eq!(
        response.header("content-type"),
        Some("application/json"),
        "{response:?}"
    );
}

async fn post(addr: SocketAddr, path: &str, body: &str) -> Response {
    http::request(addr, "POST", path, &[AUTH, JSON], body.as_bytes()).await
}

#[cached(namespace = "admin.users", cache = cache, skip(cache, runs))]
async fn user(id: u64, cache: &Cache, runs: &AtomicUsize) -> String {
    runs.fetch_add(1, SeqCst);
    format!("user {id}")
}

#[cached(namespace = "admin.orders", cache = cache, skip(cache, runs))]
async fn order(id: u64, cache: &Cache, runs: &AtomicUsize) -> u64 {
    runs.fetch_add(1, SeqCst);
    id * 10
}

/// users: 1 miss, 1 hit, 2 miss, 1 hit, 1 hit (5 calls, 3 hits, 2 misses); orders: 7 miss,
/// 7 hit (2 calls, 1 hit, 1 miss).
async fn known_calls(cache: &Cache) {
    let runs = AtomicUsize::new(0);
    for id in [1, 1, 2, 1, 1] {
        assert_eq!(user(id, cache, &runs).await, format!("user {id}"));
    }
    for _ in 0..2 {
        assert_eq!(order(7, cache, &runs).await, 70);
    }
    assert_eq!(runs.load(SeqCst), 3);
}

/// No token and no `allow_unauthenticated`: the router is not built; empty or unsendable
/// tokens neither. `allow_unauthenticated` serves the data without a token.
#[tokio::test]
async fn refuses_to_build_without_a_token() {
    let config_error = |config: AdminConfig| match admin::router(Cache::memory(), config) {
        Err(Error::Config(message)) => message,
        Err(other) => panic!("expected a config error, got {other:?}"),
        Ok(_) => panic!("built"),
    };
    assert_eq!(
        config_error(AdminConfig::new()),
        "the admin router needs a bearer token: call AdminConfig::bearer_token, or \
         AdminConfig::allow_unauthenticated to serve it to anyone who can connect"
    );
    assert_eq!(
        config_error(AdminConfig::new().bearer_token("")),
        "the admin bearer token is empty"
    );
    assert_eq!(
        config_error(AdminConfig::new().bearer_token("0123456789abcde")),
        "the admin bearer token is too short (15 bytes); use a random token of at least 16 \
         bytes"
    );
    assert!(admin::router(
        Cache::memory(),
        AdminConfig::new().bearer_token("0123456789abcdef")
    )
    .is_ok());
    assert_eq!(admin::MIN_TOKEN_BYTES, 16);
    assert_eq!(
        config_error(AdminConfig::new().bearer_token("two words")),
        "the admin bearer token must be visible ASCII without spaces (it travels in the \
         Authorization header)"
    );
    assert_eq!(
        config_error(AdminConfig::new().bearer_token(TOKEN).keys_limit_max(0)),
        "AdminConfig::keys_limit_max must be at least 1"
    );
    assert_eq!(
        config_error(
            AdminConfig::new()
                .bearer_token(TOKEN)
                .dashboard_refresh(std::time::Duration::from_millis(99))
        ),
        "AdminConfig::dashboard_refresh must be at least 100 ms"
    );
    // The token never shows in Debug.
    let debug = format!("{:?}", AdminConfig::new().bearer_token(TOKEN));
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");

    let cache = Cache::memory();
    let addr = serve(cache.clone(), AdminConfig::new().allow_unauthenticated()).await;
    let response = http::get(addr, "/stats", &[]).await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(body_json(&response)["total"]["backend"], "memory");

    // With a token as well, the token is required.
    let addr = serve(
        cache,
        AdminConfig::new()
            .allow_unauthenticated()
            .bearer_token(TOKEN),
    )
    .await;
    assert_error(
        &http::get(addr, "/stats", &[]).await,
        401,
        "missing bearer token",
    );
}

/// Every data endpoint answers 401 without the token, with a wrong one, or with another
/// scheme, and 200 with it; the dashboard page needs none and holds no data.
#[tokio::test]
async fn data_endpoints_need_the_token() {
    let cache = Cache::memory();
    cache.register_warmer("noop", || async { Ok::<u64, std::io::Error>(0) });
    let addr = serve_with_token(&cache).await;
    let endpoints: [(&str, &str, &str); 5] = [
        ("GET", "/stats", ""),
        ("GET", "/health", ""),
        ("GET", "/keys?namespace=admin.users", ""),
        ("POST", "/invalidate", r#"{"keys": ["k"]}"#),
        ("POST", "/warm", "{}"),
    ];
    for (method, path, body) in endpoints {
        let send = |auth: Option<&'static str>| async move {
            let mut headers = vec![JSON];
            if let Some(auth) = auth {
                headers.push(("Authorization", auth));
            }
            http::request(addr, method, path, &headers, body.as_bytes()).await
        };
        let missing = send(None).await;
        assert_error(&missing, 401, "missing bearer token");
        assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
        assert_error(
            &send(Some("Bearer s3cret-admin-tokeN")).await,
            401,
            "invalid bearer token",
        );
        assert_error(
            &send(Some("Bearer s3cret-admin-token-and-more")).await,
            401,
            "invalid bearer token",
        );
        // "Bearer " arrives as "Bearer": header values are trimmed.
        assert_error(
            &send(Some("Bearer ")).await,
            401,
            "the Authorization header must read `Bearer <token>`",
        );
        assert_error(&send(Some("Bearer  x")).await, 401, "invalid bearer token");
        assert_error(
            &send(Some("Basic czNjcmV0LWFkbWluLXRva2Vu")).await,
            401,
            "the Authorization header must read `Bearer <token>`",
        );
        assert_error(
            &send(Some(TOKEN)).await,
            401,
            "the Authorization header must read `Bearer <token>`",
        );
        let ok = send(Some("Bearer s3cret-admin-token")).await;
        assert_eq!(ok.status, 200, "{method} {path}: {ok:?}");
        // The scheme is case-insensitive (RFC 7235).
        let ok = send(Some("bearer s3cret-admin-token")).await;
        assert_eq!(ok.status, 200, "{method} {path}: {ok:?}");
        assert_eq!(ok.header("cache-control"), Some("no-store"));
    }

    let page = http::get(addr, "/", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'none'; "), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(page.body.contains(r#"<svg id="hit-rate-chart""#));
    assert!(page.body.contains("var REFRESH_MS = 5000;"));
    // Self-contained: nothing loaded from elsewhere.
    for external in ["http://", "https://", "<link", "src="] {
        let found = page
            .body
            .match_indices(external)
            .map(|(i, _)| &page.body[i..(i + 40).min(page.body.len())])
            .filter(|s| !s.starts_with("http://www.w3.org/2000/svg"))
            .collect::<Vec<_>>();
        assert!(found.is_empty(), "{external}: {found:?}");
    }
}

/// Serializes like `/stats` reports it, without the fields the endpoint adds.
fn without(mut value: Value, added: &[&str]) -> Value {
    for field in added {
        assert!(
            value.as_object_mut().unwrap().remove(*field).is_some(),
            "no {field}"
        );
    }
    value
}

/// `/stats` after a known sequence of calls: the totals are `cache.stats()` and the
/// namespaces `cache.namespace_stats()`, field for field, with the hit rates and the split.
async fn stats_match(cache: Cache, backend: &str) {
    let addr = serve_with_token(&cache).await;
    known_calls(&cache).await;
    let response = http::get(addr, "/stats", &[AUTH]).await;
    assert_eq!(response.status, 200, "{response:?}");
    let body = body_json(&response);

    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.writes), (4, 3, 3));
    let total = body["total"].clone();
    assert_eq!(total["backend"], backend);
    assert_eq!(total["hits"], 4);
    assert_eq!(total["misses"], 3);
    assert_eq!(total["errors"], 0);
    assert_eq!(total["circuit"], "closed");
    assert_eq!(total["hit_rate"], 4.0 / 7.0);
    assert_eq!(total["store_hits"], 4);
    assert_eq!(total["l1_active"], false);
    assert_eq!(
        without(total, &["hit_rate", "store_hits", "l1_active"]),
        serde_json::to_value(&stats).unwrap()
    );

    assert_eq!(body["warmers"], json!([]));
    cache.register_warmer("noop", || async { Ok::<u64, String>(2) });
    cache.warm_all().await;
    let again = body_json(&http::get(addr, "/stats", &[AUTH]).await);
    assert_eq!(
        again["warmers"],
        serde_json::to_value(cache.warmers()).unwrap()
    );
    assert_eq!(
        (&again["warmers"][0]["name"], &again["warmers"][0]["runs"]),
        (&json!("noop"), &json!(1))
    );
    assert_eq!(again["warmers"][0]["last"]["count"], 2);

    let namespaces = cache.namespace_stats();
    let listed = body["namespaces"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    for (listed, ns) in listed.iter().zip(&namespaces) {
        assert_eq!(listed["hit_rate"], ns.hit_rate());
        assert_eq!(
            without(listed.clone(), &["hit_rate"]),
            serde_json::to_value(ns).unwrap()
        );
    }
    let orders = &listed[0];
    assert_eq!(orders["namespace"], "admin.orders");
    assert_eq!(
        (&orders["calls"], &orders["hits"], &orders["misses"]),
        (&json!(2), &json!(1), &json!(1))
    );
    assert_eq!(orders["hit_rate"], 0.5);
    let users = &listed[1];
    assert_eq!(users["namespace"], "admin.users");
    assert_eq!(
        (&users["calls"], &users["hits"], &users["misses"]),
        (&json!(5), &json!(3), &json!(2))
    );
    assert_eq!(
        (&users["l1_hits"], &users["store_hits"]),
        (&json!(0), &json!(3))
    );
    assert_eq!(users["hit_rate"], 0.6);
    assert_eq!(users["latency"]["samples"], 5);
    // Every call sampled: the top keys are exact, user 1 first.
    let key1 = key_for::<String>("admin.users", 1, &(1u64,)).unwrap();
    let digest1 = key1.as_str().rsplit(':').next().unwrap();
    assert_eq!(users["top_keys"][0]["key"], digest1);
    assert_eq!(users["top_keys"][0]["count"], 4);
    assert_eq!(users["top_keys"][1]["count"], 1);
}

#[tokio::test]
async fn stats_match_the_cache_on_redis() {
    let server = RedisServer::start();
    stats_match(redis_cache(&server).await, "redis").await;
}

#[tokio::test]
async fn stats_match_the_cache_on_memory() {
    stats_match(
        Cache::builder()
            .stats_sample_every(1)
            .build()
            .await
            .unwrap(),
        "memory",
    )
    .await;
}

/// `/invalidate` deletes what it is given and counts each kind exactly; the entries are
/// gone and the rest stays.
async fn invalidate_counts(cache: Cache) {
    let addr = serve_with_token(&cache).await;
    for key in ["k:1", "k:2", "k:3"] {
        cache.set(key, &1u8, None).await.unwrap();
    }
    for key in ["t:1", "t:2"] {
        cache
            .set_with_tags(key, &2u8, None, &["tag-a"])
            .await
            .unwrap();
    }
    cache
        .set_with_tags("t:3", &3u8, None, &["tag-b"])
        .await
        .unwrap();
    for key in ["ns.a:1", "ns.a:2", "ns.a:3", "ns.a:4"] {
        cache.set(key, &4u8, None).await.unwrap();
    }
    for key in ["pat-x-1", "pat-x-2", "pat-y-1"] {
        cache.set(key, &5u8, None).await.unwrap();
    }

    let response = post(
        addr,
        "/invalidate",
        r#"{"keys": ["k:1", "k:2", "k:missing"], "tags": ["tag-a", "tag-none"],
            "namespaces": ["ns.a"], "patterns": ["pat-x-*"]}"#,
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        body_json(&response),
        json!({"keys": 2, "tags": 2, "namespaces": 4, "patterns": 2, "total": 10})
    );
    for gone in [
        "k:1", "k:2", "t:1", "t:2", "ns.a:1", "ns.a:2", "ns.a:3", "ns.a:4", "pat-x-1", "pat-x-2",
    ] {
        assert!(!cache.exists(gone).await.unwrap(), "{gone} still there");
    }
    for kept in ["k:3", "t:3", "pat-y-1"] {
        assert!(cache.exists(kept).await.unwrap(), "{kept} gone");
    }

    // Every list is optional; an empty request deletes nothing.
    let response = post(addr, "/invalidate", r#"{"tags": ["tag-b"]}"#).await;
    assert_eq!(
        body_json(&response),
        json!({"keys": 0, "tags": 1, "namespaces": 0, "patterns": 0, "total": 1})
    );
    assert!(!cache.exists("t:3").await.unwrap());
    let response = post(addr, "/invalidate", "{}").await;
    assert_eq!(
        body_json(&response),
        json!({"keys": 0, "tags": 0, "namespaces": 0, "patterns": 0, "total": 0})
    );
}

#[tokio::test]
async fn invalidate_returns_exact_counts_on_redis() {
    let server = RedisServer::start();
    invalidate_counts(redis_cache(&server).await).await;
}

#[tokio::test]
async fn invalidate_returns_exact_counts_on_memory() {
    invalidate_counts(Cache::memory()).await;
}

/// Malformed JSON, unknown fields, wrong types, oversized bodies, wrong content types,
/// bad queries, unknown paths and wrong methods: each its exact status and JSON error.
#[tokio::test]
async fn bad_requests_get_json_errors() {
    let cache = Cache::memory();
    let addr = serve(
        cache.clone(),
        AdminConfig::new().bearer_token(TOKEN).body_limit(1024),
    )
    .await;

    assert_error(
        &post(addr, "/invalidate", r#"{"keys": ["a""#).await,
        400,
        "malformed JSON: EOF while parsing a list at line 1 column 13",
    );
    assert_error(
        &post(addr, "/invalidate", "{keys: []}").await,
        400,
        "malformed JSON: key must be a string at line 1 column 2",
    );
    assert_error(
        &post(addr, "/invalidate", r#"{"key": ["a"]}"#).await,
        422,
        "invalid request: unknown field `key`, expected one of `keys`, `tags`, \
         `namespaces`, `patterns` at line 1 column 6",
    );
    assert_error(
        &post(addr, "/invalidate", r#"{"keys": "a"}"#).await,
        422,
        "invalid request: invalid type: string \"a\", expected a sequence at line 1 column 12",
    );
    assert_error(
        &post(addr, "/warm", r#"{"warmer": ["a"]}"#).await,
        422,
        "invalid request: unknown field `warmer`, expected `warmers` at line 1 column 9",
    );
    assert_error(
        &post(addr, "/invalidate", "").await,
        400,
        "expected a JSON body: {\"keys\": [], \"tags\": [], \"namespaces\": [], \"patterns\": []}",
    );

    // Over the limit: 413, and nothing was invalidated.
    cache.set("big:1", &1u8, None).await.unwrap();
    let big = format!(r#"{{"keys": ["big:1", "{}"]}}"#, "x".repeat(1024));
    assert_error(
        &post(addr, "/invalidate", &big).await,
        413,
        "request body over the limit of 1024 bytes",
    );
    assert!(cache.exists("big:1").await.unwrap());
    // At the limit: accepted.
    let pad = 1024 - r#"{"keys": ["big:1", ""]}"#.len();
    let at_limit = format!(r#"{{"keys": ["big:1", "{}"]}}"#, "x".repeat(pad));
    assert_eq!(at_limit.len(), 1024);
    let response = post(addr, "/invalidate", &at_limit).await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(body_json(&response)["keys"], 1);

    for content_type in [None, Some("text/plain"), Some("application/jsonx")] {
        let mut headers = vec![AUTH];
        if let Some(content_type) = content_type {
            headers.push(("Content-Type", content_type));
        }
        let response =
            http::request(addr, "POST", "/invalidate", &headers, br#"{"keys": []}"#).await;
        assert_error(&response, 415, "expected Content-Type: application/json");
    }
    let response = http::request(
        addr,
        "POST",
        "/invalidate",
        &[AUTH, ("Content-Type", "Application/JSON; charset=utf-8")],
        br#"{"keys": []}"#,
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");

    assert_error(
        &http::get(addr, "/keys", &[AUTH]).await,
        400,
        "invalid query: missing field `namespace`; expected ?namespace=NAME&limit=N",
    );
    assert_error(
        &http::get(addr, "/keys?namespace=a&limit=ten", &[AUTH]).await,
        400,
        "invalid query: limit: invalid digit found in string; expected ?namespace=NAME&limit=N",
    );
    assert_error(
        &http::get(addr, "/keys?namespace=a&limt=1", &[AUTH]).await,
        400,
        "invalid query: limt: unknown field `limt`, expected `namespace` or `limit`; expected \
         ?namespace=NAME&limit=N",
    );
    assert_error(
        &http::get(addr, "/keys?namespace=a&limit=0", &[AUTH]).await,
        400,
        "limit must be at least 1",
    );
    assert_error(
        &http::get(addr, "/nope", &[AUTH]).await,
        404,
        "no such admin endpoint",
    );
    assert_error(
        &http::get(addr, "/invalidate", &[AUTH]).await,
        405,
        "method not allowed on this endpoint",
    );
    assert_error(
        &http::request(addr, "DELETE", "/stats", &[AUTH], b"").await,
        405,
        "method not allowed on this endpoint",
    );
}

/// `/keys` lists at most `limit` keys of the namespace (without the prefix), says whether
/// there are more, and lowers a limit above the configured maximum.
async fn keys_bounded(cache: Cache) {
    let addr = serve(
        cache.clone(),
        AdminConfig::new().bearer_token(TOKEN).keys_limit_max(4),
    )
    .await;
    let all: Vec<String> = (1..=5).map(|i| format!("list.ns:{i}")).collect();
    for key in &all {
        cache.set(key, &1u8, None).await.unwrap();
    }
    cache.set("list.other:1", &1u8, None).await.unwrap();

    let keys_of = |body: &Value| -> Vec<String> {
        let mut keys: Vec<String> = body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        keys.sort();
        keys
    };
    let body = body_json(&http::get(addr, "/keys?namespace=list.ns&limit=3", &[AUTH]).await);
    assert_eq!(
        (&body["namespace"], &body["limit"], &body["truncated"]),
        (&json!("list.ns"), &json!(3), &json!(true))
    );
    let listed = keys_of(&body);
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|k| all.contains(k)), "{listed:?}");

    // Above the maximum (4): lowered to it.
    let body = body_json(&http::get(addr, "/keys?namespace=list.ns&limit=100", &[AUTH]).await);
    assert_eq!(
        (&body["limit"], &body["truncated"]),
        (&json!(4), &json!(true))
    );
    assert_eq!(keys_of(&body).len(), 4);

    cache.delete("list.ns:5").await.unwrap();
    let body = body_json(&http::get(addr, "/keys?namespace=list.ns&limit=4", &[AUTH]).await);
    assert_eq!(
        (&body["limit"], &body["truncated"]),
        (&json!(4), &json!(false))
    );
    assert_eq!(keys_of(&body), all[..4].to_vec());

    // The default limit (100, lowered to 4), and a namespace with nothing in it.
    let body = body_json(&http::get(addr, "/keys?namespace=list.other", &[AUTH]).await);
    assert_eq!(
        body,
        json!({"namespace": "list.other", "limit": 4, "keys": ["list.other:1"], "truncated": false})
    );
    let body = body_json(&http::get(addr, "/keys?namespace=list.none", &[AUTH]).await);
    assert_eq!(
        body,
        json!({"namespace": "list.none", "limit": 4, "keys": [], "truncated": false})
    );
}

#[tokio::test]
async fn keys_are_bounded_on_redis() {
    let server = RedisServer::start();
    keys_bounded(redis_cache(&server).await).await;
}

#[tokio::test]
async fn keys_are_bounded_on_memory() {
    keys_bounded(Cache::memory()).await;
}

/// `/health`: 200 with the round trip while Redis answers, 503 once the server is gone.
#[tokio::test]
async fn health_is_503_when_redis_is_gone() {
    let server = RedisServer::start();
    let cache = redis_cache(&server).await;
    let addr = serve_with_token(&cache).await;

    let response = http::get(addr, "/health", &[AUTH]).await;
    assert_eq!(response.status, 200, "{response:?}");
    let body = body_json(&response);
    assert_eq!(
        (&body["backend"], &body["reachable"], &body["circuit"]),
        (&json!("redis"), &json!(true), &json!("closed"))
    );
    assert_eq!(
        (&body["backplane"], &body["error"]),
        (&Value::Null, &Value::Null)
    );
    assert!(body["latency_us"].as_u64().is_some(), "{body}");

    drop(server);
    let response = http::get(addr, "/health", &[AUTH]).await;
    assert_eq!(response.status, 503, "{response:?}");
    let body = body_json(&response);
    assert_eq!(
        (&body["backend"], &body["reachable"], &body["latency_us"]),
        (&json!("redis"), &json!(false), &Value::Null)
    );
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with("cache store error: "), "{error}");

    // A store operation through the admin API fails as 503 too.
    let response = post(addr, "/invalidate", r#"{"keys": ["a"]}"#).await;
    assert_eq!(response.status, 503, "{response:?}");
    assert!(body_json(&response)["error"]
        .as_str()
        .unwrap()
        .starts_with("cache store error: "));

    let memory = serve_with_token(&Cache::memory()).await;
    let response = http::get(memory, "/health", &[AUTH]).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        body_json(&response),
        json!({"backend": "memory", "reachable": true, "latency_us": 0, "backplane": null,
               "coherence": null, "circuit": "closed", "fallback_entries": null, "error": null,
               "disabled_reason": null})
    );
}

/// `/warm` runs the registered warmers (all, or those named), reports a failing one
/// without failing the others, and refuses unknown names with 404 (running none).
#[tokio::test]
async fn warm_runs_warmers_and_reports_failures() {
    let server = RedisServer::start();
    let cache = redis_cache(&server).await;
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    {
        let (cache2, runs) = (cache.clone(), runs.clone());
        cache.register_warmer("users", move || {
            let (cache, runs) = (cache2.clone(), runs.clone());
            async move {
                runs.fetch_add(1, SeqCst);
                for id in 1..=3u64 {
                    cache.set(format!("warm.users:{id}"), &id, None).await?;
                }
                Ok::<u64, Error>(3)
            }
        });
    }
    cache.register_warmer("broken", || async {
        Err::<u64, _>(std::io::Error::other("the database is down"))
    });
    let addr = serve_with_token(&cache).await;

    let reports = |body: &Value| -> Vec<(String, bool, u64, Value)> {
        body["warmers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert!(r["duration_ms"].as_u64().is_some(), "{r}");
                (
                    r["name"].as_str().unwrap().to_owned(),
                    r["ok"].as_bool().unwrap(),
                    r["count"].as_u64().unwrap(),
                    r["error"].clone(),
                )
            })
            .collect()
    };
    let users_ok = ("users".to_owned(), true, 3, Value::Null);
    let broken = ("broken".to_owned(), false, 0, json!("the database is down"));

    let response = post(addr, "/warm", "{}").await;
    assert_eq!(response.status, 200, "{response:?}");
    let body = body_json(&response);
    assert_eq!(reports(&body), vec![users_ok.clone(), broken.clone()]);
    assert!(body["duration_ms"].as_u64().is_some(), "{body}");
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(cache.get::<u64>("warm.users:3").await.unwrap(), Some(3));

    // An empty JSON body: every warmer too.
    let response = http::request(addr, "POST", "/warm", &[AUTH, JSON], b"").await;
    assert_eq!(
        reports(&body_json(&response)),
        vec![users_ok.clone(), broken]
    );
    assert_eq!(runs.load(SeqCst), 2);
    // No Content-Type: none.
    let response = http::request(addr, "POST", "/warm", &[AUTH], b"").await;
    assert_error(&response, 415, "expected Content-Type: application/json");
    assert_eq!(runs.load(SeqCst), 2);

    let response = post(addr, "/warm", r#"{"warmers": ["users"]}"#).await;
    assert_eq!(reports(&body_json(&response)), vec![users_ok]);
    assert_eq!(runs.load(SeqCst), 3);

    let response = post(addr, "/warm", r#"{"warmers": []}"#).await;
    assert_eq!(reports(&body_json(&response)), vec![]);

    assert_error(
        &post(addr, "/warm", r#"{"warmers": ["users", "nope"]}"#).await,
        404,
        r#"no warmer named "nope" (registered: ["users", "broken"])"#,
    );
    assert_eq!(runs.load(SeqCst), 3);
}

/// With `allow_unauthenticated`, a mutating route never runs for a request a browser sends
/// cross-site without a CORS preflight: an empty `POST` without `Content-Type`, a form, a
/// `text/plain` body. Each is 415, and nothing was warmed or deleted; `application/json`
/// (which needs the preflight) is served.
#[tokio::test]
async fn mutating_routes_need_json_even_without_a_token() {
    let server = RedisServer::start();
    let cache = redis_cache(&server).await;
    let runs = std::sync::Arc::new(AtomicUsize::new(0));
    {
        let runs = runs.clone();
        cache.register_warmer("all", move || {
            let runs = runs.clone();
            async move {
                runs.fetch_add(1, SeqCst);
                Ok::<u64, Error>(0)
            }
        });
    }
    cache.set("kept", &1u8, None).await.unwrap();
    let addr = serve(cache.clone(), AdminConfig::new().allow_unauthenticated()).await;
    // (headers, body) of each cross-site simple request.
    type Simple<'a> = (&'a [(&'a str, &'a str)], &'a [u8]);
    let simple: [Simple<'_>; 4] = [
        (&[], b""),
        (
            &[("Content-Type", "application/x-www-form-urlencoded")],
            b"keys=kept",
        ),
        (
            &[("Content-Type", "multipart/form-data; boundary=x")],
            b"--x--",
        ),
        (&[("Content-Type", "text/plain")], br#"{"keys": ["kept"]}"#),
    ];
    for (headers, body) in simple {
        for path in ["/warm", "/invalidate"] {
            let response = http::request(addr, "POST", path, headers, body).await;
            assert_error(&response, 415, "expected Content-Type: application/json");
        }
    }
    assert_eq!(runs.load(SeqCst), 0);
    assert_eq!(cache.get::<u8>("kept").await.unwrap(), Some(1));

    let response = http::request(addr, "POST", "/warm", &[JSON], b"").await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(runs.load(SeqCst), 1);
    let response = http::request(
        addr,
        "POST",
        "/invalidate",
        &[JSON],
        br#"{"keys": ["kept"]}"#,
    )
    .await;
    assert_eq!(body_json(&response)["keys"], 1, "{response:?}");
    assert_eq!(cache.get::<u8>("kept").await.unwrap(), None);
}

/// A pattern with more than 8 wildcards refuses the whole request (422, nothing deleted,
/// not even the request's keys); `\*` matches a literal star.
#[tokio::test]
async fn patterns_are_bounded_and_stars_escapable() {
    let server = RedisServer::start();
    let cache = redis_cache(&server).await;
    let addr = serve_with_token(&cache).await;
    for key in ["rate*limit:1", "rate*limit:2", "rate-limit:1", "k"] {
        cache.set(key, &1u8, None).await.unwrap();
    }
    let nine = "*".repeat(9);
    let request = json!({"keys": ["k"], "patterns": ["rate*", nine]}).to_string();
    assert_error(
        &post(addr, "/invalidate", &request).await,
        422,
        "invalid key pattern: the pattern holds 9 `*` wildcards, more than the 8 allowed; \
         write `\\*` for a literal `*`",
    );
    for key in ["rate*limit:1", "rate*limit:2", "rate-limit:1", "k"] {
        assert!(cache.exists(key).await.unwrap(), "{key} gone");
    }
    let request = json!({"patterns": [r"rate\*limit:*", "*:*:*:*:*:*:*:never"]}).to_string();
    let response = post(addr, "/invalidate", &request).await;
    assert_eq!(body_json(&response)["patterns"], 2, "{response:?}");
    assert!(cache.exists("rate-limit:1").await.unwrap());
    assert!(!cache.exists("rate*limit:1").await.unwrap());
}
