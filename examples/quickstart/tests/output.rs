//! The quickstart prints one miss, then one hit, then a miss for another argument: on the
//! embedded default and on Redis.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cache_tests::redis_server::RedisServer;

fn run_quickstart(redis_url: Option<&str>) -> String {
    cache_tests::example::run(env!("CARGO_BIN_EXE_cache-quickstart"), redis_url)
}

fn outcomes(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| l.starts_with("greeting("))
        .map(|l| {
            let (call, rest) = l.split_once(": ").unwrap();
            let outcome = rest.split_whitespace().next().unwrap();
            format!("{call}: {outcome}")
        })
        .collect()
}

const EXPECTED: [&str; 3] = [
    "greeting(\"Ada\") -> \"Hello, Ada!\": miss",
    "greeting(\"Ada\") -> \"Hello, Ada!\": hit",
    "greeting(\"Grace\") -> \"Hello, Grace!\": miss",
];

#[test]
fn quickstart_on_the_embedded_default() {
    let stdout = run_quickstart(None);
    assert!(stdout.contains("cache backend: memory"), "{stdout}");
    assert_eq!(outcomes(&stdout), EXPECTED, "{stdout}");
    assert!(
        stdout.contains("stats: 1 hits, 2 misses, 0 errors"),
        "{stdout}"
    );
}

#[test]
fn quickstart_on_redis() {
    let server = RedisServer::start();
    for _ in 0..2 {
        // Twice: the second run finds the first run's entries and still starts clean.
        let stdout = run_quickstart(Some(&server.url()));
        assert!(stdout.contains("cache backend: redis"), "{stdout}");
        assert_eq!(outcomes(&stdout), EXPECTED, "{stdout}");
    }
}
