//! AUTH against real `redis-server` processes: `--requirepass` (the default user) and ACL
//! users, with credentials from the URL and from the builder; wrong credentials are a build
//! error, a user without permission for GET/SET fails open; and the password never shows:
//! not in `Debug` of the builder or the cache, not in errors, not in log output.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use cache_runtime::{cached, key_for, Cache, CacheBuilder, CircuitState, Error};
use cache_tests::fixture::Counts;
use cache_tests::logs::capture_logs;
use cache_tests::redis_server::RedisServer;

/// The default user's password (`--requirepass`).
const PASSWORD: &str = "Pw-requirepass-7f3a9c";
/// An ACL user with every permission.
const ALICE: &str = "alice";
const ALICE_PASSWORD: &str = "Pw-alice-0b81d2";
/// An ACL user that may only PING.
const PINGER: &str = "pinger";
const PINGER_PASSWORD: &str = "Pw-pinger-5e6c44";
/// What redis-rs reports for a `WRONGPASS` reply (it drops the server's text).
const WRONGPASS: &[&str] = &["Password authentication failed", "AuthenticationFailed"];
/// What redis-rs reports for a `NOAUTH` reply.
const NOAUTH: &[&str] = &["NOAUTH"];

/// A password that is wrong for every user.
const WRONG: &str = "Pw-wrong-c0ffee";

/// How long any single build or call here may take before the test calls it a hang.
const NO_HANG: Duration = Duration::from_secs(10);

fn start() -> RedisServer {
    let alice_pw = format!(">{ALICE_PASSWORD}");
    let pinger_pw = format!(">{PINGER_PASSWORD}");
    RedisServer::start_with(&[
        "--requirepass",
        PASSWORD,
        "--user",
        ALICE,
        "on",
        &alice_pw,
        "~*",
        "&*",
        "+@all",
        "--user",
        PINGER,
        "on",
        &pinger_pw,
        "+ping",
    ])
}

/// `redis://{userinfo}@127.0.0.1:{port}`.
fn url_with(server: &RedisServer, userinfo: &str) -> String {
    format!("redis://{userinfo}@127.0.0.1:{}", server.port())
}

/// A raw connection as the default user, bypassing the cache.
async fn admin(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url_with(server, &format!(":{PASSWORD}")))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn bounded<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(NO_HANG, f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {NO_HANG:?}"))
}

async fn build(what: &str, builder: CacheBuilder) -> cache_runtime::Result<Cache> {
    bounded(what, builder.build()).await
}

#[cached(namespace = "auth.double", cache = cache, skip(cache, calls))]
async fn double(id: u64, cache: &Cache, calls: &AtomicUsize) -> u64 {
    calls.fetch_add(1, SeqCst);
    id * 2
}

/// A `#[cached]` miss then a hit on `cache`, with exact counts, and the entry in Redis.
async fn assert_caches(what: &str, cache: &Cache, server: &RedisServer, id: u64) {
    let calls = AtomicUsize::new(0);
    assert_eq!(cache.stats().backend, "redis", "{what}");
    assert_eq!(bounded(what, double(id, cache, &calls)).await, id * 2);
    assert_eq!(bounded(what, double(id, cache, &calls)).await, id * 2);
    assert_eq!(
        calls.load(SeqCst),
        1,
        "{what}: the second call ran the body"
    );
    assert_eq!(Counts::of(&cache.stats()), Counts::calls(1, 1, 1), "{what}");
    let key = key_for::<u64>("auth.double", 1, &(id,)).unwrap();
    let raw: u64 = redis::cmd("EXISTS")
        .arg(format!("{}:{key}", cache.prefix()))
        .query_async(&mut admin(server).await)
        .await
        .unwrap();
    assert_eq!(raw, 1, "{what}: the entry is not in Redis");
    assert_no_secret(what, &format!("{cache:?}"));
}

/// `text` names a NOPERM reply to GET: redis-rs writes it as `NoPerm: this user has no
/// permissions to run the 'get' command`.
fn assert_noperm(what: &str, text: &str) {
    assert!(
        text.contains("NoPerm") && text.contains("no permissions to run the 'get' command"),
        "{what}: the cause is not named in {text:?}"
    );
}

/// None of the passwords appears in `text`.
fn assert_no_secret(what: &str, text: &str) {
    for secret in [PASSWORD, ALICE_PASSWORD, PINGER_PASSWORD, WRONG] {
        assert!(
            !text.contains(secret),
            "{what}: a password shows in {text:?}"
        );
    }
}

/// The right password from the URL, for the default user and for an ACL user, with and
/// without L1: a miss, then a hit.
#[tokio::test]
async fn right_password_from_the_url() {
    let server = start();
    let cases = [
        ("default user, L1 off", format!(":{PASSWORD}"), false),
        ("default user, L1 on", format!(":{PASSWORD}"), true),
        ("ACL user", format!("{ALICE}:{ALICE_PASSWORD}"), false),
        ("ACL user, L1 on", format!("{ALICE}:{ALICE_PASSWORD}"), true),
    ];
    for (id, (what, userinfo, l1)) in cases.into_iter().enumerate() {
        let builder = Cache::builder()
            .redis_url(url_with(&server, &userinfo))
            .require_redis(true)
            .l1(l1);
        assert_no_secret(what, &format!("{builder:?}"));
        let cache = build(what, builder)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_caches(what, &cache, &server, id as u64).await;
    }
}

/// The right credentials from the builder: a password for the default user, a username and
/// password for an ACL user; they take the place of credentials in the URL (even wrong ones).
#[tokio::test]
async fn right_credentials_from_the_builder() {
    let server = start();
    let plain = server.url();
    let cases: [(&str, CacheBuilder); 4] = [
        (
            "default user",
            Cache::builder().redis_url(&plain).redis_password(PASSWORD),
        ),
        (
            "ACL user",
            Cache::builder()
                .redis_url(&plain)
                .redis_username(ALICE)
                .redis_password(ALICE_PASSWORD),
        ),
        (
            "ACL user, L1 on",
            Cache::builder()
                .redis_url(&plain)
                .redis_username(ALICE)
                .redis_password(ALICE_PASSWORD)
                .l1(true),
        ),
        (
            "builder over a wrong URL password",
            Cache::builder()
                .redis_url(url_with(&server, &format!("{ALICE}:{WRONG}")))
                .redis_password(ALICE_PASSWORD),
        ),
    ];
    for (id, (what, builder)) in cases.into_iter().enumerate() {
        let builder = builder.require_redis(true).l1(what.contains("L1 on"));
        let debug = format!("{builder:?}");
        assert_no_secret(what, &debug);
        assert!(debug.contains("***"), "{what}: {debug}");
        let cache = build(what, builder)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_caches(what, &cache, &server, 100 + id as u64).await;
    }
}

/// Wrong credentials are a build error with the default settings and with
/// `require_redis(true)`: the error says the credentials were refused (Redis's
/// `WRONGPASS` / `NOAUTH`) and shows no password.
#[tokio::test]
async fn wrong_credentials_fail_the_build() {
    let server = start();
    let plain = server.url();
    let cases: Vec<(&str, CacheBuilder, &[&str])> = vec![
        (
            "wrong password in the URL",
            Cache::builder().redis_url(url_with(&server, &format!(":{WRONG}"))),
            WRONGPASS,
        ),
        (
            "wrong ACL password in the URL",
            Cache::builder().redis_url(url_with(&server, &format!("{ALICE}:{WRONG}"))),
            WRONGPASS,
        ),
        (
            "unknown ACL user in the URL",
            Cache::builder().redis_url(url_with(&server, &format!("mallory:{ALICE_PASSWORD}"))),
            WRONGPASS,
        ),
        (
            "wrong password from the builder",
            Cache::builder().redis_url(&plain).redis_password(WRONG),
            WRONGPASS,
        ),
        (
            "wrong ACL password from the builder",
            Cache::builder()
                .redis_url(&plain)
                .redis_username(ALICE)
                .redis_password(WRONG),
            WRONGPASS,
        ),
        (
            "ACL user with the default user's password",
            Cache::builder()
                .redis_url(&plain)
                .redis_username(ALICE)
                .redis_password(PASSWORD),
            WRONGPASS,
        ),
        ("no credentials", Cache::builder().redis_url(&plain), NOAUTH),
    ];
    for (what, builder, causes) in cases {
        for require in [false, true] {
            let what = format!("{what}, require_redis({require})");
            let started = Instant::now();
            let err = build(&what, builder.clone().require_redis(require))
                .await
                .map(|_| ())
                .unwrap_err();
            let (msg, debug) = (err.to_string(), format!("{err:?}"));
            assert!(matches!(err, Error::Store(_)), "{what}: {debug}");
            assert!(
                causes.iter().all(|c| msg.contains(c)),
                "{what}: {msg:?} does not name the cause {causes:?}"
            );
            assert!(msg.contains("refused the connection"), "{what}: {msg}");
            assert_no_secret(&what, &msg);
            assert_no_secret(&what, &debug);
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{what}: took {:?}",
                started.elapsed()
            );
        }
    }
}

/// An ACL user that may PING but not GET or SET: the build succeeds, every `#[cached]` call
/// returns the body's value (fail-open), the errors are counted, and the circuit stays
/// closed (a NOPERM reply means Redis is up). Nothing hangs.
#[tokio::test]
async fn user_without_permissions_fails_open() {
    let server = start();
    for l1 in [false, true] {
        let what = format!("+ping only, l1({l1})");
        let cache = build(
            &what,
            Cache::builder()
                .redis_url(server.url())
                .redis_username(PINGER)
                .redis_password(PINGER_PASSWORD)
                .l1(l1),
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
        let calls = AtomicUsize::new(0);
        let started = Instant::now();
        for round in 0..3u64 {
            for id in 0..4u64 {
                assert_eq!(
                    bounded(&what, double(id, &cache, &calls)).await,
                    id * 2,
                    "{what} round {round}"
                );
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: 12 calls took {:?}",
            started.elapsed()
        );
        let stats = cache.stats();
        assert_eq!(calls.load(SeqCst), 12, "{what}: {stats:?}");
        assert!(stats.errors > 0, "{what}: {stats:?}");
        assert_eq!(stats.hits, 0, "{what}: {stats:?}");
        assert_eq!(stats.writes, 0, "{what}: {stats:?}");
        assert_eq!(stats.circuit, CircuitState::Closed, "{what}: {stats:?}");
        assert_eq!(stats.circuit_opened, 0, "{what}: {stats:?}");
        assert_eq!(stats.short_circuited, 0, "{what}: {stats:?}");
        // The manual API reports the refusal, naming it.
        let err = cache.get::<u64>("k").await.unwrap_err();
        assert_noperm(&what, &err.to_string());
        assert_no_secret(&what, &err.to_string());
    }
    // Nothing was written.
    let n: u64 = redis::cmd("DBSIZE")
        .query_async(&mut admin(&server).await)
        .await
        .unwrap();
    assert_eq!(n, 0);
}

/// A free loopback port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// Log output never shows a password: not when Redis does not answer (the URL is logged
/// redacted as `user:***@`), not when the server refuses a command (the cause, NOPERM, is
/// logged), not when the credentials are refused.
#[tokio::test]
async fn logs_never_show_the_password() {
    // Unreachable, fail-open: the build logs the redacted URL.
    let url = format!(
        "redis://{ALICE}:{ALICE_PASSWORD}@127.0.0.1:{}",
        closed_port()
    );
    let (cache, logs) = capture_logs(async {
        let cache = build(
            "unreachable",
            Cache::builder()
                .redis_url(&url)
                .connect_timeout(Duration::from_millis(200)),
        )
        .await
        .unwrap();
        let calls = AtomicUsize::new(0);
        assert_eq!(double(5, &cache, &calls).await, 10);
        cache
    })
    .await;
    assert_no_secret("unreachable", &logs);
    assert!(
        logs.contains(&format!("{ALICE}:***@127.0.0.1")),
        "the redacted URL is not logged: {logs}"
    );
    assert!(logs.contains("did not answer"), "{logs}");
    assert_no_secret("unreachable", &format!("{cache:?}"));
    assert!(format!("{cache:?}").contains("***"), "{cache:?}");
    // With require_redis(true) the error carries the redacted URL.
    let err = build(
        "unreachable, required",
        Cache::builder()
            .redis_url(&url)
            .connect_timeout(Duration::from_millis(200))
            .require_redis(true),
    )
    .await
    .map(|_| ())
    .unwrap_err();
    assert_no_secret("unreachable, required", &err.to_string());
    assert!(
        err.to_string().contains(&format!("{ALICE}:***@127.0.0.1")),
        "{err}"
    );

    // Refused commands: the cause is logged, the password is not.
    let server = start();
    let (_, logs) = capture_logs(async {
        let cache = build(
            "+ping only",
            Cache::builder()
                .redis_url(url_with(&server, &format!("{PINGER}:{PINGER_PASSWORD}")))
                .l1(false),
        )
        .await
        .unwrap();
        let calls = AtomicUsize::new(0);
        assert_eq!(double(6, &cache, &calls).await, 12);
    })
    .await;
    assert_no_secret("+ping only", &logs);
    assert_noperm("+ping only, logs", &logs);

    // Refused credentials.
    let (err, logs) = capture_logs(build(
        "wrong password",
        Cache::builder().redis_url(url_with(&server, &format!("{ALICE}:{WRONG}"))),
    ))
    .await;
    let err = err.map(|_| ()).unwrap_err();
    assert_no_secret("wrong password", &logs);
    assert_no_secret("wrong password", &err.to_string());
    assert!(
        WRONGPASS.iter().all(|c| err.to_string().contains(c)),
        "{err}"
    );
}

/// `Debug` of a builder and of a cache never shows a password, from the URL or the builder,
/// whatever the URL looks like.
#[tokio::test]
async fn debug_never_shows_the_password() {
    let urls = [
        format!("redis://:{PASSWORD}@127.0.0.1:1"),
        format!("redis://{ALICE}:{ALICE_PASSWORD}@127.0.0.1:1/0"),
        format!("rediss://{ALICE}:{ALICE_PASSWORD}@127.0.0.1:1"),
        format!("redis://{PASSWORD}@127.0.0.1:1"),
        // A password with `@` in it, percent-encoded as it must be.
        format!("redis://{ALICE}:{PINGER_PASSWORD}%40x@127.0.0.1:1"),
    ];
    for url in &urls {
        let builder = Cache::builder()
            .redis_url(url)
            .redis_password(WRONG)
            .connect_timeout(Duration::from_millis(100));
        let debug = format!("{builder:?}");
        assert_no_secret(url, &debug);
        assert!(debug.contains("***"), "{debug}");
        let cache = builder.build_lazy().unwrap();
        assert_no_secret(url, &format!("{cache:?}"));
    }
}

/// A URL that does not parse is a configuration error that names the problem without the
/// password, even when the password is what breaks the parse; passwords in a unix-socket
/// URL's query (`?pass=`) are redacted too. Every leak is listed before the test fails.
#[tokio::test]
async fn malformed_urls_never_show_the_password() {
    let urls = [
        // An unencoded `/` in the password ends the authority early.
        format!("redis://{ALICE}:{ALICE_PASSWORD}/x@127.0.0.1:1"),
        // An unencoded `?` or `#` in the password.
        format!("redis://{ALICE}:{ALICE_PASSWORD}?x@127.0.0.1:1"),
        format!("redis://{ALICE}:{ALICE_PASSWORD}#x@127.0.0.1:1"),
        // A password with a space.
        format!("redis://{ALICE}:{ALICE_PASSWORD} x@127.0.0.1:1"),
        // No host after the userinfo.
        format!("redis://{ALICE}:{ALICE_PASSWORD}@"),
        // A unix socket with the password in the query.
        format!("redis+unix:///tmp/cache-tests-no-such.sock?pass={PASSWORD}"),
        format!("unix:///tmp/cache-tests-no-such.sock?db=1&pass={PASSWORD}"),
    ];
    let mut leaks = Vec::new();
    for url in &urls {
        let builder = Cache::builder()
            .redis_url(url)
            .connect_timeout(Duration::from_millis(200));
        let mut shown = vec![("Debug of the builder", format!("{builder:?}"))];
        let (result, logs) = capture_logs(build(url, builder.clone())).await;
        shown.push(("log output", logs));
        match result {
            Err(err) => {
                shown.push(("the error", err.to_string()));
                shown.push(("Debug of the error", format!("{err:?}")));
            }
            Ok(cache) => shown.push(("Debug of the cache", format!("{cache:?}"))),
        }
        let (required, logs) = capture_logs(build(url, builder.require_redis(true))).await;
        shown.push(("log output, require_redis", logs));
        if let Err(err) = required {
            shown.push(("the error, require_redis", err.to_string()));
        }
        for (place, text) in shown {
            if [PASSWORD, ALICE_PASSWORD].iter().any(|p| text.contains(p)) {
                leaks.push(format!("{url}: {place}: {text}"));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
