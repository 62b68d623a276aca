//! 4 OS processes × 50 concurrent callers on one cold key with `lock = true`: the body runs
//! once in all of them (counted in Redis), and every caller gets its value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Stdio};

use cache_tests::redis_server::RedisServer;
use redis::AsyncCommands;

#[tokio::test]
async fn one_body_across_four_processes() {
    let server = RedisServer::start();
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_stampede"))
                .arg("50")
                .env("REDIS_URL", server.url())
                .env_remove("CACHE_PREFIX")
                .stdout(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(stdout.contains("50 callers got [1]"), "{stdout}");
    }
    let mut raw = server.raw().await;
    let runs: u64 = raw.get("stampede-example:runs").await.unwrap();
    assert_eq!(runs, 1, "the body ran once across the four processes");
}
