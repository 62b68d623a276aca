//! Which server the tests start, Redis or Valkey, and where its binaries are.
//!
//! Redis is `redis-server` and `redis-cli` on `PATH`. Valkey is found, in this order, at
//! `$VALKEY_SERVER`, as `valkey-server` on `PATH`, or in the build `.ci/valkey.sh` leaves in
//! the target directory (`target/valkey/bin/`); it must be 8.1 or later, the first
//! release with `SET .. IFEQ`. A server that cannot be found fails the test with the command
//! that provides it: the tests never skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::redis_server::INSTALL_HINT;

/// The oldest Valkey the tests accept: the first with `SET key value IFEQ expected`.
pub const VALKEY_MIN: (u32, u32) = (8, 1);

/// Where `.ci/valkey.sh` installs its build, under the target directory.
pub const VALKEY_BUILD_DIR: &str = "valkey/bin";

/// A server implementation the tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerKind {
    /// `redis-server` (Redis 7.0 on Debian bookworm).
    Redis,
    /// `valkey-server` 8.1 or later.
    Valkey,
}

impl ServerKind {
    /// Both kinds, Redis first.
    pub const ALL: [ServerKind; 2] = [ServerKind::Redis, ServerKind::Valkey];

    /// `"redis"` or `"valkey"`.
    pub fn name(self) -> &'static str {
        match self {
            ServerKind::Redis => "redis",
            ServerKind::Valkey => "valkey",
        }
    }

    /// The server binary to run. Panics with the command that provides it when there is
    /// none.
    pub fn server(self) -> &'static Path {
        match self {
            ServerKind::Redis => Path::new("redis-server"),
            ServerKind::Valkey => &valkey().0,
        }
    }

    /// The matching CLI (for `--cluster create`).
    pub fn cli(self) -> &'static Path {
        match self {
            ServerKind::Redis => Path::new("redis-cli"),
            ServerKind::Valkey => &valkey().1,
        }
    }

    /// What to tell a user whose machine lacks the server or its CLI.
    pub fn install_hint(self) -> String {
        match self {
            ServerKind::Redis => INSTALL_HINT.to_owned(),
            ServerKind::Valkey => format!(
                "valkey-cli was not found next to {} nor on PATH: set VALKEY_CLI, or build both \
                 with `bash .ci/valkey.sh`",
                self.server().display()
            ),
        }
    }
}

/// The Valkey server and CLI, found once per test binary.
fn valkey() -> &'static (PathBuf, PathBuf) {
    static FOUND: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    FOUND.get_or_init(|| {
        let server = find_valkey_server().unwrap_or_else(|why| panic!("{why}"));
        let cli = std::env::var_os("VALKEY_CLI")
            .map(PathBuf::from)
            .or_else(|| Some(server.with_file_name("valkey-cli")).filter(|p| p.is_file()))
            .or_else(|| on_path("valkey-cli"))
            .unwrap_or_else(|| PathBuf::from("valkey-cli"));
        (server, cli)
    })
}

/// `$VALKEY_SERVER`, then `valkey-server` on `PATH`, then the target directory's build; the
/// first that is Valkey 8.1 or later. `Err` says what was found and how to get a good one.
fn find_valkey_server() -> Result<PathBuf, String> {
    let how = format!(
        "The Valkey tests start their own valkey-server {}.{} or later (the first with \
         SET .. IFEQ) and never skip: build it with `bash .ci/valkey.sh` (Debian, as root: it \
         adds trixie's deb-src entry, fetches the upstream tarball with `apt-get source \
         --download-only valkey` and builds it into target/{VALKEY_BUILD_DIR}, about 2 \
         minutes on 2 cores), or set VALKEY_SERVER to a valkey-server {}.{}+ binary",
        VALKEY_MIN.0, VALKEY_MIN.1, VALKEY_MIN.0, VALKEY_MIN.1
    );
    if let Some(path) = std::env::var_os("VALKEY_SERVER").map(PathBuf::from) {
        return match version_of(&path) {
            Ok(v) if v >= VALKEY_MIN => Ok(path),
            Ok(v) => Err(format!(
                "VALKEY_SERVER={} is Valkey {}.{}, older than {}.{}. {how}",
                path.display(),
                v.0,
                v.1,
                VALKEY_MIN.0,
                VALKEY_MIN.1
            )),
            Err(e) => Err(format!("VALKEY_SERVER={}: {e}. {how}", path.display())),
        };
    }
    let mut seen = Vec::new();
    let candidates = on_path("valkey-server")
        .into_iter()
        .chain(target_dirs().map(|t| t.join(VALKEY_BUILD_DIR).join("valkey-server")));
    for path in candidates.filter(|p| p.is_file()) {
        match version_of(&path) {
            Ok(v) if v >= VALKEY_MIN => return Ok(path),
            Ok(v) => seen.push(format!("{} is {}.{}", path.display(), v.0, v.1)),
            Err(e) => seen.push(format!("{}: {e}", path.display())),
        }
    }
    let seen = match seen.is_empty() {
        true => "no valkey-server on PATH nor in the target directory".to_owned(),
        false => seen.join("; "),
    };
    Err(format!(
        "valkey-server {}.{}+ not found ({seen}). {how}",
        VALKEY_MIN.0, VALKEY_MIN.1
    ))
}

/// `name` in a directory of `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The directories that may be the target directory: `$CARGO_TARGET_DIR`, then every
/// ancestor of the running binary (`target/debug/deps/NAME` for a test,
/// `target/release/NAME` for a bench binary).
fn target_dirs() -> impl Iterator<Item = PathBuf> {
    let exe = std::env::current_exe().ok();
    let ancestors: Vec<PathBuf> = exe
        .iter()
        .flat_map(|e| e.ancestors().skip(1).map(Path::to_path_buf))
        .collect();
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain(ancestors)
}

/// The `(major, minor)` of `valkey-server --version` ("Valkey server v=8.1.1 sha=…"); an
/// error for another server ("Redis server v=7.0.15 …").
fn version_of(path: &Path) -> Result<(u32, u32), String> {
    let out = Command::new(path)
        .arg("--version")
        .output()
        .map_err(|e| format!("running it: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !text.starts_with("Valkey server ") {
        return Err(format!(
            "not a valkey-server: `--version` says {:?}",
            text.trim()
        ));
    }
    let version = text
        .split_whitespace()
        .find_map(|w| w.strip_prefix("v="))
        .ok_or_else(|| format!("no version in `--version` output {text:?}"))?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>());
    match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => Ok((major, minor)),
        _ => Err(format!("unreadable version {version:?}")),
    }
}
