//! Redis going away under load: killed and restarted, stopped and continued, never started,
//! and a host name that does not resolve.

use std::time::{Duration, Instant};

use cache_runtime::{Cache, CircuitState, Error};
use cache_tests::redis_server::RedisServer;

use super::load::{bound, poll, print_stats, sample_circuit, tally, Load};

const OP_TIMEOUT: Duration = Duration::from_millis(250);

/// Redis killed mid-load and restarted (empty) on the same port 2 s later, under a cache with
/// L1 and the backplane on: every call returns the body's value in bounded time throughout;
/// after the restart the cache uses Redis again (hits grow, the circuit closes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_mid_load() {
    let mut server = RedisServer::start_kind(crate::KIND, &[]);
    let cache = Cache::builder()
        .redis_url(server.url())
        .prefix("faults.kill")
        .operation_timeout(OP_TIMEOUT)
        .build()
        .await
        .unwrap();
    assert!(cache.wait_for_backplane(Duration::from_secs(5)).await);
    let load = Load::start(&cache, 32, 0, 200, bound(OP_TIMEOUT));
    poll(
        &cache,
        Duration::from_secs(10),
        "hits before the kill",
        |s| s.hits > 500,
    )
    .await;
    let before = cache.stats();
    print_stats("kill: before", &before);

    tokio::task::block_in_place(|| server.kill());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let down = cache.stats();
    print_stats("kill: after 2 s down", &down);
    assert!(down.errors > before.errors, "the outage is counted");

    tokio::task::block_in_place(|| server.restart());
    let restarted = cache.stats();
    let recovered = poll(
        &cache,
        Duration::from_secs(10),
        "hits resume and the circuit closes after the restart",
        |s| s.hits > restarted.hits + 200 && s.circuit == CircuitState::Closed,
    )
    .await;
    println!("kill: recovered {recovered:?} after the restart");
    let runs = load.runs();
    let report = load.finish().await;
    let end = cache.stats();
    print_stats("kill: end", &end);
    report.check("kill");
    assert_eq!(end.circuit, CircuitState::Closed);
    assert!(runs > 0);
}

/// Redis stopped (`SIGSTOP`) for 3 s: it accepts connections but answers nothing. No call
/// waits longer than the operation timeout plus the body; the circuit opens (sampled while
/// stopped), timeouts are counted; after `SIGCONT` the circuit closes and hits resume.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_for_three_seconds() {
    let server = RedisServer::start_kind(crate::KIND, &[]);
    let cache = Cache::builder()
        .redis_url(server.url())
        .prefix("faults.stop")
        .operation_timeout(OP_TIMEOUT)
        .l1(false)
        .build()
        .await
        .unwrap();
    let load = Load::start(&cache, 32, 0, 200, bound(OP_TIMEOUT));
    poll(
        &cache,
        Duration::from_secs(10),
        "hits before the stop",
        |s| s.hits > 500,
    )
    .await;
    // Let the warm-up's misses finish: a miss makes up to three operations, and one whose
    // first ones were slow on a busy machine and whose last ran into the stop would take
    // longer than the bound without paying two timeouts (seen once: 503 ms, in a full
    // debug-build run). Calls in flight at the stop are then hits, one operation each.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cache.stats();
    print_stats("stop: before", &before);

    server.pause();
    let samples = sample_circuit(&cache, Duration::from_secs(3)).await;
    server.resume();
    let stopped = cache.stats();
    print_stats("stop: after 3 s stopped", &stopped);
    println!("stop: circuit samples while stopped: {}", tally(&samples));

    let recovered = poll(
        &cache,
        Duration::from_secs(10),
        "hits resume and the circuit closes after SIGCONT",
        |s| s.hits > stopped.hits + 200 && s.circuit == CircuitState::Closed,
    )
    .await;
    println!("stop: recovered {recovered:?} after SIGCONT");
    let report = load.finish().await;
    let end = cache.stats();
    print_stats("stop: end", &end);
    report.check("stop");
    assert!(
        samples.contains(&CircuitState::Open),
        "the circuit was never seen open while Redis was stopped: {}",
        tally(&samples)
    );
    assert!(stopped.circuit_opened > before.circuit_opened);
    assert!(stopped.timeouts > before.timeouts, "{stopped:?}");
    assert!(
        stopped.short_circuited > before.short_circuited,
        "{stopped:?}"
    );
    assert_eq!(end.circuit, CircuitState::Closed);
}

/// A loopback port nobody listens on.
fn unused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// Built fail-open (the default) against `url` where nothing answers: `build()` succeeds at
/// once, calls return the body's value in bounded time, errors are counted and the circuit
/// opens. Returns the cache, still under load.
async fn fail_open_against(name: &str, url: &str) -> (Cache, Load) {
    let started = Instant::now();
    let cache = tokio::time::timeout(
        Duration::from_secs(2),
        Cache::builder()
            .redis_url(url)
            .prefix("faults.absent")
            .operation_timeout(OP_TIMEOUT)
            .build(),
    )
    .await
    .unwrap_or_else(|_| panic!("{name}: build() did not return within 2 s"))
    .unwrap_or_else(|e| panic!("{name}: a fail-open build() must succeed, got {e}"));
    println!("{name}: fail-open build() took {:?}", started.elapsed());
    let load = Load::start(&cache, 16, 0, 100, bound(OP_TIMEOUT));
    poll(
        &cache,
        Duration::from_secs(5),
        "errors counted and the circuit opened",
        |s| s.errors > 0 && s.circuit_opened > 0 && s.short_circuited > 0,
    )
    .await;
    // Keep calling through a few cool-downs (probes that fail).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    (cache, load)
}

/// What `build()` with `require_redis(true)` returns for `url`, within 2 s.
async fn required_build_error(name: &str, url: &str) -> String {
    let started = Instant::now();
    let built = tokio::time::timeout(
        Duration::from_secs(2),
        Cache::builder().redis_url(url).require_redis(true).build(),
    )
    .await
    .unwrap_or_else(|_| panic!("{name}: build() with require_redis hung for 2 s"));
    let err = match built {
        Ok(_) => panic!("{name}: require_redis(true) built a cache without Redis"),
        Err(e) => e,
    };
    println!(
        "{name}: require_redis build() failed after {:?}: {err}",
        started.elapsed()
    );
    assert!(matches!(err, Error::Store(_)), "{name}: {err:?}");
    err.to_string()
}

/// Redis never started: the fail-open cache works without it, and starts using it once a
/// server answers on that port. With `require_redis(true)`, `build()` fails naming the
/// address and the cause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_never_started() {
    let port = unused_port();
    let url = format!("redis://127.0.0.1:{port}");

    let msg = required_build_error("never started", &url).await;
    assert_eq!(
        msg,
        format!(
            "cache store error: Redis at {url} did not answer: Connection refused (os error 111)"
        )
    );

    let (cache, load) = fail_open_against("never started", &url).await;
    let absent = cache.stats();
    print_stats("never started: without a server", &absent);
    // No store hits: callers that waited on another caller's body (single flight, which
    // still works without Redis) count as coalesced hits, and calls served from what this
    // process computed while Redis was away (the outage fallback) as fallback hits.
    assert_eq!(
        absent.hits,
        absent.coalesced + absent.fallback_hits,
        "{absent:?}"
    );
    assert!(absent.fallback_hits > 0, "{absent:?}");
    assert_eq!(absent.l1_hits, 0, "{absent:?}");

    // A server comes up on that port: the same cache starts using it.
    let _server =
        tokio::task::block_in_place(|| RedisServer::start_kind_on(crate::KIND, port, &[]));
    let up = cache.stats();
    let recovered = poll(
        &cache,
        Duration::from_secs(10),
        "hits once a server answers",
        |s| s.hits > up.hits + 200 && s.circuit == CircuitState::Closed,
    )
    .await;
    println!("never started: using Redis {recovered:?} after it started");
    let report = load.finish().await;
    print_stats("never started: end", &cache.stats());
    report.check("never started");
}

/// A host name that does not resolve: like a server that is not there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_host_does_not_resolve() {
    let url = "redis://no-such-host.invalid:6379";
    let msg = required_build_error("unresolvable", url).await;
    assert!(
        msg.starts_with(&format!(
            "cache store error: Redis at {url} did not answer: \
             failed to lookup address information: "
        )),
        "{msg}"
    );

    let (cache, load) = fail_open_against("unresolvable", url).await;
    let report = load.finish().await;
    let end = cache.stats();
    print_stats("unresolvable: end", &end);
    report.check("unresolvable");
    assert_eq!(end.hits, end.coalesced + end.fallback_hits, "{end:?}");
    assert!(end.fallback_hits > 0, "{end:?}");
    assert!(end.errors > 0 && end.circuit_opened > 0);
}

/// An operation that runs out of its timeout while the connection cannot be made names the
/// last connection error the store saw (here the refused port of a killed server, then a
/// stopped one that accepts but never answers), and stops naming it once Redis answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_names_the_last_connection_error() {
    const REFUSED: &str = "Connection refused (os error 111)";
    let mut server = RedisServer::start_kind(crate::KIND, &[]);
    // The operation timeout is what runs out, not a reconnection's own limits.
    let five = Duration::from_secs(5);
    let cache = deadline_cache(&server, "faults.last_error", OP_TIMEOUT, five, five).await;

    tokio::task::block_in_place(|| server.kill());
    // The first operations see the connection drop, then the refused reconnection.
    let seen = errors_until(&cache, |e| e.ends_with(REFUSED)).await;
    assert_eq!(
        seen.last().map(String::as_str),
        Some(format!("cache store error: {REFUSED}").as_str()),
        "{seen:#?}"
    );

    // A server on the port that accepts connections and answers nothing: the reconnection
    // waits, and the operation's error says why the connection was down before.
    tokio::task::block_in_place(|| server.restart());
    server.pause();
    let timed_out = "cache store error: Redis did not answer within 250 ms (operation_timeout)";
    let seen = errors_until(&cache, |e| e.starts_with(timed_out)).await;
    assert_eq!(
        seen.last().map(String::as_str),
        Some(format!("{timed_out}; the last connection error was: {REFUSED}").as_str()),
        "{seen:#?}"
    );

    // Redis answers again: the old error is forgotten, and a later timeout names none.
    server.resume();
    let answered = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(v) = cache.get::<u64>("k").await {
                return v;
            }
        }
    })
    .await
    .expect("no answer within 10 s of SIGCONT");
    assert_eq!(answered, None);
    server.pause();
    let err = cache.get::<u64>("k").await.unwrap_err();
    server.resume();
    assert_eq!(err.to_string(), timed_out);
}

/// A cache on `server` with these deadlines, no circuit breaker and no L1, that has read
/// (nothing) from it once.
async fn deadline_cache(
    server: &RedisServer,
    prefix: &str,
    operation: Duration,
    connect: Duration,
    response: Duration,
) -> Cache {
    let cache = Cache::builder()
        .redis_url(server.url())
        .prefix(prefix)
        .operation_timeout(operation)
        .connect_timeout(connect)
        .response_timeout(response)
        .circuit_threshold(0)
        .l1(false)
        .build()
        .await
        .unwrap();
    assert_eq!(cache.get::<u64>("k").await.unwrap(), None);
    cache
}

/// The errors of up to five failing `get`s in a row, up to the first that `last` accepts.
async fn errors_until(cache: &Cache, last: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let err = cache.get::<u64>("k").await.unwrap_err().to_string();
        let done = last(&err);
        seen.push(err);
        if done {
            break;
        }
    }
    seen
}

/// A reply deadline shorter than the operation deadline still bounds a command (redis-rs keeps
/// it; a longer one is left out, since the operation deadline would always fire first).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shorter_response_timeout_still_bounds_a_command() {
    let server = RedisServer::start_kind(crate::KIND, &[]);
    let (operation, response) = (Duration::from_secs(30), Duration::from_millis(200));
    let connect = Duration::from_millis(250);
    let cache = deadline_cache(
        &server,
        "faults.reply_deadline",
        operation,
        connect,
        response,
    )
    .await;
    server.pause();
    let started = Instant::now();
    let err = cache.get::<u64>("k").await.unwrap_err();
    let took = started.elapsed();
    server.resume();
    // redis-rs names no limit: its connect and reply deadlines both say "timed out".
    assert_eq!(err.to_string(), "cache store error: timed out");
    assert!(took < Duration::from_secs(5), "the get took {took:?}");
}
