//! Backplane propagation between two OS processes on one real redis-server: process A (the
//! `replicas reader` example) serves a value from its L1; this process (B) changes the row
//! and invalidates; we measure from B's invalidate returning to A serving the new value.
//!
//! Run with `--nocapture` to see the figures:
//! `cargo test -p cache-examples --test backplane_latency -- --nocapture`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cache_runtime::{key_for, Cache};
use cache_tests::redis_server::RedisServer;
use redis::AsyncCommands;

const ROUNDS: usize = 200;

fn unix_nanos() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_reaches_another_process() {
    let server = RedisServer::start();
    let mut reader = Command::new(env!("CARGO_BIN_EXE_replicas"))
        .args(["reader", &ROUNDS.to_string()])
        .env("REDIS_URL", server.url())
        .env_remove("CACHE_PREFIX")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Lines arrive through a channel so that a missing one fails the test instead of hanging.
    let stdout = reader.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        lines
            .recv_timeout(Duration::from_secs(5))
            .expect("process A did not report within 5 s")
    };
    assert_eq!(next(), "ready");

    let cache = Cache::builder()
        .redis_url(server.url())
        .l1(false)
        .build()
        .await
        .unwrap();
    let key = key_for::<u64>("replicas.price", 1, &()).unwrap();
    let mut db = server.raw().await;
    let mut latencies = Vec::with_capacity(ROUNDS);
    for round in 1..=ROUNDS {
        // Let A settle: its next reads are L1 hits of the previous value.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let _: () = db.set("replicas-example:price", round).await.unwrap();
        cache.invalidate_key(&key).await.unwrap();
        let invalidated = unix_nanos();
        let line = tokio::task::block_in_place(next);
        let mut words = line.split_whitespace();
        assert_eq!(words.next(), Some("seen"), "{line}");
        assert_eq!(words.next(), Some(round.to_string().as_str()), "{line}");
        let seen: i128 = words.next().unwrap().parse().unwrap();
        latencies.push(Duration::from_nanos((seen - invalidated).max(0) as u64));
    }
    assert!(reader.wait().unwrap().success());
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    eprintln!(
        "backplane propagation over {ROUNDS} rounds: p50 {:?}, p99 {:?}, max {:?}",
        pct(50),
        pct(99),
        latencies[latencies.len() - 1]
    );
    // A generous bound: every round must propagate, and quickly (loopback).
    assert!(latencies[latencies.len() - 1] < Duration::from_secs(1));
}
