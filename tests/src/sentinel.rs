//! A local Redis Sentinel group: one master, one replica and three sentinels (quorum 2), real
//! `redis-server` (or `valkey-server`) processes on free loopback ports with no
//! persistence, each stopped by its PID when the group is dropped.
//!
//! The sentinels consider the master down after [`DOWN_AFTER_MS`] without an answer, so a
//! killed master is replaced by its replica within a few seconds.

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

use crate::kind::ServerKind;
use crate::redis_server::{free_port, spawn_until, RedisServer};

/// The name the sentinels monitor the master under.
pub const MASTER_NAME: &str = "cachemaster";

/// How long the sentinels wait for an answer before they consider the master down.
pub const DOWN_AFTER_MS: u64 = 1000;

/// How long [`SentinelGroup::start`] waits for the group to be ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running master, replica and three sentinels.
pub struct SentinelGroup {
    kind: ServerKind,
    /// The master first, then the replica (by [`port`](RedisServer::port); after a
    /// failover the replica is the master).
    servers: Vec<RedisServer>,
    sentinels: Vec<Sentinel>,
    dir: PathBuf,
}

struct Sentinel {
    port: u16,
    child: Child,
}

impl SentinelGroup {
    /// A group of Redis servers.
    pub fn start() -> SentinelGroup {
        Self::start_kind(ServerKind::Redis, &[])
    }

    /// A group of servers of `kind`; `extra` are more arguments for the master and the
    /// replica (not the sentinels). Blocks until the replica is in sync and every sentinel
    /// knows the replica and the two other sentinels, so a failover can happen; call it
    /// from `spawn_blocking` (or `block_in_place`) inside a runtime.
    ///
    /// Panics with the install command when the server is missing, and with what is not
    /// ready after 30 s.
    pub fn start_kind(kind: ServerKind, extra: &[&str]) -> SentinelGroup {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cache-tests-sentinel-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        let master = RedisServer::start_kind(kind, extra);
        let master_port = master.port().to_string();
        let mut replica_args = vec!["--replicaof", "127.0.0.1", master_port.as_str()];
        replica_args.extend_from_slice(extra);
        let replica = RedisServer::start_kind(kind, &replica_args);
        let mut group = SentinelGroup {
            kind,
            servers: vec![master, replica],
            sentinels: Vec::new(),
            dir,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        group.wait(deadline, "the replica in sync", |g| {
            let info: String = query(g.servers[1].port(), redis::cmd("INFO").arg("replication"))?;
            Ok(info.contains("master_link_status:up"))
        });
        for _ in 0..3 {
            let sentinel = group.start_sentinel(group.servers[0].port());
            group.sentinels.push(sentinel);
        }
        group.wait(
            deadline,
            "every sentinel knowing the replica and the others",
            |g| {
                for s in &g.sentinels {
                    let replicas: Vec<redis::Value> = query(
                        s.port,
                        redis::cmd("SENTINEL").arg("REPLICAS").arg(MASTER_NAME),
                    )?;
                    let others: Vec<redis::Value> = query(
                        s.port,
                        redis::cmd("SENTINEL").arg("SENTINELS").arg(MASTER_NAME),
                    )?;
                    if replicas.len() != 1 || others.len() != 2 {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        );
        group
    }

    fn start_sentinel(&self, master_port: u16) -> Sentinel {
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port();
            let conf = self.dir.join(format!("sentinel-{port}.conf"));
            let text = format!(
                "port {port}\nbind 127.0.0.1\ndir {dir}\n\
                 sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 2\n\
                 sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}\n\
                 sentinel failover-timeout {MASTER_NAME} 10000\n\
                 sentinel parallel-syncs {MASTER_NAME} 1\n",
                dir = self.dir.display()
            );
            std::fs::write(&conf, text)
                .unwrap_or_else(|e| panic!("writing {}: {e}", conf.display()));
            let mut command = Command::new(self.kind.server());
            command.arg(&conf).arg("--sentinel");
            let what = format!("{} --sentinel on port {port}", self.kind.server().display());
            match spawn_until(command, &what, "+monitor master") {
                Ok(child) => return Sentinel { port, child },
                Err(e) => last = e,
            }
        }
        panic!("could not start a sentinel: {last}");
    }

    /// Polls `ready` every 50 ms until it is true; panics naming `what` at `deadline`.
    fn wait(
        &self,
        deadline: Instant,
        what: &str,
        ready: impl Fn(&SentinelGroup) -> redis::RedisResult<bool>,
    ) {
        loop {
            let why = match ready(self) {
                Ok(true) => return,
                Ok(false) => "not yet".to_owned(),
                Err(e) => e.to_string(),
            };
            assert!(
                Instant::now() < deadline,
                "Redis Sentinel group not ready within {READY_TIMEOUT:?}: waiting for {what} \
                 ({why})"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Which server it is.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// The sentinels, `127.0.0.1:port` each.
    pub fn nodes(&self) -> Vec<String> {
        self.sentinels
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect()
    }

    /// The port of the master the first sentinel that answers names.
    pub fn master_port(&self) -> u16 {
        let mut last = String::new();
        for s in &self.sentinels {
            let cmd = redis::cmd("SENTINEL")
                .arg("GET-MASTER-ADDR-BY-NAME")
                .arg(MASTER_NAME)
                .clone();
            match query::<(String, u16)>(s.port, &cmd) {
                Ok((_, port)) => return port,
                Err(e) => last = e.to_string(),
            }
        }
        panic!("no sentinel names the master: {last}");
    }

    /// The server on `port` (the master or the replica).
    pub fn server(&self, port: u16) -> &RedisServer {
        self.servers
            .iter()
            .find(|s| s.port() == port)
            .unwrap_or_else(|| panic!("no server of the group on port {port}"))
    }

    /// The server the sentinels name as the master.
    pub fn master(&self) -> &RedisServer {
        self.server(self.master_port())
    }

    /// The server the sentinels do not name as the master (the replica, before a
    /// failover).
    pub fn replica(&self) -> &RedisServer {
        let master = self.master_port();
        self.servers
            .iter()
            .find(|s| s.port() != master)
            .unwrap_or_else(|| panic!("no server of the group besides the master {master}"))
    }

    /// Kills the master the sentinels name (`SIGKILL`); returns its port.
    pub fn kill_master(&mut self) -> u16 {
        let port = self.master_port();
        let server = self
            .servers
            .iter_mut()
            .find(|s| s.port() == port)
            .unwrap_or_else(|| panic!("no server of the group on port {port}"));
        server.kill();
        port
    }

    /// Waits until the sentinels name a master other than `old` and it answers `ROLE` as a
    /// master; returns its port. Panics after `limit`.
    pub fn wait_for_new_master(&self, old: u16, limit: Duration) -> u16 {
        let deadline = Instant::now() + limit;
        loop {
            let port = self.master_port();
            if port != old {
                let role: redis::RedisResult<Vec<redis::Value>> = query(port, &redis::cmd("ROLE"));
                if matches!(role.as_deref(), Ok([redis::Value::BulkString(r), ..]) if r == b"master")
                {
                    return port;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the sentinels named no new master within {limit:?} (still {port})"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `cmd` on the server (or sentinel) on `port`, on a connection of its own.
fn query<T: redis::FromRedisValue>(port: u16, cmd: &redis::Cmd) -> redis::RedisResult<T> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let mut conn = client.get_connection_with_timeout(Duration::from_secs(2))?;
    cmd.query(&mut conn)
}

impl Drop for SentinelGroup {
    fn drop(&mut self) {
        for s in &mut self.sentinels {
            let _ = s.child.kill();
            let _ = s.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
