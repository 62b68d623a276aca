//! A local Redis Cluster of real `redis-server` (or `valkey-server`) processes on free
//! loopback ports, with no persistence, killed when dropped.
//!
//! Every node, and the `redis-cli --cluster create` that joins them, runs in one process
//! group led by a small watchdog (`sh`) that blocks reading a pipe from this process. When the
//! test binary exits without dropping the cluster (one kept in a `static OnceLock`, or a
//! crash), the pipe closes and the watchdog kills the whole group and removes the temp dir,
//! so no `redis-server` outlives the tests.

use crate::kind::ServerKind;
use crate::redis_server::{free_port, spawn_until_ready};
use crate::tls::{ClientCerts, TestPki};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// How long [`RedisCluster::start`] waits for every node to agree that the cluster is ok.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A running Redis Cluster: `masters` masters, each with `replicas_per_master` replicas.
///
/// Dropping it kills every node by PID (`SIGKILL`), waits for it and removes the temp dirs.
pub struct RedisCluster {
    kind: ServerKind,
    nodes: Vec<Node>,
    dir: PathBuf,
    watchdog: Child,
    /// Held open for the watchdog: when it closes, the watchdog kills the process group.
    _watchdog_pipe: Option<ChildStdin>,
    /// On a TLS-only cluster ([`RedisCluster::start_tls`]), the certificates its nodes show.
    tls: Option<(TestPki, ClientCerts)>,
}

struct Node {
    addr: String,
    child: Child,
    dead: bool,
}

/// One line of `CLUSTER NODES`, as one node sees the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The node id.
    pub id: String,
    /// `127.0.0.1:port` (without the `@busport`).
    pub addr: String,
    /// Flags such as `myself`, `master`, `slave`, `fail?`, `fail`.
    pub flags: Vec<String>,
    /// For a replica, its master's id.
    pub master_id: Option<String>,
    /// Slot ranges it serves, inclusive (`(0, 5460)`); importing/migrating entries are skipped.
    pub slots: Vec<(u16, u16)>,
}

impl NodeInfo {
    /// Flagged `master`, neither `fail` nor `fail?`, and serving at least one slot.
    pub fn is_serving_master(&self) -> bool {
        let flagged = |f: &str| self.flags.iter().any(|g| g.starts_with(f));
        flagged("master") && !flagged("fail") && !self.slots.is_empty()
    }

    /// How many slots it serves.
    pub fn slot_count(&self) -> usize {
        self.slots.iter().map(|(a, b)| usize::from(b - a) + 1).sum()
    }
}

impl RedisCluster {
    /// One 3-master Redis cluster shared by every test of the calling test binary, started
    /// on first use (its watchdog kills it when the binary exits). On a multi-threaded tokio
    /// runtime it starts the cluster in `block_in_place`; elsewhere it blocks the thread.
    pub fn shared() -> &'static RedisCluster {
        Self::shared_kind(ServerKind::Redis)
    }

    /// [`shared`](RedisCluster::shared), of servers of `kind` (one shared cluster per kind).
    pub fn shared_kind(kind: ServerKind) -> &'static RedisCluster {
        static SHARED: [std::sync::OnceLock<RedisCluster>; 2] =
            [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
        let start = || {
            SHARED[kind as usize].get_or_init(|| {
                let started = std::time::Instant::now();
                let cluster = RedisCluster::start_kind(kind, 3, 0, &[]);
                eprintln!(
                    "3-master {} cluster ready in {:?}",
                    kind.name(),
                    started.elapsed()
                );
                cluster
            })
        };
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(start),
            _ => start(),
        }
    }

    /// Starts `masters` (at least 3) Redis masters with `replicas_per_master` replicas each.
    ///
    /// Panics with the install command when `redis-server` or `redis-cli` is missing, and
    /// with redis-cli's output when the cluster is not ok within 20 s.
    pub fn start(masters: usize, replicas_per_master: usize) -> RedisCluster {
        Self::start_with(masters, replicas_per_master, &[])
    }

    /// [`start`](RedisCluster::start) with extra `redis-server` arguments for every node,
    /// e.g. `["--cluster-node-timeout", "2000"]`.
    pub fn start_with(masters: usize, replicas_per_master: usize, extra: &[&str]) -> RedisCluster {
        Self::start_kind(ServerKind::Redis, masters, replicas_per_master, extra)
    }

    /// [`start_with`](RedisCluster::start_with), with servers of `kind` (joined by its own
    /// CLI).
    pub fn start_kind(
        kind: ServerKind,
        masters: usize,
        replicas_per_master: usize,
        extra: &[&str],
    ) -> RedisCluster {
        Self::start_inner(kind, masters, replicas_per_master, extra, None)
    }

    /// A TLS-only cluster of `masters` masters: every node listens on its TLS port alone
    /// (`--port 0`), with `pki`'s server certificate, not asking clients for one, and the
    /// nodes talk to each other over TLS too (`--tls-cluster yes`). [`urls`](Self::urls)
    /// are `rediss://`; the harness's own queries trust `pki`'s CA.
    pub fn start_tls(masters: usize, pki: TestPki) -> RedisCluster {
        Self::start_tls_asking(masters, pki, ClientCerts::NotAsked)
    }

    /// [`start_tls`](Self::start_tls), with nodes that ask clients for a certificate or
    /// not. The harness's own connections (`redis-cli --cluster create`,
    /// [`query`](Self::query)) always show `pki`'s client certificate.
    pub fn start_tls_asking(masters: usize, pki: TestPki, clients: ClientCerts) -> RedisCluster {
        Self::start_inner(ServerKind::Redis, masters, 0, &[], Some((pki, clients)))
    }

    fn start_inner(
        kind: ServerKind,
        masters: usize,
        replicas_per_master: usize,
        extra: &[&str],
        tls: Option<(TestPki, ClientCerts)>,
    ) -> RedisCluster {
        assert!(
            masters >= 3,
            "a Redis Cluster needs at least 3 masters, not {masters}"
        );
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "cache-tests-cluster-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        // `$0` is the dir; `kill 0` signals the watchdog's own group (every node), itself last.
        let mut watchdog = Command::new("sh")
            .args(["-c", r#"read line; rm -rf "$0"; kill -KILL 0"#])
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning the watchdog shell: {e}"));
        let pipe = watchdog.stdin.take();
        let mut cluster = RedisCluster {
            kind,
            nodes: Vec::new(),
            dir,
            watchdog,
            _watchdog_pipe: pipe,
            tls,
        };
        for _ in 0..masters * (1 + replicas_per_master) {
            let node = cluster.start_node(extra);
            cluster.nodes.push(node);
        }
        let created = cluster.create(replicas_per_master);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match cluster.check_ready(masters, replicas_per_master) {
                Ok(()) => return cluster,
                Err(why) if Instant::now() >= deadline => panic!(
                    "Redis Cluster ({masters} masters, {replicas_per_master} replicas each) \
                     not ready within {READY_TIMEOUT:?}: {why}\nredis-cli output:\n{created}"
                ),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn group(&self) -> i32 {
        i32::try_from(self.watchdog.id()).unwrap_or_else(|e| panic!("watchdog pid: {e}"))
    }

    /// Starts one cluster-enabled node on a free port `P` whose bus port `P + 10000` is free.
    fn start_node(&self, extra: &[&str]) -> Node {
        let mut last_err = String::from("no free port pair found");
        for _ in 0..20 {
            let port = free_port();
            if port > 55535 || TcpListener::bind(("127.0.0.1", port + 10000)).is_err() {
                continue;
            }
            let dir = self.dir.join(port.to_string());
            std::fs::create_dir_all(&dir)
                .unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
            let mut command = Command::new(self.kind.server());
            match &self.tls {
                None => command.args(["--port", &port.to_string()]),
                Some((pki, clients)) => {
                    pki.tls_args(&mut command, port, *clients);
                    command.args(["--tls-cluster", "yes", "--tls-replication", "yes"])
                }
            };
            command
                .args(["--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
                .arg("--dir")
                .arg(&dir)
                .args(["--cluster-enabled", "yes", "--cluster-config-file"])
                .arg(dir.join("nodes.conf"))
                // A replica's first sync starts at once instead of after 5 s.
                .args(["--repl-diskless-sync-delay", "0"])
                .args(extra)
                .process_group(self.group());
            match spawn_until_ready(command, &format!("cluster node on port {port}")) {
                Ok(child) => {
                    return Node {
                        addr: format!("127.0.0.1:{port}"),
                        child,
                        dead: false,
                    }
                }
                Err(e) => last_err = e,
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
        panic!("could not start a cluster node: {last_err}");
    }

    /// Runs `redis-cli --cluster create` (`valkey-cli` for Valkey; 30 s at most) and returns
    /// its output.
    fn create(&self, replicas: usize) -> String {
        let log_path = self.dir.join("create.log");
        let log = std::fs::File::create(&log_path).unwrap_or_else(|e| panic!("create.log: {e}"));
        let log2 = log
            .try_clone()
            .unwrap_or_else(|e| panic!("create.log: {e}"));
        let mut command = Command::new(self.kind.cli());
        if let Some((pki, _)) = &self.tls {
            command
                .arg("--tls")
                .arg("--cacert")
                .arg(pki.path("ca.crt"))
                .arg("--cert")
                .arg(pki.path("client.crt"))
                .arg("--key")
                .arg(pki.path("client.key"));
        }
        let spawned = command
            .args(["--cluster", "create"])
            .args(self.nodes.iter().map(|n| n.addr.as_str()))
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .process_group(self.group())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("{}", self.kind.install_hint())
            }
            Err(e) => panic!("spawning {}: {e}", self.kind.cli().display()),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            match child.try_wait() {
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Ok(Some(status)) => break Some(status),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        let out = std::fs::read_to_string(&log_path).unwrap_or_default();
        match status {
            Some(s) if s.success() && out.contains("[OK] All 16384 slots covered") => out,
            Some(s) => panic!("redis-cli --cluster create failed ({s}):\n{out}"),
            None => panic!("redis-cli --cluster create did not finish within 30 s:\n{out}"),
        }
    }

    /// Whether every running node sees all nodes, all slots, `cluster_state:ok`, `masters`
    /// masters with `replicas` replicas each, and whether every replica's link is up.
    fn check_ready(&self, masters: usize, replicas: usize) -> Result<(), String> {
        let has = |text: &str, want: &str| text.lines().any(|l| l.trim() == want);
        let nodes = self.nodes();
        for addr in &nodes {
            let err = |e: redis::RedisError| format!("{addr}: {e}");
            let info: String = self.query(addr, &["CLUSTER", "INFO"]).map_err(err)?;
            let known = format!("cluster_known_nodes:{}", nodes.len());
            for want in ["cluster_state:ok", "cluster_slots_assigned:16384", &known] {
                if !has(&info, want) {
                    return Err(format!("{addr} has no {want} in CLUSTER INFO:\n{info}"));
                }
            }
            let topology = self.topology_of(addr).map_err(err)?;
            let serving: Vec<&NodeInfo> =
                topology.iter().filter(|n| n.is_serving_master()).collect();
            let attached = |m: &NodeInfo| {
                let of_m = |n: &&NodeInfo| n.master_id.as_deref() == Some(m.id.as_str());
                topology.iter().filter(of_m).count()
            };
            if serving.len() != masters || serving.iter().any(|m| attached(m) != replicas) {
                return Err(format!(
                    "{addr} sees no {masters}×{replicas} cluster: {topology:#?}"
                ));
            }
            let me = topology
                .iter()
                .find(|n| n.flags.iter().any(|f| f == "myself"));
            let want = match me.and_then(|n| n.master_id.as_ref()) {
                Some(_) => "master_link_status:up".to_owned(),
                None => format!("connected_slaves:{replicas}"),
            };
            let replication: String = self.query(addr, &["INFO", "replication"]).map_err(err)?;
            if !has(&replication, &want) {
                return Err(format!(
                    "{addr} has no {want} in INFO replication:\n{replication}"
                ));
            }
        }
        Ok(())
    }

    /// Which server its nodes are.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// `127.0.0.1:port` of every node still running (not [`kill_node`](RedisCluster::kill_node)ed),
    /// in start order.
    pub fn nodes(&self) -> Vec<String> {
        self.running().map(|n| n.addr.clone()).collect()
    }

    /// `redis://127.0.0.1:port` (`rediss://` on a TLS cluster) of every running node: the
    /// seed list for a cluster client.
    pub fn urls(&self) -> Vec<String> {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        self.nodes()
            .iter()
            .map(|a| format!("{scheme}://{a}"))
            .collect()
    }

    /// Runs one command on the node at `addr` over a fresh connection: [`node_query`], or
    /// on a TLS cluster the same over TLS, trusting the test CA and showing its client
    /// certificate.
    pub fn query<T: redis::FromRedisValue>(
        &self,
        addr: &str,
        args: &[&str],
    ) -> redis::RedisResult<T> {
        let Some((pki, _)) = &self.tls else {
            return node_query(addr, args);
        };
        let client = redis::Client::build_with_tls(
            format!("rediss://{addr}"),
            redis::TlsCertificates {
                client_tls: Some(redis::ClientTlsConfig {
                    client_cert: pki.client_cert_pem.clone(),
                    client_key: pki.client_key_pem.clone(),
                }),
                root_cert: Some(pki.ca_pem.clone()),
            },
        )?;
        command(args).query(&mut connect(&client)?)
    }

    /// `CLUSTER NODES` as the node at `addr` sees it.
    fn topology_of(&self, addr: &str) -> redis::RedisResult<Vec<NodeInfo>> {
        let text: String = self.query(addr, &["CLUSTER", "NODES"])?;
        Ok(text.lines().filter_map(parse_node_line).collect())
    }

    /// The PIDs of every running node.
    pub fn pids(&self) -> Vec<u32> {
        self.running().map(|n| n.child.id()).collect()
    }

    fn running(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| !n.dead)
    }

    /// `CLUSTER NODES` as seen now by the first running node that answers.
    pub fn topology(&self) -> Vec<NodeInfo> {
        let mut errors = Vec::new();
        for addr in self.nodes() {
            match self.topology_of(&addr) {
                Ok(topology) => return topology,
                Err(e) => errors.push(format!("{addr}: {e}")),
            }
        }
        panic!("no cluster node answers CLUSTER NODES: {errors:?}");
    }

    /// The running nodes that are masters serving slots right now (read from `CLUSTER NODES`
    /// at call time: a failover changes it), in start order.
    pub fn masters(&self) -> Vec<String> {
        let topology = self.topology();
        self.nodes()
            .into_iter()
            .filter(|a| {
                topology
                    .iter()
                    .any(|n| &n.addr == a && n.is_serving_master())
            })
            .collect()
    }

    /// The first serving master, as `CLUSTER NODES` describes it (the node a failover test
    /// kills).
    pub fn first_master(&self) -> NodeInfo {
        let first = self.masters().into_iter().next();
        self.topology()
            .into_iter()
            .find(|n| Some(&n.addr) == first.as_ref())
            .unwrap_or_else(|| panic!("no serving master in {:#?}", self.topology()))
    }

    /// The first serving master and its replica (a cluster started with replicas).
    pub fn first_master_and_replica(&self) -> (NodeInfo, NodeInfo) {
        let master = self.first_master();
        let replica = self
            .topology()
            .into_iter()
            .find(|n| n.master_id.as_deref() == Some(master.id.as_str()))
            .unwrap_or_else(|| panic!("master {} has no replica", master.addr));
        (master, replica)
    }

    /// `FLUSHDB` on every current master (replicas follow by replication).
    pub fn flush_all(&self) {
        for addr in self.masters() {
            let _: () = self
                .query(&addr, &["FLUSHDB"])
                .unwrap_or_else(|e| panic!("FLUSHDB on {addr}: {e}"));
        }
    }

    /// Starts one more node (with the cluster's `extra` arguments), joins it with `CLUSTER
    /// MEET`, and waits (at most 20 s) until every running node lists it and says
    /// `cluster_state:ok` (a new node only does once it knows every slot's master). It serves no
    /// slot until [`move_slot`](Self::move_slot) gives it one. Returns its `127.0.0.1:port`.
    pub fn add_master(&mut self, extra: &[&str]) -> String {
        let node = self.start_node(extra);
        let addr = node.addr.clone();
        self.nodes.push(node);
        let (host, port) = addr.rsplit_once(':').unwrap_or_else(|| panic!("{addr}"));
        let first = self.nodes()[0].clone();
        let _: () = self
            .query(&first, &["CLUSTER", "MEET", host, port])
            .unwrap_or_else(|e| panic!("CLUSTER MEET {addr} on {first}: {e}"));
        self.wait_until(
            || {
                let nodes = self.nodes();
                nodes.iter().all(|seen_by| {
                    self.topology_of(seen_by).is_ok_and(|t| {
                        nodes.iter().all(|a| {
                            t.iter()
                                .any(|n| &n.addr == a && !n.flags.iter().any(|f| f == "handshake"))
                        })
                    }) && self
                        .query::<String>(seen_by, &["CLUSTER", "INFO"])
                        .is_ok_and(|info| info.lines().any(|l| l.trim() == "cluster_state:ok"))
                })
            },
            || format!("{addr} not known to every node"),
        );
        addr
    }

    /// The slot of `key` (`CLUSTER KEYSLOT`).
    pub fn slot_of(&self, key: &str) -> u16 {
        let first = self.nodes()[0].clone();
        self.query(&first, &["CLUSTER", "KEYSLOT", key])
            .unwrap_or_else(|e| panic!("CLUSTER KEYSLOT {key}: {e}"))
    }

    /// Moves `slot` with its keys from the master serving it to the master at `to`, the way
    /// `redis-cli --cluster reshard` does: `SETSLOT .. IMPORTING` on `to`, `.. MIGRATING` on
    /// the owner, `MIGRATE` of every key in it, then `SETSLOT .. NODE` on every master
    /// (`to` first, the old owner next). Waits (at most 20 s) until every running node
    /// sees `to` serving it.
    pub fn move_slot(&self, slot: u16, to: &str) {
        let topology = self.topology();
        let serves = |n: &NodeInfo| n.slots.iter().any(|&(a, b)| (a..=b).contains(&slot));
        let from = topology
            .iter()
            .find(|n| n.is_serving_master() && serves(n))
            .unwrap_or_else(|| panic!("no master serves slot {slot}: {topology:#?}"));
        let target = topology
            .iter()
            .find(|n| n.addr == to)
            .unwrap_or_else(|| panic!("{to} is not in the cluster: {topology:#?}"));
        assert_ne!(from.addr, to, "slot {slot} is on {to} already");
        let slot_arg = slot.to_string();
        let run = |addr: &str, args: &[&str]| {
            let _: redis::Value = self
                .query(addr, args)
                .unwrap_or_else(|e| panic!("{args:?} on {addr}: {e}"));
        };
        run(
            to,
            &["CLUSTER", "SETSLOT", &slot_arg, "IMPORTING", &from.id],
        );
        run(
            &from.addr,
            &["CLUSTER", "SETSLOT", &slot_arg, "MIGRATING", &target.id],
        );
        let (host, port) = to.rsplit_once(':').unwrap_or_else(|| panic!("{to}"));
        loop {
            let keys: Vec<String> = self
                .query(&from.addr, &["CLUSTER", "GETKEYSINSLOT", &slot_arg, "100"])
                .unwrap_or_else(|e| panic!("GETKEYSINSLOT {slot} on {}: {e}", from.addr));
            if keys.is_empty() {
                break;
            }
            let mut args = vec!["MIGRATE", host, port, "", "0", "5000", "KEYS"];
            args.extend(keys.iter().map(String::as_str));
            run(&from.addr, &args);
        }
        let mut order = vec![to.to_owned(), from.addr.clone()];
        order.extend(
            self.masters()
                .into_iter()
                .filter(|a| a != to && a != &from.addr),
        );
        for addr in &order {
            run(addr, &["CLUSTER", "SETSLOT", &slot_arg, "NODE", &target.id]);
        }
        self.wait_until(
            || {
                self.nodes().iter().all(|seen_by| {
                    self.topology_of(seen_by).is_ok_and(|t| {
                        t.iter().any(|n| n.addr == to && serves(n))
                            && t.iter().filter(|n| serves(n)).count() == 1
                    })
                })
            },
            || format!("not every node sees slot {slot} on {to}"),
        );
    }

    /// Polls `done` every 50 ms; panics with `what()` and the topology after 20 s.
    fn wait_until(&self, done: impl Fn() -> bool, what: impl Fn() -> String) {
        let deadline = Instant::now() + READY_TIMEOUT;
        while !done() {
            if Instant::now() >= deadline {
                panic!(
                    "{} within {READY_TIMEOUT:?}: {:#?}",
                    what(),
                    self.topology()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the running node at `addr` (`SIGKILL` by PID) and waits until it is gone.
    pub fn kill_node(&mut self, addr: &str) {
        let node = self
            .nodes
            .iter_mut()
            .find(|n| n.addr == addr && !n.dead)
            .unwrap_or_else(|| panic!("kill_node({addr}): no running node there"));
        let _ = node.child.kill();
        let status = node
            .child
            .wait()
            .unwrap_or_else(|e| panic!("waiting for node {addr}: {e}"));
        assert!(
            !status.success(),
            "cluster node {addr} exited by itself ({status}) before it was killed"
        );
        node.dead = true;
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in self.nodes.iter_mut().filter(|n| !n.dead) {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
        // Every node is reaped: the watchdog has nothing left to do.
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A plain connection to one node, with 2 s connect and read timeouts.
pub fn node_connection(addr: &str) -> redis::RedisResult<redis::Connection> {
    connect(&redis::Client::open(format!("redis://{addr}"))?)
}

/// A connection of `client`, with 2 s connect and read timeouts.
fn connect(client: &redis::Client) -> redis::RedisResult<redis::Connection> {
    let conn = client.get_connection_with_timeout(Duration::from_secs(2))?;
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    Ok(conn)
}

/// Runs one command (`["CLUSTER", "INFO"]`) on one node over a fresh connection.
pub fn node_query<T: redis::FromRedisValue>(addr: &str, args: &[&str]) -> redis::RedisResult<T> {
    command(args).query(&mut node_connection(addr)?)
}

fn command(args: &[&str]) -> redis::Cmd {
    let mut cmd = redis::Cmd::new();
    for arg in args {
        cmd.arg(*arg);
    }
    cmd
}

/// `CLUSTER NODES` as `addr` sees it.
pub fn topology_seen_by(addr: &str) -> redis::RedisResult<Vec<NodeInfo>> {
    let text: String = node_query(addr, &["CLUSTER", "NODES"])?;
    Ok(text.lines().filter_map(parse_node_line).collect())
}

/// `<id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...`
fn parse_node_line(line: &str) -> Option<NodeInfo> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 8 {
        return None;
    }
    let addr = fields[1].split(['@', ',']).next()?.to_owned();
    let slots = fields[8..]
        .iter()
        .filter(|s| !s.starts_with('['))
        .filter_map(|s| match s.split_once('-') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => s.parse().ok().map(|one| (one, one)),
        })
        .collect();
    Some(NodeInfo {
        id: fields[0].to_owned(),
        addr,
        flags: fields[2].split(',').map(str::to_owned).collect(),
        master_id: (fields[3] != "-").then(|| fields[3].to_owned()),
        slots,
    })
}
