//! Redis up but unhelpful: full (`maxmemory` with `noeviction`), holding garbage under a
//! cached key, and a value too large to cache.

use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_runtime::{cached, key_for, Cache, CircuitState, Stats};
use cache_tests::redis_server::RedisServer;
// Incompressible bytes (a xorshift stream), so compression cannot bring them under the limit.
use cache_tests::suite::compression::noise;
use redis::aio::MultiplexedConnection;

use super::load::{bound, expected, print_latencies, print_stats, value, Load};

const OP_TIMEOUT: Duration = Duration::from_millis(250);

/// `INFO memory` field `name`, in bytes.
async fn info_memory(raw: &mut MultiplexedConnection, name: &str) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(raw)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in INFO memory: {info}"))
}

/// A raw `SET key value`; `Err` with the server's message when refused.
async fn raw_set(raw: &mut MultiplexedConnection, key: &str, value: &[u8]) -> Result<(), String> {
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query_async::<()>(raw)
        .await
        .map_err(|e| e.to_string())
}

/// Raw `EXISTS key`.
async fn raw_exists(raw: &mut MultiplexedConnection, key: &str) -> bool {
    redis::cmd("EXISTS")
        .arg(key)
        .query_async::<u64>(raw)
        .await
        .unwrap()
        == 1
}

/// Calls `value(id)` once for every id from `tasks` concurrent tasks; returns the sorted
/// latencies after checking every value.
async fn call_all(cache: &Cache, runs: &Arc<AtomicU64>, ids: &[u64], tasks: u64) -> Vec<Duration> {
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let (cache, runs, ids) = (cache.clone(), runs.clone(), ids.to_vec());
            tokio::spawn(async move {
                let mut took = Vec::new();
                // Each task walks the ids from its own offset, so callers of one id overlap.
                for &id in ids.iter().cycle().skip(task as usize).take(ids.len()) {
                    let t = Instant::now();
                    assert_eq!(value(id, &cache, &runs).await, expected(id), "id {id}");
                    took.push(t.elapsed());
                }
                took
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all.sort();
    all
}

/// Redis full with `maxmemory-policy noeviction`: reads still hit, and every miss runs its
/// body and returns its value; the refused fill lease (`OOM`) is counted as a write error,
/// exactly one per body run; `OOM` replies never open the circuit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_full_with_noeviction() {
    let server = RedisServer::start_kind(
        crate::KIND,
        &["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"],
    );
    let mut raw = server.raw().await;
    let cache = Cache::builder()
        .redis_url(server.url())
        .prefix("faults.full")
        .operation_timeout(OP_TIMEOUT)
        .l1(false)
        .build()
        .await
        .unwrap();
    let runs = Arc::new(AtomicU64::new(0));
    let cached_ids: Vec<u64> = (0..32).collect();
    call_all(&cache, &runs, &cached_ids, 1).await;
    assert_eq!(runs.load(SeqCst), 32);
    assert_eq!(cache.stats().writes, 32);

    // Fill it with raw SETs of 32 KiB until the server refuses them.
    let big = vec![b'x'; 32 << 10];
    let mut accepted = 0;
    let refusal = loop {
        match raw_set(&mut raw, &format!("filler:{accepted}"), &big).await {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
        assert!(accepted < 1000, "2 MB of maxmemory took 32 MB of values");
    };
    assert!(refusal.contains("OOM"), "{refusal}");
    let used = info_memory(&mut raw, "used_memory").await;
    println!("full: {accepted} raw SETs of 32 KiB accepted, then {refusal:?}; used_memory {used}");
    // Freeing the refused command's 32 KiB argument brings the server just under the limit
    // again. Lower the limit by 256 KiB below what is used, so buffer churn cannot make room.
    let () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory")
        .arg(used - (256 << 10))
        .query_async(&mut raw)
        .await
        .unwrap();
    let refused = raw_set(&mut raw, "probe", b"x").await.unwrap_err();
    assert!(refused.contains("OOM"), "{refused}");

    // Entries cached before: still hits, from concurrent callers.
    let before = cache.stats();
    let hits = call_all(&cache, &runs, &cached_ids, 16).await;
    print_latencies("full: hits", &hits, bound(OP_TIMEOUT));
    let after_hits = cache.stats();
    assert_eq!(runs.load(SeqCst), 32, "no body ran for cached ids");
    assert_eq!(after_hits.hits - before.hits, 16 * 32);
    assert_eq!(after_hits.errors, before.errors);

    // New ids: every call returns its value; each body run paid exactly one refused lease.
    let load = Load::start(&cache, 16, 1000, 64, bound(OP_TIMEOUT));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let report = load.finish().await;
    let ran = report.runs;
    let end = cache.stats();
    print_stats("full: end", &end);
    report.check("full: misses");
    let d = |f: fn(&Stats) -> u64| f(&end) - f(&after_hits);
    assert!(ran > 0);
    assert_eq!(d(|s| s.write_errors), ran, "one refused lease per body run");
    assert_eq!(
        d(|s| s.errors),
        ran,
        "the refused leases are the only errors"
    );
    assert_eq!(d(|s| s.writes), 0);
    assert_eq!((end.circuit, end.circuit_opened), (CircuitState::Closed, 0));
    assert_eq!(end.timeouts, 0);
    for id in 1000..1064 {
        let key = key_for::<u64>("faults.value", 1, &(id,)).unwrap();
        assert!(!raw_exists(&mut raw, &format!("faults.full:{key}")).await);
    }
    // The GET before each refused lease found nothing: a miss.
    assert_eq!(d(|s| s.misses), ran, "each body run followed a miss");
}

#[cached(namespace = "faults.text", cache = cache, skip(cache, runs))]
async fn text(id: u64, cache: &Cache, runs: &AtomicU64) -> String {
    runs.fetch_add(1, SeqCst);
    tokio::time::sleep(Duration::from_millis(20)).await;
    format!("text {id}")
}

/// Replaces whatever `redis_key` holds with `bytes`, or with a Redis list for `None`.
async fn plant(raw: &mut MultiplexedConnection, redis_key: &str, bytes: Option<&[u8]>) {
    let cmd = match bytes {
        Some(bytes) => {
            let mut cmd = redis::cmd("SET");
            cmd.arg(redis_key).arg(bytes);
            cmd
        }
        None => {
            let mut cmd = redis::cmd("RPUSH");
            cmd.arg(redis_key).arg("a").arg("b");
            cmd
        }
    };
    let () = redis::cmd("DEL")
        .arg(redis_key)
        .query_async(raw)
        .await
        .map(|_: u64| ())
        .unwrap();
    let _: redis::Value = cmd.query_async(raw).await.unwrap();
}

/// The process's peak resident set (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmHWM in /proc/self/status"))
}

/// What a `#[cached]` key may hold that the cache did not write. Beyond
/// `redis_only::foreign_bytes_are_misses_and_deleted` (garbage, truncation, format version 2,
/// flags, magic, JSON, a 2^40 length): format version 9, a value of another Rust type and a
/// forged 1 GiB length prefix. Each is a miss, deleted, and counted once in
/// `decode_errors`, also when 16 callers read it at once; the 1 GiB prefix allocates
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_garbage_is_a_miss_deleted_and_counted() {
    garbage_cases(false).await;
}

/// A Redis list (another Redis type) under a `#[cached]` key: like garbage, a miss, deleted
/// and counted once, rather than a `WRONGTYPE` error on every read for as long as it stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_redis_type_under_a_cached_key() {
    garbage_cases(true).await;
}

async fn garbage_cases(list: bool) {
    let server = RedisServer::start_kind(crate::KIND, &[]);
    let mut raw = server.raw().await;
    let cache = Cache::builder()
        .redis_url(server.url())
        .prefix("faults.garbage")
        .l1(false)
        .build()
        .await
        .unwrap();
    let runs = Arc::new(AtomicU64::new(0));
    assert_eq!(text(1, &cache, &runs).await, "text 1");
    let key = key_for::<String>("faults.text", 1, &(1u64,)).unwrap();
    let redis_key = format!("faults.garbage:{key}");
    let good: Vec<u8> = redis::cmd("GET")
        .arg(&redis_key)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(good[..2], [0xCA, 1], "{good:?}");

    cache.set("a bool", &true, None).await.unwrap();
    let other_type: Vec<u8> = redis::cmd("GET")
        .arg("faults.garbage:a bool")
        .query_async(&mut raw)
        .await
        .unwrap();
    let mut future = good.clone();
    future[1] = 9;
    let mut gib = good[..12].to_vec();
    gib.push(252); // bincode varint: a u32 follows
    gib.extend_from_slice(&(1u32 << 30).to_le_bytes());
    gib.extend_from_slice(b"only a few bytes follow");
    let cases: Vec<(&str, Option<Vec<u8>>)> = vec![
        (
            "corrupt bytes",
            Some(vec![0xCA, 1, 0xFF, 0x13, 0x37, 0, 42]),
        ),
        ("truncated entry", Some(good[..good.len() - 3].to_vec())),
        ("format version 9", Some(future)),
        ("a value of another type", Some(other_type)),
        ("forged 1 GiB length", Some(gib)),
    ];
    let cases = if list {
        vec![("a Redis list", None)]
    } else {
        cases
    };
    let peak_before = peak_rss_kib();
    let mut latencies = Vec::new();
    for (name, bytes) in cases {
        // The manual API: a miss, deleted, counted once.
        plant(&mut raw, &redis_key, bytes.as_deref()).await;
        let before = cache.stats();
        let t = Instant::now();
        let got = cache.get::<String>(&key).await;
        let took = t.elapsed();
        let after = cache.stats();
        println!("garbage: {name}: get took {took:?}");
        assert!(matches!(got, Ok(None)), "{name}: {got:?}");
        assert!(took < Duration::from_secs(1), "{name}: get took {took:?}");
        assert_eq!(after.decode_errors - before.decode_errors, 1, "{name}");
        assert_eq!(after.misses - before.misses, 1, "{name}");
        assert_eq!(after.errors, before.errors, "{name}: {after:?}");
        assert!(
            !raw_exists(&mut raw, &redis_key).await,
            "{name}: not deleted"
        );

        // 16 concurrent #[cached] callers: one decode error, one body run, the body's value.
        plant(&mut raw, &redis_key, bytes.as_deref()).await;
        let (before, ran) = (cache.stats(), runs.load(SeqCst));
        let callers: Vec<_> = (0..16)
            .map(|_| {
                let (cache, runs) = (cache.clone(), runs.clone());
                tokio::spawn(async move {
                    let t = Instant::now();
                    let got = text(1, &cache, &runs).await;
                    (got, t.elapsed())
                })
            })
            .collect();
        for caller in callers {
            let (got, took) = caller.await.unwrap();
            assert_eq!(got, "text 1", "{name}");
            latencies.push(took);
        }
        let after = cache.stats();
        assert_eq!(after.decode_errors - before.decode_errors, 1, "{name}");
        assert_eq!(runs.load(SeqCst) - ran, 1, "{name}: the body ran once");
        assert_eq!(after.errors, before.errors, "{name}: {after:?}");
        assert_eq!(
            cache.get::<String>(&key).await.unwrap().as_deref(),
            Some("text 1"),
            "{name}: the body's value replaced the garbage"
        );
    }
    latencies.sort();
    print_latencies("garbage: cached calls", &latencies, Duration::from_secs(1));
    let grown = peak_rss_kib().saturating_sub(peak_before);
    println!("garbage: peak RSS grew by {grown} KiB");
    assert!(grown < 256 << 10, "peak RSS grew by {grown} KiB");
}

#[cached(namespace = "faults.blob", cache = cache, skip(cache, runs))]
async fn blob(len: usize, cache: &Cache, runs: &AtomicU64) -> Vec<u8> {
    runs.fetch_add(1, SeqCst);
    noise(len)
}

/// A `#[cached]` value above `max_value_bytes` on Redis: returned unchanged, not stored
/// (raw EXISTS 0: neither value nor fill lease left behind), counted once in `oversized`.
#[tokio::test]
async fn oversized_value_is_returned_not_stored() {
    let server = RedisServer::start_kind(crate::KIND, &[]);
    let mut raw = server.raw().await;
    let cache = Cache::builder()
        .redis_url(server.url())
        .prefix("faults.big")
        .max_value_bytes(1024)
        .build()
        .await
        .unwrap();
    let runs = AtomicU64::new(0);
    let t = Instant::now();
    assert_eq!(blob(4096, &cache, &runs).await, noise(4096));
    println!("oversized: the call took {:?}", t.elapsed());
    let stats = cache.stats();
    assert_eq!(stats.oversized, 1, "{stats:?}");
    assert_eq!((stats.writes, stats.errors), (0, 0), "{stats:?}");
    let key = key_for::<Vec<u8>>("faults.blob", 1, &(4096usize,)).unwrap();
    assert!(!raw_exists(&mut raw, &format!("faults.big:{key}")).await);

    // A value under the limit from the same fn is cached as usual.
    assert_eq!(blob(100, &cache, &runs).await, noise(100));
    assert_eq!(blob(100, &cache, &runs).await, noise(100));
    assert_eq!(runs.load(SeqCst), 2);
    assert_eq!(cache.stats().oversized, 1);
}

#[cached(namespace = "faults.locked", cache = cache, skip(cache, runs), lock = true)]
async fn locked(id: u64, cache: &Cache, runs: &AtomicU64) -> String {
    runs.fetch_add(1, SeqCst);
    format!("locked {id}")
}

/// Raw `GET key` of a key that holds a string.
async fn raw_get(raw: &mut MultiplexedConnection, key: &str) -> Vec<u8> {
    redis::cmd("GET").arg(key).query_async(raw).await.unwrap()
}

/// Raw `PTTL key`.
async fn raw_pttl(raw: &mut MultiplexedConnection, key: &str) -> i64 {
    redis::cmd("PTTL").arg(key).query_async(raw).await.unwrap()
}

/// A well-formed fill lease: its head, then 48 lowercase hex digits.
fn lease_shaped() -> Vec<u8> {
    let mut bytes = b"\xCBcache-lease:".to_vec();
    bytes.extend_from_slice(&[b'7'; 48]);
    bytes
}

/// Values that look like a fill lease (first byte 0xCB) but were written by something else,
/// without a TTL, under a `lock = true` fn's key: each is foreign, hence unreadable. The
/// next call runs the body once, counts one decode error, waits for no lease (nothing is
/// coalesced) and stores its value in place (an envelope with a TTL), which the call after
/// hits. The manual API sees a value (`exists`), reads a miss and deletes it. A lease of the
/// same shape *with* a TTL is still another caller's fill: the call computes and leaves it.
#[tokio::test]
async fn lease_shaped_values_without_ttl_are_foreign() {
    let server = RedisServer::start_kind(crate::KIND, &[]);
    let mut raw = server.raw().await;
    let cache = Cache::builder()
        .redis_url(server.url())
        .prefix("faults.lease")
        .lock_wait(Duration::from_millis(300))
        .l1(false)
        .build()
        .await
        .unwrap();
    let runs = AtomicU64::new(0);
    let key = key_for::<String>("faults.locked", 1, &(1u64,)).unwrap();
    let redis_key = format!("faults.lease:{key}");
    let mut old_format = vec![0xCB, 1];
    old_format.extend_from_slice(&[9; 24]);
    let cases: [(&str, Vec<u8>); 4] = [
        ("0xCB alone", vec![0xCB]),
        ("0xCB and text", b"\xCBhello".to_vec()),
        ("26 bytes like the older lease format", old_format),
        ("a well-formed lease without a TTL", lease_shaped()),
    ];
    for (name, bytes) in cases {
        plant(&mut raw, &redis_key, Some(&bytes)).await;
        assert_eq!(raw_pttl(&mut raw, &redis_key).await, -1, "{name}");
        let (before, ran) = (cache.stats(), runs.load(SeqCst));
        assert_eq!(locked(1, &cache, &runs).await, "locked 1", "{name}");
        let after = cache.stats();
        assert_eq!(runs.load(SeqCst) - ran, 1, "{name}: the body ran once");
        assert_eq!(after.decode_errors - before.decode_errors, 1, "{name}");
        assert_eq!(
            after.coalesced, before.coalesced,
            "{name}: waited for a lease"
        );
        assert_eq!(after.writes - before.writes, 1, "{name}: nothing stored");
        let stored = raw_get(&mut raw, &redis_key).await;
        assert_eq!(stored[..2], [0xCA, 1], "{name}: the key holds {stored:?}");
        assert!(raw_pttl(&mut raw, &redis_key).await > 0, "{name}");
        assert_eq!(locked(1, &cache, &runs).await, "locked 1", "{name}");
        assert_eq!(
            runs.load(SeqCst) - ran,
            1,
            "{name}: the stored value was not a hit"
        );

        plant(&mut raw, &redis_key, Some(&bytes)).await;
        assert!(cache.exists(&key).await.unwrap(), "{name}: exists");
        let before = cache.stats();
        assert_eq!(cache.get::<String>(&key).await.unwrap(), None, "{name}");
        assert_eq!(cache.stats().decode_errors - before.decode_errors, 1);
        assert!(
            !raw_exists(&mut raw, &redis_key).await,
            "{name}: not deleted"
        );
    }

    // The same bytes with a TTL: another caller's lease, honoured.
    let () = redis::cmd("SET")
        .arg(&redis_key)
        .arg(lease_shaped())
        .arg("PX")
        .arg(60_000)
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!(
        !cache.exists(&key).await.unwrap(),
        "a live lease is no value"
    );
    let (before, ran) = (cache.stats(), runs.load(SeqCst));
    assert_eq!(locked(1, &cache, &runs).await, "locked 1");
    assert_eq!(runs.load(SeqCst) - ran, 1);
    let after = cache.stats();
    assert_eq!(after.decode_errors, before.decode_errors);
    assert_eq!(
        after.writes, before.writes,
        "stored over another caller's lease"
    );
    let held = raw_get(&mut raw, &redis_key).await;
    assert_eq!(held, lease_shaped());
}
