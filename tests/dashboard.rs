//! The admin dashboard (`GET /` of `cache_runtime::admin::router`) in a real headless
//! Chromium, driven over WebDriver (chromedriver, spoken to with the plain HTTP client of
//! `cache_tests::http`): the page polls `/stats` with the token from the URL fragment, draws
//! the hit rate of every namespace over time, and shows the numbers `/stats` answers; without
//! a token it asks for one.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`);
//! fails, never skips, without them. `CHROMIUM` and `CHROMEDRIVER` override the binaries.
//!
//! `CACHE_DASHBOARD_SCREENSHOT=docs/dashboard.png` (relative to the workspace root) also
//! saves the screenshot: that is how the picture in docs/operating.md is made.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cache_runtime::admin::{self, AdminConfig};
use cache_runtime::{cached, Cache};
use cache_tests::http;
use cache_tests::redis_server::RedisServer;
use serde_json::{json, Value};

const TOKEN: &str = "dashboard-test-token";

/// What the test fails with when a binary is missing.
const INSTALL_HINT: &str = "the dashboard test drives a real headless Chromium through \
     chromedriver and never skips: install them with `apt-get install chromium \
     chromium-driver` (Debian/Ubuntu; .ci/run does), or point CHROMIUM and CHROMEDRIVER at \
     the binaries";

/// The first of `names` found on `PATH` (or the path in `env`, when set).
fn find_binary(env: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "{env}={} is not a file; {INSTALL_HINT}",
            path.display()
        );
        return path;
    }
    let dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for name in names {
        for dir in &dirs {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("none of {names:?} was found on PATH: {INSTALL_HINT}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A chromedriver process with one headless Chromium session; dropping it ends the session
/// (so Chromium exits) and kills chromedriver.
struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
}

impl Browser {
    async fn start() -> Browser {
        let chromium = find_binary(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        );
        let chromedriver = find_binary("CHROMEDRIVER", &["chromedriver"]);
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}; {INSTALL_HINT}", chromedriver.display()));
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                let status = http::get(addr, "/status", &[]).await;
                let ready: Value = serde_json::from_str(&status.body).unwrap();
                if ready["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start on {addr}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let created = browser
            .command(
                "POST",
                "/session",
                json!({"capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": ["--headless", "--no-sandbox", "--disable-gpu",
                                 "--disable-background-networking", "--disable-dev-shm-usage",
                                 "--window-size=1280,1300", "--hide-scrollbars"],
                    },
                }}}),
            )
            .await;
        browser.session = created["sessionId"].as_str().unwrap().to_owned();
        browser
    }

    /// One WebDriver command; its `value`. Panics on a WebDriver error.
    async fn command(&self, method: &str, path: &str, body: Value) -> Value {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let response = http::request(
            self.addr,
            method,
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await;
        let reply: Value = serde_json::from_str(&response.body)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {}", response.body));
        assert_eq!(response.status, 200, "{method} {path}: {reply}");
        reply["value"].clone()
    }

    async fn goto(&self, url: &str) {
        let path = format!("/session/{}/url", self.session);
        self.command("POST", &path, json!({ "url": url })).await;
    }

    /// Runs `script` (a function body) in the page; what it returns.
    async fn script(&self, script: &str) -> Value {
        let path = format!("/session/{}/execute/sync", self.session);
        self.command("POST", &path, json!({ "script": script, "args": [] }))
            .await
    }

    /// Waits (up to 20 s) until `condition` (a JavaScript expression) holds.
    async fn wait_for(&self, condition: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let script = format!("return Boolean({condition});");
        while self.script(&script).await != true {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {condition}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How many times the page has drawn `/stats`.
    async fn polls(&self) -> u64 {
        self.script("return Number(document.body.dataset.polls || 0);")
            .await
            .as_u64()
            .unwrap()
    }

    /// Waits until the page has drawn `/stats` `n` more times.
    async fn wait_polls(&self, n: u64) {
        let target = self.polls().await + n;
        self.wait_for(&format!(
            "Number(document.body.dataset.polls || 0) >= {target}"
        ))
        .await;
    }

    /// A PNG of the viewport.
    async fn screenshot(&self) -> Vec<u8> {
        let path = format!("/session/{}/screenshot", self.session);
        base64_decode(
            self.command("GET", &path, Value::Null)
                .await
                .as_str()
                .unwrap(),
        )
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Blocking: ends the session, which closes Chromium, then chromedriver goes.
        if !self.session.is_empty() {
            use std::io::{Read, Write};
            if let Ok(mut conn) = std::net::TcpStream::connect(self.addr) {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                let request = format!(
                    "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                    self.session, self.addr
                );
                let _ = conn.write_all(request.as_bytes());
                let _ = conn.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        acc = (acc << 6) | value(c);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The width and height in a PNG's IHDR.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&png[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

#[cached(namespace = "users", cache = cache, skip(cache))]
async fn user(id: u64, cache: &Cache) -> String {
    format!("user {id}")
}

#[cached(namespace = "orders", cache = cache, skip(cache))]
async fn order(id: u64, cache: &Cache) -> u64 {
    id * 100
}

#[cached(namespace = "search", cache = cache, skip(cache))]
async fn search(query: u64, cache: &Cache) -> Vec<u64> {
    vec![query, query + 1]
}

/// One phase of traffic; the hit rates climb phase after phase.
async fn traffic(cache: &Cache, phase: u64) {
    match phase {
        0 => {
            for id in 1..=10 {
                user(id, cache).await;
            }
            for id in 1..=4 {
                order(id, cache).await;
            }
            for q in 1..=12 {
                search(q, cache).await;
            }
        }
        1 => {
            for id in (1..=10).chain(1..=10) {
                user(id, cache).await;
            }
            for id in (1..=4).chain(5..=6) {
                order(id, cache).await;
            }
            for q in (1..=4).chain(13..=20) {
                search(q, cache).await;
            }
        }
        2 => {
            for _ in 0..8 {
                for id in 1..=3 {
                    user(id, cache).await;
                }
            }
            for id in 1..=6 {
                order(id, cache).await;
            }
            for q in 1..=8 {
                search(q, cache).await;
            }
        }
        _ => {
            for _ in 0..6 {
                user(1, cache).await;
                order(1, cache).await;
            }
            for id in 11..=14 {
                user(id, cache).await;
            }
            for q in 21..=24 {
                search(q, cache).await;
            }
        }
    }
}

/// Everything the page shows, read from the DOM.
const READ_PAGE: &str = r##"
const text = id => document.getElementById(id).textContent;
const chart = document.getElementById("hit-rate-chart");
const box = chart.getBoundingClientRect();
return {
  hash: location.hash,
  status: text("status"),
  backend: text("backend"),
  circuit: text("circuit"),
  l1: text("l1-active"),
  tiles: Object.fromEntries([...document.querySelectorAll("#tiles b")].map(b => [b.id, b.textContent])),
  bytes_title: document.getElementById("total-bytes").title,
  samples: Number(chart.dataset.samples),
  chart_size: [box.width, box.height],
  series: [...chart.querySelectorAll("polyline")].map(p => ({
    name: p.dataset.series,
    points: p.getAttribute("points").split(" ").map(xy => xy.split(",").map(Number)),
    length: p.getTotalLength(),
  })),
  rows: [...document.querySelectorAll("#namespaces tbody tr")].map(tr =>
    Object.fromEntries([...tr.cells].map(td => [td.dataset.field, td.textContent]))),
  split: [...document.querySelectorAll("#split .split")].map(s => s.dataset.split),
  split_nums: document.querySelector("#split .split .nums").textContent,
  tiers: [...document.querySelectorAll(".tier-l1, .tier-store")].map(e => e.textContent),
  l1_tile_hidden: document.getElementById("tile-l1-hits").hidden,
  top: [...document.querySelectorAll("#top-keys tbody tr")].map(tr =>
    Object.fromEntries([...tr.cells].map(td => [td.dataset.field, td.textContent]))),
};
"##;

/// A percentage the page shows ("57.1%") as a number.
fn shown_percent(text: &Value) -> f64 {
    let text = text.as_str().unwrap();
    text.strip_suffix('%')
        .unwrap_or_else(|| panic!("not a percentage: {text}"))
        .parse()
        .unwrap()
}

/// Asserts the page shows `rate` (0..1) rounded to a tenth of a percent.
#[track_caller]
fn assert_rate(shown: &Value, rate: &Value) {
    let rate = rate.as_f64().unwrap() * 100.0;
    let shown = shown_percent(shown);
    assert!(
        (shown - rate).abs() <= 0.05 + 1e-9,
        "shown {shown}%, /stats {rate}%"
    );
}

/// The chart's y of a hit rate (as the page maps it: 100% at y = 10, 0% at y = 210).
fn chart_y(rate: f64) -> f64 {
    210.0 - rate * 200.0
}

/// The page polls `/stats` with the token from the fragment, and once the traffic stops
/// shows exactly what `/stats` answers; the chart has one line per namespace plus the total,
/// a point per poll, ending at each current hit rate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_the_stats_in_chromium() {
    let server = RedisServer::start();
    let build = |l1: bool| {
        Cache::builder()
            .redis_url(server.url())
            .prefix("it.dashboard")
            .l1(l1)
            .stats_sample_every(1)
            .build()
    };
    // Another process filled some entries: the dashboard's cache reads them from Redis
    // first (L2), then from its L1.
    let other = build(false).await.unwrap();
    for id in 1..=5 {
        user(id, &other).await;
    }
    let cache = build(true).await.unwrap();
    assert!(cache.wait_for_backplane(Duration::from_secs(5)).await);
    let app = admin::router(
        cache.clone(),
        AdminConfig::new()
            .bearer_token(TOKEN)
            .dashboard_refresh(Duration::from_millis(250)),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let browser = Browser::start().await;
    browser.goto(&format!("http://{addr}/#token={TOKEN}")).await;
    browser.wait_polls(1).await;
    for phase in 0..4 {
        traffic(&cache, phase).await;
        browser.wait_polls(2).await;
    }
    // No more traffic: two more draws, and the numbers stand still.
    browser.wait_polls(2).await;
    let page = browser.script(READ_PAGE).await;
    let stats: Value = serde_json::from_str(
        &http::get(
            addr,
            "/stats",
            &[("Authorization", "Bearer dashboard-test-token")],
        )
        .await
        .body,
    )
    .unwrap();
    let total = &stats["total"];

    // The token was taken from the fragment and the fragment removed.
    assert_eq!(page["hash"], "");
    assert_eq!(page["status"], "ok");
    assert_eq!(
        (&page["backend"], &page["circuit"], &page["l1"]),
        (&json!("redis"), &json!("closed"), &json!("active"))
    );
    let tiles = &page["tiles"];
    for (tile, field) in [
        ("total-hits", "hits"),
        ("total-l1-hits", "l1_hits"),
        ("total-l2-hits", "store_hits"),
        ("total-misses", "misses"),
        ("total-errors", "errors"),
        ("total-stale-served", "stale_served"),
        ("total-coalesced", "coalesced"),
        ("total-writes", "writes"),
        ("total-entries", "entries"),
    ] {
        assert_eq!(tiles[tile], total[field].to_string(), "{tile}");
    }
    assert_rate(&tiles["total-hit-rate"], &total["hit_rate"]);
    assert_eq!(tiles["total-error-rate"], "0.0%");
    assert_eq!(page["bytes_title"], format!("{} bytes", total["bytes"]));
    assert!(total["entries"].as_u64().unwrap() > 0, "{total}");
    // The sequence above, as the cache counted it.
    assert_eq!((&total["hits"], &total["misses"]), (&json!(83), &json!(39)));
    assert!(total["l1_hits"].as_u64().unwrap() > 0, "{total}");
    assert!(total["store_hits"].as_u64().unwrap() > 0, "{total}");

    let namespaces = stats["namespaces"].as_array().unwrap();
    let rows = page["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    for (row, ns) in rows.iter().zip(namespaces) {
        assert_eq!(row["namespace"], ns["namespace"]);
        for field in [
            "calls",
            "hits",
            "l1_hits",
            "store_hits",
            "misses",
            "errors",
            "stale_served",
            "coalesced",
            "bypassed",
        ] {
            assert_eq!(
                row[field],
                ns[field].to_string(),
                "{} {field}",
                ns["namespace"]
            );
        }
        assert_rate(&row["hit_rate"], &ns["hit_rate"]);
    }
    assert_eq!(page["split"], json!(["all", "orders", "search", "users"]));
    // The tiers are named by what they are: this process's L1, and Redis.
    let tiers: Vec<&str> = page["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        tiers,
        [
            "in-process L1",
            "Redis",
            "in-process L1",
            "Redis",
            "in-process L1",
            "Redis"
        ]
    );
    assert_eq!(page["l1_tile_hidden"], json!(false));
    assert_eq!(
        page["split_nums"],
        format!(
            "in-process L1 {} · Redis {} · miss {}",
            total["l1_hits"], total["store_hits"], total["misses"]
        )
    );

    // The chart: drawn, one line per namespace plus the total, ending at today's rates.
    let samples = page["samples"].as_u64().unwrap();
    assert!(samples >= 11, "{samples} samples");
    let size = &page["chart_size"];
    assert!(
        size[0].as_f64().unwrap() > 300.0 && size[1].as_f64().unwrap() > 100.0,
        "{size}"
    );
    let series = page["series"].as_array().unwrap();
    let names: Vec<&str> = series.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["all", "orders", "search", "users"]);
    for line in series {
        let name = line["name"].as_str().unwrap();
        let points = line["points"].as_array().unwrap();
        assert!(line["length"].as_f64().unwrap() > 100.0, "{name}: {line}");
        let rate = if name == "all" {
            &total["hit_rate"]
        } else {
            &namespaces.iter().find(|n| n["namespace"] == name).unwrap()["hit_rate"]
        };
        if name == "all" {
            assert_eq!(points.len() as u64, samples, "{name}");
        } else {
            assert!(points.len() >= 8, "{name}: {} points", points.len());
        }
        let last_y = points.last().unwrap()[1].as_f64().unwrap();
        assert!(
            (last_y - chart_y(rate.as_f64().unwrap())).abs() <= 0.05 + 1e-9,
            "{name}"
        );
        // Over time: the line is not flat (the rates climbed phase after phase).
        let ys: Vec<f64> = points.iter().map(|p| p[1].as_f64().unwrap()).collect();
        let (lo, hi) = ys
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), y| (lo.min(*y), hi.max(*y)));
        assert!(hi - lo > 10.0, "{name}: flat line {ys:?}");
    }

    // Top keys: the most requested first, as `/stats` counts them.
    let top = page["top"].as_array().unwrap();
    let mut expected: Vec<(String, String, u64)> = namespaces
        .iter()
        .flat_map(|n| {
            n["top_keys"].as_array().unwrap().iter().map(move |k| {
                (
                    n["namespace"].as_str().unwrap().to_owned(),
                    k["key"].as_str().unwrap().to_owned(),
                    k["count"].as_u64().unwrap(),
                )
            })
        })
        .collect();
    expected.sort_by_key(|e| std::cmp::Reverse(e.2));
    assert_eq!(top.len(), expected.len().min(10));
    let counts: Vec<String> = top
        .iter()
        .map(|r| r["count"].as_str().unwrap().to_owned())
        .collect();
    let expected_counts: Vec<String> = expected[..top.len()]
        .iter()
        .map(|e| e.2.to_string())
        .collect();
    assert_eq!(counts, expected_counts);
    // User 1 was asked for most (17 times), alone at the top.
    assert_eq!(expected[0].2, 17);
    assert!(expected[1].2 < 17);
    assert_eq!(
        (&top[0]["namespace"], &top[0]["key"]),
        (&json!(expected[0].0), &json!(expected[0].1))
    );
    assert_eq!(top[0]["namespace"], "users");

    let png = browser.screenshot().await;
    let viewport = browser
        .script("return [innerWidth * devicePixelRatio, innerHeight * devicePixelRatio];")
        .await;
    let (width, height) = png_size(&png);
    assert_eq!(json!([width, height]), viewport);
    assert!(
        png.len() > 20_000,
        "a {}-byte screenshot is too plain",
        png.len()
    );
    if let Some(path) = std::env::var_os("CACHE_DASHBOARD_SCREENSHOT") {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
        std::fs::write(&path, &png).unwrap();
        eprintln!("wrote {}", path.display());
    }
}

/// Without a token in the fragment or the tab, the page asks for one: a wrong one is asked
/// for again, the right one shows the stats.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_asks_for_the_token() {
    let cache = Cache::memory();
    traffic(&cache, 0).await;
    let app = admin::router(
        cache.clone(),
        AdminConfig::new()
            .bearer_token(TOKEN)
            .dashboard_refresh(Duration::from_millis(200)),
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let browser = Browser::start().await;
    browser.goto(&format!("http://{addr}/")).await;
    let asking = "!document.getElementById('login').hidden \
                  && document.getElementById('status').textContent === 'token needed'";
    browser.wait_for(asking).await;
    assert_eq!(browser.polls().await, 0);

    let submit = |token: &str| {
        format!(
            "document.getElementById('status').textContent = 'sent'; \
             document.getElementById('token').value = {token:?}; \
             document.getElementById('login-form').requestSubmit();"
        )
    };
    browser.script(&submit("not-the-token")).await;
    browser.wait_for(asking).await;
    assert_eq!(browser.polls().await, 0);

    browser.script(&submit(TOKEN)).await;
    browser.wait_polls(1).await;
    let shown = browser
        .script(
            "return [document.getElementById('login').hidden, \
             document.getElementById('total-misses').textContent, \
             document.getElementById('backend').textContent];",
        )
        .await;
    assert_eq!(shown, json!([true, "26", "memory"]));
    assert_eq!(cache.stats().misses, 26);
    // On the memory store the hits are the store's own, never called L2, and there is no L1
    // in front of it.
    let page = browser.script(READ_PAGE).await;
    assert_eq!(page["l1_tile_hidden"], json!(true));
    assert_eq!(
        page["tiers"],
        json!([
            "in-process L1",
            "memory store",
            "in-process L1",
            "memory store",
            "in-process L1",
            "memory store"
        ])
    );
    let stats = cache.stats();
    assert_eq!(
        page["split_nums"],
        format!("memory store {} · miss {}", stats.hits, stats.misses)
    );
}
