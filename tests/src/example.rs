//! Running an example binary the way a user would.

use std::process::Command;

/// Runs the binary at `path` with a clean cache environment (no `REDIS_URL`, no
/// `CACHE_PREFIX`), or with `REDIS_URL` set to `redis_url`; returns its standard output.
///
/// Panics, with both outputs, when the program fails.
pub fn run(path: &str, redis_url: Option<&str>) -> String {
    let mut cmd = Command::new(path);
    cmd.env_remove("REDIS_URL").env_remove("CACHE_PREFIX");
    if let Some(url) = redis_url {
        cmd.env("REDIS_URL", url);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {path}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{path} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
