//! Scenario 9, the physical limit on this machine: `redis-benchmark -t get -c 50` against
//! the same server, without and with `-P 16` pipelining, reading a key that holds a value of
//! the stored `User`'s size. In the pinned child it inherits the CPU pinning, so it shares
//! CPU 0 with the server, as the libraries do.

use std::process::Command;

use cache_bench::{by_hand, user};
use cache_tests::redis_server::RedisServer;

use crate::env::{Env, HOT_ID};
use crate::measure::{line, Results};

/// Runs redis-benchmark; returns (requests per second, p50 in ms) from its CSV output.
fn bench(server: &RedisServer, requests: u64, pipeline: u32) -> (f64, f64) {
    let output = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &server.port().to_string()])
        .args(["-t", "get", "-c", "50", "-n", &requests.to_string()])
        .args(["-P", &pipeline.to_string(), "--csv"])
        .output()
        .expect("redis-benchmark (apt-get install redis-tools)");
    let text = String::from_utf8_lossy(&output.stdout);
    let row = text
        .lines()
        .find(|l| l.starts_with("\"GET\""))
        .unwrap_or_else(|| panic!("no GET row in redis-benchmark output: {text}"));
    let fields: Vec<f64> = row
        .split(',')
        .skip(1)
        .filter_map(|f| f.trim_matches('"').parse().ok())
        .collect();
    (fields[0], fields.get(3).copied().unwrap_or(f64::NAN))
}

pub fn run(env: &Env, server: &RedisServer, out: &mut Results) {
    println!("reference: redis-benchmark -t get -c 50 (same server)");
    // redis-benchmark reads the literal key `key:__rand_int__` (no -r): give it a value of
    // the size the cache stores for the hot row.
    let mut conn = server.client().get_connection().expect("a connection");
    let bytes = by_hand::encode(&user(HOT_ID));
    let () = redis::cmd("SET")
        .arg("key:__rand_int__")
        .arg(&bytes)
        .query(&mut conn)
        .expect("SET");
    let (rps, p50) = bench(server, env.pick(60_000, 300_000), 1);
    let (rps_p, p50_p) = bench(server, env.pick(400_000, 2_000_000), 16);
    out.set("ref.get_c50.rps", rps);
    out.set("ref.get_c50.p50_ms", p50);
    out.set("ref.get_c50_p16.rps", rps_p);
    out.set("ref.get_c50_p16.p50_ms", p50_p);
    line(
        "redis-benchmark GET -c 50",
        &format!("{:.0} k rps", rps / 1000.0),
        &format!("p50 {p50:.3} ms ({} byte value)", bytes.len()),
    );
    line(
        "redis-benchmark GET -c 50 -P 16",
        &format!("{:.0} k rps", rps_p / 1000.0),
        &format!("p50 {p50_p:.3} ms"),
    );
}
