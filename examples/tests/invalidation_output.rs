//! The invalidation example prints miss, hit, miss after the update, hit, then a hit after
//! the put and a miss after the tag invalidation: on the embedded default and on Redis.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cache_tests::redis_server::RedisServer;

fn run(redis_url: Option<&str>) -> Vec<String> {
    let stdout = cache_tests::example::run(env!("CARGO_BIN_EXE_invalidation"), redis_url);
    stdout
        .lines()
        .filter(|l| l.contains("get_user(1)"))
        .map(|l| {
            let mut words = l.split(" get_user(1) -> ");
            let label = words.next().unwrap().trim().to_owned();
            let rest: Vec<&str> = words.next().unwrap().split_whitespace().collect();
            format!("{label}: {} {}", rest[0], rest[1])
        })
        .collect()
}

const EXPECTED: [&str; 6] = [
    "first read: Ada miss",
    "second read: Ada hit",
    "after rename_user: Grace miss",
    "again: Grace hit",
    "after set_name (put): Hedy hit",
    "after invalidate_tag: Hedy miss",
];

#[test]
fn invalidation_on_the_embedded_default() {
    assert_eq!(run(None), EXPECTED);
}

#[test]
fn invalidation_on_redis() {
    let server = RedisServer::start();
    assert_eq!(run(Some(&server.url())), EXPECTED);
}
