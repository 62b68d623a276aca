//! A real `redis-server` process on a free loopback port, killed when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The message a test fails with when `redis-server` is not installed.
pub const INSTALL_HINT: &str =
    "redis-server was not found on PATH. The integration tests start their own \
     redis-server processes and never skip: install it with `apt-get install redis-server` \
     (Debian/Ubuntu), `dnf install redis` (Fedora) or `brew install redis` (macOS)";

/// A running `redis-server` child process with no persistence.
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts a server with no extra arguments.
    pub fn start() -> RedisServer {
        Self::start_with(&[])
    }

    /// Starts a server with extra `redis-server` arguments (e.g. `["--requirepass", "pw"]`).
    ///
    /// Panics with [`INSTALL_HINT`] when `redis-server` is missing.
    pub fn start_with(extra: &[&str]) -> RedisServer {
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = free_port();
            match Self::try_start(port, extra) {
                Ok(server) => return server,
                Err(e) => last_err = e,
            }
        }
        panic!("could not start redis-server: {last_err}");
    }

    fn try_start(port: u16, extra: &[&str]) -> Result<RedisServer, String> {
        let dir =
            std::env::temp_dir().join(format!("cache-tests-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(&dir)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!("{INSTALL_HINT}"),
            Err(e) => return Err(format!("spawning redis-server: {e}")),
        };
        let mut server = RedisServer { child, port, dir };
        // Wait for *this* process to report that it serves. A PING alone could be answered by
        // another test's server that won a race for the same free port while ours failed to
        // bind; the "Ready to accept connections" line comes from our own stdout.
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        if let Some(stdout) = server.child.stdout.take() {
            std::thread::spawn(move || {
                let mut log = String::new();
                let mut ready_tx = Some(ready_tx);
                // Keep reading after "ready" so the pipe never fills up.
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(tx) = &ready_tx {
                        if line.contains("Ready to accept connections") {
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
        if let Some(stderr) = server.child.stderr.take() {
            std::thread::spawn(
                move || for _ in BufReader::new(stderr).lines().map_while(Result::ok) {},
            );
        }
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) if server.answers_ping() => Ok(server),
            Ok(Ok(())) => Err(format!(
                "redis-server on port {port} is ready but does not answer"
            )),
            Ok(Err(log)) => {
                let status = server
                    .child
                    .wait()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                Err(format!(
                    "redis-server on port {port} exited ({status}): {log}"
                ))
            }
            Err(_) => Err(format!(
                "redis-server on port {port} was not ready within 10 s"
            )),
        }
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
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
        self.signal("STOP");
    }

    /// Continues a [`pause`](RedisServer::pause)d process (`SIGCONT`).
    pub fn resume(&self) {
        self.signal("CONT");
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
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}
