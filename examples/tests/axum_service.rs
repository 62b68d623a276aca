//! The `axum_service` example as a user runs it: the binary on a free port, on a private
//! `redis-server` (and once on the embedded default), driven over real HTTP. Every read's
//! `X-Cache` header and body are checked: read → hit → update → miss → hit for both handler
//! styles, `PATCH` (`#[cache_put]`) → hit with the new value, bypass with `?fresh=true` and
//! `Cache-Control: no-cache` after the database changed behind the cache's back, the admin
//! router under `/admin/cache`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cache_tests::http::{self, Response};
use cache_tests::redis_server::RedisServer;

/// A running `axum_service`, stopped with SIGTERM when dropped.
struct Service {
    child: Child,
    addr: SocketAddr,
    token: String,
    db_path: PathBuf,
    stdout: mpsc::Receiver<String>,
    backend: String,
    /// What the example prints after `admin: `: the dashboard's address and the token.
    admin: String,
}

/// The value after `prefix` on the first line of `lines` that starts with it.
fn line_value<'a>(lines: &'a [String], prefix: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {lines:#?}"))
}

impl Service {
    /// Starts the example on port 0, on Redis at `redis_url` or on the embedded default, and
    /// waits for its `listening on` line.
    fn start(redis_url: Option<&str>) -> Service {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_axum_service"));
        cmd.args(["--port", "0"])
            .env_remove("REDIS_URL")
            .env_remove("CACHE_PREFIX")
            .env_remove("CACHE_ADMIN_TOKEN")
            .env_remove("PORT")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(url) = redis_url {
            cmd.env("REDIS_URL", url);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut lines = Vec::new();
        while !lines
            .iter()
            .any(|l: &String| l.starts_with("listening on "))
        {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(e) => panic!("axum_service did not start ({e}): {lines:#?}"),
            }
        }
        let addr = line_value(&lines, "listening on http://").parse().unwrap();
        let admin = line_value(&lines, "admin: ");
        let token = admin.rsplit_once("bearer token ").unwrap().1;
        let token = token.trim_end_matches(')').to_owned();
        let database = line_value(&lines, "database: ");
        let db_path = PathBuf::from(database.split_once(" (").unwrap().0);
        let backend = line_value(&lines, "cache backend: ").to_owned();
        let admin = admin.to_owned();
        Service {
            child,
            addr,
            token,
            db_path,
            stdout: rx,
            backend,
            admin,
        }
    }

    async fn get(&self, path: &str) -> Response {
        http::get(self.addr, path, &[]).await
    }

    async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        http::get(self.addr, path, headers).await
    }

    /// `method path` with a JSON body.
    async fn send(&self, method: &str, path: &str, json: &str) -> Response {
        let headers = [("Content-Type", "application/json")];
        http::request(self.addr, method, path, &headers, json.as_bytes()).await
    }

    /// `GET path` with `headers` as an operator: with the admin bearer token.
    async fn operator_get(&self, path: &str, headers: &[(&str, &str)]) -> Response {
        let bearer = format!("Bearer {}", self.token);
        let mut headers = headers.to_vec();
        headers.push(("Authorization", &bearer));
        http::get(self.addr, path, &headers).await
    }

    /// `POST path` with a JSON body, as an operator.
    async fn operator_post(&self, path: &str, json: &str) -> Response {
        let bearer = format!("Bearer {}", self.token);
        let headers = [
            ("Content-Type", "application/json"),
            ("Authorization", bearer.as_str()),
        ];
        http::request(self.addr, "POST", path, &headers, json.as_bytes()).await
    }

    /// How many reads the database served so far (`GET /stats`, which makes no cached call).
    async fn db_reads(&self) -> u64 {
        let stats = self.get("/stats").await;
        assert_eq!((stats.status, stats.header("x-cache")), (200, None));
        let (_, rest) = stats.body.split_once(r#""db_reads":"#).unwrap();
        rest.split(',').next().unwrap().parse().unwrap()
    }

    /// Changes the database behind the cache's back, as another program would.
    fn write_behind(&self, sql: &str) {
        let conn = rusqlite::Connection::open(&self.db_path).unwrap();
        assert_eq!(conn.execute(sql, []).unwrap(), 1, "{sql}");
    }

    /// SIGTERM, then waits for the exit; returns what it printed meanwhile.
    fn stop(&mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "axum_service exited with {status}");
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("axum_service did not stop within 10 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stdout.try_iter().collect()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A product as the service serializes it.
fn product(id: u64, name: &str, category: &str, price_cents: u64) -> String {
    format!(r#"{{"id":{id},"name":"{name}","category":"{category}","price_cents":{price_cents}}}"#)
}

/// Asserts one response: status, `X-Cache` and body.
#[track_caller]
fn check(response: &Response, status: u16, x_cache: Option<&str>, body: &str) {
    assert_eq!(
        (
            response.status,
            response.header("x-cache"),
            response.body.as_str()
        ),
        (status, x_cache, body),
        "{response:?}"
    );
}

/// How many Redis keys start with `prefix`.
async fn redis_keys(server: &RedisServer, prefix: &str) -> usize {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut server.raw().await)
        .await
        .unwrap();
    keys.len()
}

/// `GET /products/{id}` (a handler calling a `#[cached]` fn) on Redis: miss, hit, `PUT`
/// (`#[cache_invalidate]`), miss with the new row, hit; the hits read no database row.
#[tokio::test]
async fn by_id_read_hit_update_miss_hit() {
    let server = RedisServer::start();
    let s = Service::start(Some(&server.url()));
    assert_eq!(s.backend, "redis");
    let hammer = product(21, "Hammer", "tools", 3125);
    check(&s.get("/products/21").await, 200, Some("miss"), &hammer);
    let reads = s.db_reads().await;
    check(&s.get("/products/21").await, 200, Some("hit"), &hammer);
    assert_eq!(s.db_reads().await, reads);
    assert_eq!(redis_keys(&server, "cache:shop.product:").await, 1);

    let claw = product(21, "Claw hammer", "tools", 1999);
    let put = s
        .send(
            "PUT",
            "/products/21",
            r#"{"name":"Claw hammer","category":"tools","price_cents":1999}"#,
        )
        .await;
    check(&put, 200, None, &claw);
    assert_eq!(redis_keys(&server, "cache:shop.product:").await, 0);
    check(&s.get("/products/21").await, 200, Some("miss"), &claw);
    assert_eq!(s.db_reads().await, reads + 1);
    check(&s.get("/products/21").await, 200, Some("hit"), &claw);
    assert_eq!(s.db_reads().await, reads + 1);
    // Another product was never touched.
    let wrench = product(23, "Wrench", "tools", 3375);
    check(&s.get("/products/23").await, 200, Some("miss"), &wrench);
    check(&s.get("/products/23").await, 200, Some("hit"), &wrench);
}

/// `GET /products?..` (`#[cached]` on the handler, keyed on its `Query`) on Redis: miss,
/// hit, another query misses, an update of a listed product invalidates the lists (tag).
#[tokio::test]
async fn list_read_hit_update_miss_hit() {
    let server = RedisServer::start();
    let s = Service::start(Some(&server.url()));
    let page = |second: &str| {
        format!(
            r#"{{"items":[{},{second},{}],"page":1,"per_page":3,"total":10}}"#,
            product(21, "Hammer", "tools", 3125),
            product(23, "Wrench", "tools", 3375),
        )
    };
    let before = page(&product(22, "Screwdriver set", "tools", 3250));
    let path = "/products?category=tools&per_page=3";
    check(&s.get(path).await, 200, Some("miss"), &before);
    check(&s.get(path).await, 200, Some("hit"), &before);
    let reads = s.db_reads().await;
    check(&s.get(path).await, 200, Some("hit"), &before);
    assert_eq!(s.db_reads().await, reads);
    // Another page is another key.
    let games = format!(
        r#"{{"items":[{}],"page":10,"per_page":1,"total":10}}"#,
        product(20, "Word tiles", "games", 3000)
    );
    let games_path = "/products?category=games&page=10&per_page=1";
    check(&s.get(games_path).await, 200, Some("miss"), &games);
    check(&s.get(games_path).await, 200, Some("hit"), &games);

    let put = s
        .send(
            "PUT",
            "/products/22",
            r#"{"name":"Screwdrivers","category":"tools","price_cents":999}"#,
        )
        .await;
    check(&put, 200, None, &product(22, "Screwdrivers", "tools", 999));
    let after = page(&product(22, "Screwdrivers", "tools", 999));
    check(&s.get(path).await, 200, Some("miss"), &after);
    check(&s.get(path).await, 200, Some("hit"), &after);
    // Every list was invalidated (one tag), the other page too.
    check(&s.get(games_path).await, 200, Some("miss"), &games);

    let bad = s.get("/products?page=0").await;
    let error = r#"{"error":"page starts at 1 and per_page is 1 to 50"}"#;
    check(&bad, 400, Some("miss"), error);
    // Errors are not cached.
    check(&s.get("/products?page=0").await, 400, Some("miss"), error);
}

/// `GET /search` (a `#[cached]` fn) and `POST /search` (`#[cached]` on the handler, keyed on
/// its `Json` body): each misses then hits; a write invalidates both.
#[tokio::test]
async fn search_in_both_styles() {
    let server = RedisServer::start();
    let s = Service::start(Some(&server.url()));
    let found = |first: &str| {
        format!(
            "[{first},{},{}]",
            product(16, "Mahjong set", "games", 2500),
            product(19, "Dice set", "games", 2875)
        )
    };
    let before = found(&product(11, "Chess set", "games", 1875));
    let body = r#"{"q":"SET","limit":3}"#;
    check(
        &s.get("/search?q=SET&limit=3").await,
        200,
        Some("miss"),
        &before,
    );
    check(
        &s.get("/search?q=SET&limit=3").await,
        200,
        Some("hit"),
        &before,
    );
    check(
        &s.send("POST", "/search", body).await,
        200,
        Some("miss"),
        &before,
    );
    check(
        &s.send("POST", "/search", body).await,
        200,
        Some("hit"),
        &before,
    );
    // Another body is another key.
    let one = format!("[{}]", product(11, "Chess set", "games", 1875));
    let body_one = r#"{"q":"set","limit":1}"#;
    check(
        &s.send("POST", "/search", body_one).await,
        200,
        Some("miss"),
        &one,
    );
    check(
        &s.send("POST", "/search", body_one).await,
        200,
        Some("hit"),
        &one,
    );

    let patch = s
        .send("PATCH", "/products/11", r#"{"name":"Chess box set"}"#)
        .await;
    let chess = product(11, "Chess box set", "games", 1875);
    check(&patch, 200, None, &chess);
    let after = found(&chess);
    check(
        &s.get("/search?q=SET&limit=3").await,
        200,
        Some("miss"),
        &after,
    );
    check(
        &s.send("POST", "/search", body).await,
        200,
        Some("miss"),
        &after,
    );
    check(
        &s.get("/search?q=SET&limit=3").await,
        200,
        Some("hit"),
        &after,
    );
    check(
        &s.send("POST", "/search", body).await,
        200,
        Some("hit"),
        &after,
    );
}

/// `PATCH` (`#[cache_put]`) writes the new value: the next read is a hit with it, and reads
/// no database row. `DELETE` invalidates: 404, never cached.
#[tokio::test]
async fn patch_puts_and_delete_invalidates() {
    let server = RedisServer::start();
    let s = Service::start(Some(&server.url()));
    let old = product(5, "Distributed Systems", "books", 1125);
    check(&s.get("/products/5").await, 200, Some("miss"), &old);
    check(&s.get("/products/5").await, 200, Some("hit"), &old);
    let new = product(5, "Distributed Systems", "books", 4200);
    let patch = s
        .send("PATCH", "/products/5", r#"{"price_cents":4200}"#)
        .await;
    check(&patch, 200, None, &new);
    let reads = s.db_reads().await;
    check(&s.get("/products/5").await, 200, Some("hit"), &new);
    assert_eq!(s.db_reads().await, reads);

    let delete = s.send("DELETE", "/products/5", "").await;
    check(&delete, 204, None, "");
    let gone = r#"{"error":"no product 5"}"#;
    check(&s.get("/products/5").await, 404, Some("miss"), gone);
    check(&s.get("/products/5").await, 404, Some("miss"), gone);
    check(&s.send("DELETE", "/products/5", "").await, 404, None, gone);
    let missing = s
        .send("PATCH", "/products/99", r#"{"price_cents":1}"#)
        .await;
    check(&missing, 404, None, r#"{"error":"no product 99"}"#);
}

/// The database changes behind the cache's back: plain reads hit the old value, an
/// operator's `?fresh=true` or `Cache-Control: no-cache` read bypasses the cache, answers
/// the new value and stores it for the next plain read (both handler styles); anyone else's
/// is a hit.
#[tokio::test]
async fn fresh_and_no_cache_bypass() {
    let server = RedisServer::start();
    let s = Service::start(Some(&server.url()));
    let v1 = product(2, "Caching at Scale", "books", 750);
    check(&s.get("/products/2").await, 200, Some("miss"), &v1);
    s.write_behind("UPDATE products SET price_cents = 1 WHERE id = 2");
    check(&s.get("/products/2").await, 200, Some("hit"), &v1);
    let no_cache = [("Cache-Control", "no-cache")];
    check(
        &s.get("/products/2?fresh=true").await,
        200,
        Some("hit"),
        &v1,
    );
    check(
        &s.get_with("/products/2", &no_cache).await,
        200,
        Some("hit"),
        &v1,
    );
    let v2 = product(2, "Caching at Scale", "books", 1);
    check(
        &s.operator_get("/products/2?fresh=true", &[]).await,
        200,
        Some("bypass"),
        &v2,
    );
    check(&s.get("/products/2").await, 200, Some("hit"), &v2);

    s.write_behind("UPDATE products SET price_cents = 2 WHERE id = 2");
    let v3 = product(2, "Caching at Scale", "books", 2);
    check(
        &s.operator_get("/products/2", &no_cache).await,
        200,
        Some("bypass"),
        &v3,
    );
    check(&s.get("/products/2").await, 200, Some("hit"), &v3);
    // `fresh=false` is no bypass.
    check(
        &s.get("/products/2?fresh=false").await,
        200,
        Some("hit"),
        &v3,
    );

    // `#[cached]` on the handler: the flag is not part of its `Query` key.
    let list = |price: u64| {
        format!(
            r#"{{"items":[{}],"page":2,"per_page":1,"total":10}}"#,
            product(2, "Caching at Scale", "books", price)
        )
    };
    let path = "/products?category=books&page=2&per_page=1";
    check(&s.get(path).await, 200, Some("miss"), &list(2));
    s.write_behind("UPDATE products SET price_cents = 3 WHERE id = 2");
    check(&s.get(path).await, 200, Some("hit"), &list(2));
    let fresh = format!("{path}&fresh=true");
    check(&s.get(&fresh).await, 200, Some("hit"), &list(2));
    check(
        &s.operator_get(&fresh, &[]).await,
        200,
        Some("bypass"),
        &list(3),
    );
    check(&s.get(path).await, 200, Some("hit"), &list(3));
    s.write_behind("UPDATE products SET price_cents = 4 WHERE id = 2");
    check(
        &s.operator_get(path, &no_cache).await,
        200,
        Some("bypass"),
        &list(4),
    );
    check(&s.get(path).await, 200, Some("hit"), &list(4));

    let body = r#"{"q":"Caching","limit":1}"#;
    let found = |price| format!("[{}]", product(2, "Caching at Scale", "books", price));
    check(
        &s.send("POST", "/search", body).await,
        200,
        Some("miss"),
        &found(4),
    );
    s.write_behind("UPDATE products SET price_cents = 5 WHERE id = 2");
    check(
        &s.send("POST", "/search", body).await,
        200,
        Some("hit"),
        &found(4),
    );
    let anonymous = s.send("POST", "/search?fresh", body).await;
    check(&anonymous, 200, Some("hit"), &found(4));
    let fresh = s.operator_post("/search?fresh", body).await;
    check(&fresh, 200, Some("bypass"), &found(5));
    check(
        &s.send("POST", "/search", body).await,
        200,
        Some("hit"),
        &found(5),
    );
}

/// The admin router answers under `/admin/cache` with the printed token, and only with it.
#[tokio::test]
async fn admin_router_is_mounted() {
    let server = RedisServer::start();
    let s = Service::start(Some(&server.url()));
    check(
        &s.get("/products/1").await,
        200,
        Some("miss"),
        &product(1, "Async Rust", "books", 625),
    );
    let bearer = format!("Bearer {}", s.token);
    let stats = s
        .get_with("/admin/cache/stats", &[("Authorization", &bearer)])
        .await;
    assert_eq!(stats.status, 200, "{stats:?}");
    assert!(stats.body.contains(r#""backend":"redis""#), "{stats:?}");
    assert!(stats.body.contains(r#""misses":1"#), "{stats:?}");
    assert_eq!(s.get("/admin/cache/stats").await.status, 401);
    let wrong = s
        .get_with("/admin/cache/stats", &[("Authorization", "Bearer wrong")])
        .await;
    assert_eq!(wrong.status, 401);
    // The dashboard, at the address the example prints and without its trailing slash.
    let printed = format!("http://{}/admin/cache/ (bearer token {})", s.addr, s.token);
    assert_eq!(s.admin, printed);
    for path in ["/admin/cache/", "/admin/cache"] {
        let page = s.get(path).await;
        assert_eq!(page.status, 200, "{path}: {page:?}");
        assert!(page.body.contains("<h1>Cache</h1>"), "{path}: {page:?}");
    }
}

/// With no `REDIS_URL`: the embedded default, the same behaviour; SIGTERM stops it and
/// deletes the database file.
#[tokio::test]
async fn embedded_default_and_clean_shutdown() {
    let mut s = Service::start(None);
    assert_eq!(s.backend, "memory");
    assert!(s.db_path.exists());
    let pliers = product(24, "Pliers", "tools", 3500);
    check(&s.get("/products/24").await, 200, Some("miss"), &pliers);
    check(&s.get("/products/24").await, 200, Some("hit"), &pliers);
    let put = s
        .send(
            "PUT",
            "/products/24",
            r#"{"name":"Long-nose pliers","category":"tools","price_cents":1250}"#,
        )
        .await;
    let long = product(24, "Long-nose pliers", "tools", 1250);
    check(&put, 200, None, &long);
    check(&s.get("/products/24").await, 200, Some("miss"), &long);
    check(&s.get("/products/24").await, 200, Some("hit"), &long);
    // 3 of the reads and misses are the start-up warm-up of the popular searches.
    let stats = s.get("/stats").await;
    assert_eq!(
        stats.body,
        r#"{"backend":"memory","db_reads":5,"cache_hits":2,"cache_misses":5}"#
    );
    let printed = s.stop();
    assert_eq!(printed, vec!["stopped".to_owned()]);
    assert!(!s.db_path.exists(), "{} still exists", s.db_path.display());
}

/// A second run against the same Redis starts cold: the first run's entries (of a database
/// that no longer exists) are cleared at start.
#[tokio::test]
async fn restart_on_the_same_redis_starts_cold() {
    let server = RedisServer::start();
    let hammer = product(21, "Hammer", "tools", 3125);
    for _ in 0..2 {
        let s = Service::start(Some(&server.url()));
        check(&s.get("/products/21").await, 200, Some("miss"), &hammer);
        let patch = s
            .send("PATCH", "/products/21", r#"{"price_cents":1}"#)
            .await;
        check(&patch, 200, None, &product(21, "Hammer", "tools", 1));
    }
}

/// `GET /visits` counts per visitor in a tower-sessions session stored on the cache (Redis
/// here): 1, 2, 3 with the cookie, one Redis key for the session; a visitor without the
/// cookie starts at 1.
#[tokio::test]
async fn visits_count_in_a_session_on_redis() {
    let server = RedisServer::start();
    let s = Service::start(Some(&server.url()));
    let first = s.get("/visits").await;
    assert_eq!(
        (first.status, first.body.as_str()),
        (200, r#"{"visits":1}"#)
    );
    let cookie = first
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("id="), "{cookie}");
    for n in 2..=3 {
        let again = http::get(s.addr, "/visits", &[("Cookie", cookie.as_str())]).await;
        assert_eq!(again.body, format!(r#"{{"visits":{n}}}"#));
    }
    assert_eq!(redis_keys(&server, "cache:sessions:").await, 1);
    let stranger = s.get("/visits").await;
    assert_eq!(stranger.body, r#"{"visits":1}"#);
    assert_eq!(redis_keys(&server, "cache:sessions:").await, 2);
}

/// The popular searches are warmed at start-up (printed, and hits from the first request),
/// and `GET /metrics` shows the cache's counters in the Prometheus text format. With client
/// tracking, a value this process wrote goes into L1 at its first read from Redis, so the
/// first hit after a warm or a fill is a store hit.
#[tokio::test]
async fn warmed_at_start_and_metrics_exposed() {
    let server = RedisServer::start();
    let s = Service::start(Some(&server.url()));
    let reads = s.db_reads().await;
    let warm = s.get("/search?q=hammer&limit=10").await;
    assert_eq!((warm.status, warm.header("x-cache")), (200, Some("hit")));
    assert_eq!(s.db_reads().await, reads, "warmed: no database read");
    s.get("/products/3").await;
    s.get("/products/3").await;
    let metrics = s.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    let lines: Vec<&str> = metrics.body.lines().collect();
    for want in [
        r#"cache_misses_total{namespace="shop.search"} 3"#,
        r#"cache_hits_total{namespace="shop.search",tier="store"} 1"#,
        r#"cache_hits_total{namespace="shop.search",tier="l1"} 0"#,
        r#"cache_misses_total{namespace="shop.product"} 1"#,
        r#"cache_hits_total{namespace="shop.product",tier="store"} 1"#,
        r#"cache_hits_total{namespace="shop.product",tier="l1"} 0"#,
    ] {
        assert!(lines.contains(&want), "no {want:?} in:\n{}", metrics.body);
    }
}
