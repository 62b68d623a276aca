//! A real `redis-server` (or `valkey-server`) process on a free loopback port, killed when
//! dropped; fault tests kill, restart, pause and resume it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::kind::ServerKind;

/// The message a test fails with when `redis-server` is not installed.
pub const INSTALL_HINT: &str =
    "redis-server was not found on PATH. The integration tests start their own \
     redis-server processes and never skip: install it with `apt-get install redis-server` \
     (Debian/Ubuntu), `dnf install redis` (Fedora) or `brew install redis` (macOS)";

/// A running `redis-server` (or, [`start_kind`](RedisServer::start_kind)ed with
/// [`ServerKind::Valkey`], `valkey-server`) child process with no persistence.
///
/// Fault tests can [`kill`](RedisServer::kill) it and [`restart`](RedisServer::restart) it on
/// the same port, or [`pause`](RedisServer::pause) and [`resume`](RedisServer::resume) it.
/// Dropping it always kills the process (a paused one too) and waits for it, so no test
/// leaves a `redis-server` behind, even when it panics.
pub struct RedisServer {
    kind: ServerKind,
    child: Child,
    port: u16,
    dir: PathBuf,
    extra: Vec<String>,
    /// Whether the process is stopped (`SIGSTOP`) and not yet continued.
    paused: AtomicBool,
    /// Whether the process was killed and reaped (until [`restart`](RedisServer::restart)).
    dead: bool,
}

impl RedisServer {
    /// Starts a `redis-server` with no extra arguments.
    pub fn start() -> RedisServer {
        Self::start_with(&[])
    }

    /// Starts a `redis-server` with extra arguments (e.g. `["--requirepass", "pw"]`).
    ///
    /// Panics with [`INSTALL_HINT`] when `redis-server` is missing.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        Self::start_kind(ServerKind::Redis, extra)
    }

    /// Starts a server of `kind` with extra arguments (`redis-server` and `valkey-server`
    /// take the same ones).
    ///
    /// Panics with the command that installs the server when it is missing.
    pub fn start_kind(kind: ServerKind, extra: &[&str]) -> RedisServer {
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port();
            match Self::try_start(kind, port, extra) {
                Ok(server) => return server,
                Err(e) => last_err = e,
            }
        }
        panic!("could not start {}: {last_err}", kind.server().display());
    }

    /// Starts a `redis-server` on `port` (one nobody listens on yet, e.g. one a fail-open
    /// cache was built against), retrying the bind for up to 5 s.
    ///
    /// Panics with [`INSTALL_HINT`] when `redis-server` is missing.
    pub fn start_on(port: u16, extra: &[&str]) -> RedisServer {
        Self::start_kind_on(ServerKind::Redis, port, extra)
    }

    /// [`start_on`](RedisServer::start_on) for a server of `kind`.
    pub fn start_kind_on(kind: ServerKind, port: u16, extra: &[&str]) -> RedisServer {
        let extra: Vec<String> = extra.iter().map(|a| (*a).to_owned()).collect();
        let dir = Self::dir_for(port);
        let child = launch_retrying(kind, port, &dir, &extra);
        RedisServer {
            kind,
            child,
            port,
            dir,
            extra,
            paused: AtomicBool::new(false),
            dead: false,
        }
    }

    fn dir_for(port: u16) -> PathBuf {
        std::env::temp_dir().join(format!("cache-tests-redis-{}-{port}", std::process::id()))
    }

    fn try_start(kind: ServerKind, port: u16, extra: &[&str]) -> Result<RedisServer, String> {
        let dir = Self::dir_for(port);
        let extra: Vec<String> = extra.iter().map(|a| (*a).to_owned()).collect();
        let child = launch(kind, port, &dir, &extra)?;
        Ok(RedisServer {
            kind,
            child,
            port,
            dir,
            extra,
            paused: AtomicBool::new(false),
            dead: false,
        })
    }

    /// Kills the process (`SIGKILL`, after a `SIGCONT` if it is paused) and waits until it
    /// is gone: its port is closed and every connection to it is reset. Its data is lost (no
    /// persistence). [`restart`](RedisServer::restart) brings up a fresh one on the same port.
    pub fn kill(&mut self) {
        if self.dead {
            return;
        }
        if self.paused.swap(false, SeqCst) {
            self.signal("CONT");
        }
        let _ = self.child.kill();
        let status = self
            .child
            .wait()
            .unwrap_or_else(|e| panic!("waiting for redis-server {}: {e}", self.child.id()));
        assert!(
            !status.success(),
            "redis-server on port {} exited by itself ({status}) before it was killed",
            self.port
        );
        self.dead = true;
    }

    /// After [`kill`](RedisServer::kill): starts a fresh, empty `redis-server` on the same
    /// port with the same extra arguments, retrying the bind for up to 5 s. Blocks until it
    /// serves (call it from `tokio::task::block_in_place` inside a runtime).
    pub fn restart(&mut self) {
        assert!(
            self.dead,
            "restart() is for a killed server; kill() it first"
        );
        self.child = launch_retrying(self.kind, self.port, &self.dir, &self.extra);
        self.dead = false;
    }

    /// Which server it is.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// Whether the process is running (not killed; a paused one is running).
    pub fn is_running(&self) -> bool {
        !self.dead
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the process (`SIGSTOP`): it keeps its port and accepts connections, but answers
    /// nothing until [`resume`](RedisServer::resume). Dropping a paused server still kills it.
    pub fn pause(&self) {
        assert!(!self.dead, "pause() of a killed redis-server");
        self.signal("STOP");
        self.paused.store(true, SeqCst);
    }

    /// Continues a [`pause`](RedisServer::pause)d process (`SIGCONT`).
    pub fn resume(&self) {
        assert!(!self.dead, "resume() of a killed redis-server");
        self.signal("CONT");
        self.paused.store(false, SeqCst);
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args([format!("-{name}").as_str(), pid.as_str()])
            .status()
            .unwrap_or_else(|e| panic!("kill -{name} {pid}: {e}"));
        assert!(status.success(), "kill -{name} {pid} failed: {status}");
    }

    /// A plain redis-rs client for checking what the cache wrote.
    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).unwrap_or_else(|e| panic!("client for {}: {e}", self.url()))
    }

    /// A multiplexed async connection for raw commands.
    pub async fn raw(&self) -> redis::aio::MultiplexedConnection {
        self.client()
            .get_multiplexed_async_connection()
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.url()))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if !self.dead {
            // SIGKILL ends a stopped process too; continuing it first is belt and braces.
            if self.paused.swap(false, SeqCst) {
                let _ = Command::new("kill")
                    .args(["-CONT", &self.child.id().to_string()])
                    .status();
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts a server of `kind` on `port`, retrying for up to 5 s while the port is still
/// taken (a killed server's port, or a bind race).
fn launch_retrying(kind: ServerKind, port: u16, dir: &Path, extra: &[String]) -> Child {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match launch(kind, port, dir, extra) {
            Ok(child) => return child,
            Err(e) if Instant::now() >= deadline => panic!(
                "could not start {} on port {port} within 5 s: {e}",
                kind.server().display()
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Spawns a server of `kind` on `port` and waits until *this* process reports that it
/// serves.
///
/// Panics with the install command when the server is missing; on any other failure the
/// process is reaped and the reason returned.
fn launch(kind: ServerKind, port: u16, dir: &Path, extra: &[String]) -> Result<Child, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut command = Command::new(kind.server());
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
        .arg("--dir")
        .arg(dir)
        .args(extra);
    let what = format!("{} on port {port}", kind.server().display());
    let mut child = spawn_until_ready(command, &what)?;
    if answers_ping(port) {
        return Ok(child);
    }
    let _ = child.kill();
    let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
    Err(format!("{what} is ready but does not answer ({status})"))
}

/// Spawns a `redis-server` command and waits (10 s at most) until *this* process prints
/// "Ready to accept connections". A connection alone could reach another test's server
/// that won a race for the same free port while ours failed to bind; the line comes from
/// our own stdout. Output is drained for the process's whole life, so its pipes never fill.
///
/// Panics with [`INSTALL_HINT`] when `redis-server` is missing; on any other failure the
/// process is reaped and the reason (`what` and its log) returned.
pub(crate) fn spawn_until_ready(command: Command, what: &str) -> Result<Child, String> {
    spawn_until(command, what, "Ready to accept connections")
}

/// [`spawn_until_ready`], waiting for a line that contains `ready` (a sentinel prints no
/// "Ready to accept connections", but `+monitor master ...` once it watches its master).
pub(crate) fn spawn_until(mut command: Command, what: &str, ready: &str) -> Result<Child, String> {
    let spawned = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!("{INSTALL_HINT}"),
        Err(e) => return Err(format!("spawning redis-server: {e}")),
    };
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
    if let Some(stdout) = child.stdout.take() {
        let ready = ready.to_owned();
        std::thread::spawn(move || {
            let mut log = String::new();
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(tx) = &ready_tx {
                    if line.contains(ready.as_str()) {
                        let _ = tx.send(Ok(()));
                        ready_tx = None;
                    } else {
                        log.push_str(&line);
                        log.push('\n');
                    }
                }
            }
            if let Some(tx) = ready_tx {
                let _ = tx.send(Err(log));
            }
        });
    }
    if let Some(stderr) = child.stderr.take() {
        std::thread::spawn(
            move || for _ in BufReader::new(stderr).lines().map_while(Result::ok) {},
        );
    }
    let why = match ready_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(())) => return Ok(child),
        Ok(Err(log)) => format!("exited: {log}"),
        Err(_) => "was not ready within 10 s".to_owned(),
    };
    let _ = child.kill();
    let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
    Err(format!("{what} {why} ({status})"))
}

fn answers_ping(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    // "+PONG", or "-NOAUTH" when a password is required: either way it is serving.
    matches!(stream.read(&mut buf), Ok(n) if n > 0)
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}
