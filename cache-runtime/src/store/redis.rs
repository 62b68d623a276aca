//! The Redis store: redis-rs on tokio through an auto-reconnecting multiplexed connection.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, RedisWrite, ToRedisArgs, Value};

use crate::error::{Error, Result};

use crate::observe::stats::{CircuitState, Counters};

pub(crate) mod breakers;
pub(crate) mod circuit;
#[cfg(feature = "cluster")]
pub(crate) mod cluster;
mod coalesce;
mod deadline;
mod eval;
mod ifeq;
mod last_error;
pub(crate) mod lease;
mod node;
mod redact;
mod scan;
#[cfg(feature = "sentinel")]
pub(crate) mod sentinel;
mod tags;
#[cfg(feature = "tls")]
pub(crate) mod tls;
mod unreadable;

pub(crate) use redact::redact_url;

/// How many keys one SCAN step asks for, and how many keys one UNLINK removes.
const SCAN_BATCH: usize = 500;

/// Tag index members are trimmed this long after their entry expired (clock skew between
/// the processes that write under one tag must stay below it).
const TAG_TRIM_MARGIN_MS: u64 = 60_000;

/// The full Redis key of a tag's index: `{prefix}#tag:{escaped tag}`. It lies outside the
/// `{prefix}:` space of entries and manual keys, so no manual key, namespace or pattern can
/// read, overwrite or clear it.
pub(crate) fn tag_index(prefix: &str, tag: &str) -> String {
    format!("{prefix}#tag:{}", crate::key::escape_tag(tag))
}

/// What [`RedisStore::get`] returns for a key that holds another Redis type: a header with
/// an unknown format version, so decoding refuses it.
pub(crate) const NOT_A_STRING: &[u8] = b"\xCA\xFFnot a string";

/// Connection settings for the Redis store (no `Debug`: it holds the password).
#[derive(Clone)]
pub(crate) struct RedisOptions {
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
    /// The hard deadline of one operation, reconnection included.
    pub(crate) operation_timeout: Duration,
    pub(crate) circuit_threshold: u32,
    /// Whether concurrent GETs are merged into MGETs (single node).
    pub(crate) coalesce_reads: bool,
    /// Reads in flight before further GETs queue for an MGET.
    pub(crate) max_reads_in_flight: usize,
    pub(crate) circuit_cool_down: Duration,
    /// How long a fill lease holds (see [`lease`]).
    pub(crate) lease_time: Duration,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    /// A CA certificate (PEM) to trust instead of the system roots (`rediss://` only).
    #[cfg(feature = "tls")]
    pub(crate) tls_root_cert: Option<Vec<u8>>,
    /// The client certificate and key to show a server that asks for one (`rediss://`
    /// only).
    #[cfg(feature = "tls")]
    pub(crate) tls_client_cert: Option<tls::ClientCert>,
}

/// The connection every command goes through: one node behind an auto-reconnecting
/// connection manager, (feature `cluster`) a Redis Cluster, whose client routes each
/// command to its slot's master, or (feature `sentinel`) the master a set of sentinels
/// names. The single-node path costs one `match` more.
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    #[cfg(feature = "cluster")]
    Cluster(cluster::LazyCluster),
    #[cfg(feature = "sentinel")]
    Sentinel(sentinel::SentinelMaster),
}

impl redis::aio::ConnectionLike for Conn {
    #[inline]
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> redis::RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            #[cfg(feature = "cluster")]
            Conn::Cluster(c) => c.req_packed_command(cmd),
            #[cfg(feature = "sentinel")]
            Conn::Sentinel(c) => c.req_packed_command(cmd),
        }
    }

    #[inline]
    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "cluster")]
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
            #[cfg(feature = "sentinel")]
            Conn::Sentinel(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            #[cfg(feature = "cluster")]
            Conn::Cluster(c) => c.get_db(),
            #[cfg(feature = "sentinel")]
            Conn::Sentinel(c) => c.get_db(),
        }
    }
}

/// The Redis store. Cheap to clone: clones share one multiplexed connection (or one
/// cluster connection) and one circuit breaker.
///
/// On a Redis Cluster the circuit breakers are per part of the slot space (see
/// [`breakers`]): one unreachable master opens the breakers of its slots, not every key's.
#[derive(Clone)]
pub(crate) struct RedisStore {
    conn: Conn,
    /// One client per node given (one for a single node, none behind sentinels): the
    /// backplane subscribes through the first that answers, and a failed PING is diagnosed
    /// with the first.
    clients: Arc<[redis::Client]>,
    prefix: Arc<str>,
    lease_time: Duration,
    operation_timeout: Duration,
    connect_timeout: Duration,
    response_timeout: Duration,
    breakers: Arc<breakers::Breakers>,
    /// Concurrent GETs merged into MGETs (single node, unless turned off).
    coalescer: Option<Arc<coalesce::Coalescer>>,
    counters: Arc<Counters>,
    /// The server refused the last fill lease it was sent because it takes no writes now
    /// (`maxmemory` with `noeviction`, a read-only replica): reads are plain GETs until a
    /// lease is granted again (see [`read_mode`](crate::observe::read_mode)).
    writes_refused: Arc<std::sync::atomic::AtomicBool>,
    /// The last transport error since Redis last answered: a timed-out operation names it.
    last_error: Arc<last_error::LastError>,
    /// Whether the server takes `SET .. IFEQ` (see [`ifeq`]): fills without a script.
    set_ifeq: Arc<ifeq::SetIfeq>,
}

/// `{prefix}:{key}` written as one Redis argument without building a `String`.
struct Prefixed<'a>(&'a str, &'a str);

impl ToRedisArgs for Prefixed<'_> {
    fn write_redis_args<W: ?Sized + RedisWrite>(&self, out: &mut W) {
        use std::io::Write;
        let mut w = out.writer_for_next_arg();
        // Writing into the command's own buffer cannot fail.
        let _ = w.write_all(self.0.as_bytes());
        let _ = w.write_all(b":");
        let _ = w.write_all(self.1.as_bytes());
    }
}

impl redis::ToSingleRedisArg for Prefixed<'_> {}

fn store_err(e: redis::RedisError) -> Error {
    Error::store(e)
}

/// Whether a failed operation means Redis could not serve it at all (no connection, no
/// answer in time, a node loading or down): these count towards opening the circuit. An
/// error reply to the command itself (`OOM`, `NOPERM`, `WRONGTYPE`) does not.
pub(crate) fn is_transport(e: &redis::RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    e.is_io_error()
        || e.is_timeout()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || matches!(
            e.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::MasterNameNotFoundBySentinel
                | ErrorKind::Server(
                    ServerErrorKind::BusyLoading
                        | ServerErrorKind::ClusterDown
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::MasterDown
                )
        )
}

/// Why a PING at build time failed.
pub(crate) enum PingFailure {
    /// Redis could not be reached (refused, timed out, name not resolved): with
    /// `require_redis(false)` the cache is built anyway.
    Unreachable(Error),
    /// Redis answered, but not with PONG (bad credentials, no permission): always an error.
    Refused(Error),
}

fn client_for(url: &str, options: &RedisOptions) -> Result<redis::Client> {
    use redis::IntoConnectionInfo;
    let invalid = |e: redis::RedisError| {
        Error::config(format_args!("invalid Redis URL `{}`: {e}", redact_url(url)))
    };
    let mut info = url.into_connection_info().map_err(invalid)?;
    if options.username.is_some() || options.password.is_some() {
        let mut settings = info.redis_settings().clone();
        if let Some(user) = &options.username {
            settings = settings.set_username(user);
        }
        if let Some(password) = &options.password {
            settings = settings.set_password(password);
        }
        info = info.set_redis_settings(settings);
    }
    #[cfg(feature = "tls")]
    if let Some(certificates) = tls::certificates(options)? {
        if !matches!(info.addr(), redis::ConnectionAddr::TcpTls { .. }) {
            return Err(Error::config(format_args!(
                "tls_root_cert and tls_client_cert need a rediss:// URL, not `{}`",
                redact_url(url)
            )));
        }
        return redis::Client::build_with_tls(info, certificates).map_err(|e| {
            Error::config(format_args!(
                "invalid TLS settings for `{}`: {e}",
                redact_url(url)
            ))
        });
    }
    redis::Client::open(info).map_err(invalid)
}

/// The settings of a single node's auto-reconnecting connection (and of a sentinel-named
/// master's).
fn manager_config(options: &RedisOptions) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(options.connect_timeout))
        .set_response_timeout(deadline::reply_timeout(options))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(100))
}

impl RedisStore {
    /// Opens a lazily connecting store: nothing is sent until the first command.
    pub(crate) fn open(
        url: &str,
        prefix: &str,
        options: &RedisOptions,
        counters: Arc<Counters>,
    ) -> Result<Self> {
        let client = client_for(url, options)?;
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager_config(options))
            .map_err(store_err)?;
        Ok(Self::with_conn(
            Conn::Single(conn),
            vec![client],
            prefix,
            options,
            counters,
        ))
    }

    /// Opens a lazily connecting store on the Redis Cluster that `nodes` (`redis://host:port`
    /// URLs, checked by [`cluster::node_url`]) belong to.
    #[cfg(feature = "cluster")]
    pub(crate) fn open_cluster(
        nodes: &[String],
        prefix: &str,
        options: &RedisOptions,
        counters: Arc<Counters>,
    ) -> Result<Self> {
        let conn = cluster::LazyCluster::open(nodes, options)?;
        let clients = nodes
            .iter()
            .map(|url| client_for(url, options))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::with_conn(
            Conn::Cluster(conn),
            clients,
            prefix,
            options,
            counters,
        ))
    }

    /// Opens a lazily connecting store on the master named `master` by the sentinels
    /// `nodes` (URLs checked by [`sentinel::node_url`]): the sentinels are first asked on
    /// the first command.
    #[cfg(feature = "sentinel")]
    pub(crate) fn open_sentinel(
        nodes: &[String],
        master: &str,
        prefix: &str,
        options: &RedisOptions,
        counters: Arc<Counters>,
    ) -> Result<Self> {
        let conn = sentinel::SentinelMaster::open(nodes, master, options)?;
        Ok(Self::with_conn(
            Conn::Sentinel(conn),
            Vec::new(),
            prefix,
            options,
            counters,
        ))
    }

    fn with_conn(
        conn: Conn,
        clients: Vec<redis::Client>,
        prefix: &str,
        options: &RedisOptions,
        counters: Arc<Counters>,
    ) -> Self {
        let breakers = Arc::new(match &conn {
            #[cfg(feature = "sentinel")]
            Conn::Sentinel(_) => breakers::Breakers::single(
                options.circuit_threshold,
                options.circuit_cool_down,
                counters.clone(),
            ),
            Conn::Single(_) => breakers::Breakers::single(
                options.circuit_threshold,
                options.circuit_cool_down,
                counters.clone(),
            ),
            #[cfg(feature = "cluster")]
            Conn::Cluster(_) => breakers::Breakers::cluster(
                options.circuit_threshold,
                options.circuit_cool_down,
                counters.clone(),
            ),
        });
        // Behind sentinels, a new master (connected, and answering as a master) closes the
        // breaker: the failures it counted were the old master's.
        #[cfg(feature = "sentinel")]
        if let Conn::Sentinel(master) = &conn {
            let breakers = Arc::downgrade(&breakers);
            master.on_move(move || {
                if let Some(breakers) = breakers.upgrade() {
                    breakers.whole().reset();
                }
            });
        }
        #[cfg(feature = "cluster")]
        let conn_is_single = !matches!(conn, Conn::Cluster(_));
        #[cfg(not(feature = "cluster"))]
        let conn_is_single = true;
        RedisStore {
            conn,
            clients: clients.into(),
            prefix: prefix.into(),
            lease_time: options.lease_time,
            operation_timeout: options.operation_timeout,
            connect_timeout: options.connect_timeout,
            response_timeout: options.response_timeout,
            breakers,
            coalescer: match &conn_is_single {
                true if options.coalesce_reads => Some(Arc::new(coalesce::Coalescer::new(
                    options.max_reads_in_flight,
                ))),
                _ => None,
            },
            counters,
            writes_refused: Arc::default(),
            last_error: Arc::default(),
            set_ifeq: Arc::default(),
        }
    }

    /// Whether the server refused the last fill lease because it takes no writes now.
    #[inline]
    pub(crate) fn writes_refused(&self) -> bool {
        self.writes_refused
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether this store is on a Redis Cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        match self.conn {
            Conn::Single(_) => false,
            #[cfg(feature = "cluster")]
            Conn::Cluster(_) => true,
            #[cfg(feature = "sentinel")]
            Conn::Sentinel(_) => false,
        }
    }

    /// Behind sentinels: an operation failed for want of the master, so ask the sentinels
    /// again (in the background, one lookup at a time).
    #[inline]
    fn suspect_master(&self) {
        #[cfg(feature = "sentinel")]
        if let Conn::Sentinel(master) = &self.conn {
            master.suspect();
        }
    }

    fn key<'a>(&'a self, key: &'a str) -> Prefixed<'a> {
        Prefixed(&self.prefix, key)
    }

    /// The command `name` on the cache key `key`, allocated once for `more` arguments of
    /// `more_bytes` in all after the key (a command grown argument by argument reallocates).
    fn key_cmd(&self, name: &str, key: &str, more: usize, more_bytes: usize) -> Cmd {
        let bytes = name.len() + self.prefix.len() + 1 + key.len() + more_bytes;
        let mut cmd = Cmd::with_capacity(2 + more, bytes);
        cmd.arg(name).arg(self.key(key));
        cmd
    }

    /// An `EVALSHA` of `script` whose first key is the cache key `key`, sized for
    /// `more_bytes` of further keys and arguments.
    fn eval_on(
        &self,
        script: &'static redis::Script,
        keys: usize,
        key: &str,
        more_bytes: usize,
    ) -> eval::Eval {
        let mut eval =
            eval::Eval::new(script, keys, self.prefix.len() + 1 + key.len() + more_bytes);
        eval.arg(self.key(key));
        eval
    }

    /// The circuit breakers' state (the worst of a cluster's).
    pub(crate) fn circuit_state(&self) -> CircuitState {
        self.breakers.state()
    }

    /// How many times a breaker closed after being open (see
    /// [`fallback`](crate::tier::fallback)).
    pub(crate) fn circuit_closings(&self) -> u64 {
        self.breakers.closings()
    }

    /// Whether the breaker of `key` is open or half-open (one atomic load on one node).
    pub(crate) fn circuit_open_for(&self, key: &str) -> bool {
        self.breakers.for_key(&self.prefix, key).is_open()
    }

    /// Runs one Redis operation that is not on one key through the circuit breaker and
    /// under the operation timeout. Every command this store sends goes through
    /// [`guard_on`](RedisStore::guard_on).
    async fn guard<T>(&self, op: impl Future<Output = redis::RedisResult<T>>) -> Result<T> {
        self.guard_on(self.breakers.whole(), op)
            .await
            .map_err(|e| e.into_error())
    }

    /// Runs an operation on the one cache key `key` through that key's breaker.
    async fn guard_key<T>(
        &self,
        key: &str,
        op: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T> {
        self.guard_on(self.breakers.for_key(&self.prefix, key), op)
            .await
            .map_err(|e| e.into_error())
    }

    async fn guard_on<T>(
        &self,
        circuit: &circuit::Circuit,
        op: impl Future<Output = redis::RedisResult<T>>,
    ) -> std::result::Result<T, Failure> {
        let pass = circuit.admit().map_err(Failure::Skipped)?;
        match tokio::time::timeout(self.operation_timeout, op).await {
            Ok(Ok(value)) => {
                pass.answered();
                self.last_error.clear();
                Ok(value)
            }
            Ok(Err(e)) => {
                if e.is_connection_refusal() || e.is_connection_dropped() {
                    pass.refused();
                    self.last_error.record(&e);
                    self.set_ifeq.forget();
                    self.suspect_master();
                } else if is_transport(&e) {
                    pass.failed();
                    self.last_error.record(&e);
                    self.set_ifeq.forget();
                    self.suspect_master();
                } else {
                    pass.answered();
                    self.last_error.clear();
                    if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ReadOnly) {
                        // A master demoted to a replica.
                        self.suspect_master();
                    }
                }
                Err(Failure::Redis(e))
            }
            Err(_) => {
                pass.failed();
                self.suspect_master();
                Counters::bump(&self.counters.timeouts);
                Err(Failure::Deadline {
                    after: self.operation_timeout,
                    last: self.last_error.get(),
                })
            }
        }
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: &Cmd) -> Result<T> {
        let mut conn = self.conn.clone();
        self.guard(cmd.query_async(&mut conn)).await
    }

    /// Runs a command on the one cache key `key` (through its breaker).
    async fn run_at<T: redis::FromRedisValue>(&self, key: &str, cmd: &Cmd) -> Result<T> {
        let mut conn = self.conn.clone();
        self.guard_key(key, cmd.query_async(&mut conn)).await
    }

    /// Runs a pipeline through [`guard`](RedisStore::guard).
    async fn run_pipe(&self, pipe: &redis::Pipeline) -> Result<()> {
        let mut conn = self.conn.clone();
        self.guard(pipe.query_async::<()>(&mut conn)).await
    }

    /// Runs a pipeline on the one full Redis key `redis_key` (a cluster's single-slot
    /// pipeline) through that key's breaker.
    async fn run_pipe_on(&self, redis_key: &str, pipe: &redis::Pipeline) -> Result<()> {
        let mut conn = self.conn.clone();
        let circuit = self.breakers.for_redis_key(redis_key.as_bytes());
        self.guard_on(circuit, pipe.query_async::<()>(&mut conn))
            .await
            .map_err(|e| e.into_error())
    }

    /// Runs a script whose keys are all in the slot of the cache key `key`.
    async fn run_eval_at<T: redis::FromRedisValue>(
        &self,
        key: &str,
        eval: &eval::Eval,
    ) -> Result<T> {
        let mut conn = self.conn.clone();
        self.guard_key(key, eval.query(&mut conn)).await
    }

    /// GET. A key holding another Redis type (a list, a hash: written by someone else) reads
    /// as [`NOT_A_STRING`], which no envelope decodes, so it is dropped like any unreadable
    /// entry instead of failing every call that reads it.
    pub(crate) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match &self.coalescer {
            Some(coalescer) => coalescer.get(self, key).await,
            None => self.get_one(key).await,
        }
    }

    /// One GET, on its own.
    pub(crate) async fn get_one(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let mut conn = self.conn.clone();
        let cmd = self.key_cmd("GET", key, 0, 0);
        let circuit = self.breakers.for_key(&self.prefix, key);
        match self.guard_on(circuit, cmd.query_async(&mut conn)).await {
            Ok(found) => Ok(found),
            Err(Failure::Redis(e)) if e.code() == Some("WRONGTYPE") => {
                Ok(Some(NOT_A_STRING.to_vec()))
            }
            Err(failure) => Err(failure.into_error()),
        }
    }

    pub(crate) async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()> {
        self.run_at(
            key,
            redis::cmd("SET")
                .arg(self.key(key))
                .arg(value)
                .arg("PX")
                .arg(ttl_millis(ttl)),
        )
        .await
    }

    /// SET with TTL, and records `key` under each tag in one pipeline.
    ///
    /// A tag's index is a sorted set `{prefix}#tag:{tag}` of keys scored by their expiry
    /// (ms since the epoch). Each write trims members that expired over a minute ago and
    /// keeps the index's own TTL at its longest-lived member's, so the index never outgrows
    /// the entries it points to.
    pub(crate) async fn set_tagged(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
        tags: &[String],
    ) -> Result<()> {
        if self.is_cluster() {
            // The tag indexes lie in other slots than the entry: the SET, then one
            // single-slot pipeline per index.
            self.set(key, value, ttl).await?;
            return self.index_per_slot(key, tags, ttl).await;
        }
        let ttl_ms = ttl_millis(ttl);
        let now_ms = crate::codec::now_ms();
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms)
            .ignore();
        for tag in tags {
            tags::record(
                &mut pipe,
                &tag_index(&self.prefix, tag),
                key,
                now_ms,
                ttl_ms,
                false,
            );
        }
        self.run_pipe(&pipe).await
    }

    /// Deletes every key recorded under `tag`, [`SCAN_BATCH`] at a time. Returns how many
    /// existed.
    pub(crate) async fn delete_tag(&self, tag: &str) -> Result<u64> {
        let index = tag_index(&self.prefix, tag);
        let mut removed = 0;
        loop {
            let members: Vec<String> = self
                .run(redis::cmd("ZRANGE").arg(&index).arg(0).arg(SCAN_BATCH - 1))
                .await?;
            if members.is_empty() {
                return Ok(removed);
            }
            let mut unlink = redis::cmd("UNLINK");
            for m in &members {
                unlink.arg(self.key(m));
            }
            let n: u64 = self.run(&unlink).await?;
            removed += n;
            let _: u64 = self
                .run(redis::cmd("ZREM").arg(&index).arg(&members))
                .await?;
        }
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<bool> {
        let n: u64 = self
            .run_at(key, redis::cmd("UNLINK").arg(self.key(key)))
            .await?;
        Ok(n > 0)
    }

    /// Whether `key` holds a value (a fill lease, a miss in progress, is not one; a value
    /// shaped like a lease but without a TTL is foreign data, hence a value: see
    /// [`RedisStore::holds_lease`]).
    pub(crate) async fn exists(&self, key: &str) -> Result<bool> {
        static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
        let script = SCRIPT.get_or_init(|| {
            redis::Script::new(&format!(
                r"
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
if {} and redis.call('PTTL', KEYS[1]) ~= -1 then return 0 end
return 1
",
                lease::SHAPED_LUA
            ))
        });
        let mut eval = self.eval_on(script, 1, key, lease::LEASE_HEAD.len());
        eval.arg(&lease::LEASE_HEAD[..]);
        let n: u64 = self.run_eval_at(key, &eval).await?;
        Ok(n > 0)
    }

    pub(crate) async fn expire(&self, key: &str, ttl: Duration) -> Result<bool> {
        let n: u64 = self
            .run_at(
                key,
                redis::cmd("PEXPIRE")
                    .arg(self.key(key))
                    .arg(ttl_millis(ttl)),
            )
            .await?;
        Ok(n > 0)
    }

    /// Remaining TTL; `None` when the key is missing or has no expiry.
    pub(crate) async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        let ms: i64 = self
            .run_at(key, redis::cmd("PTTL").arg(self.key(key)))
            .await?;
        Ok(u64::try_from(ms).ok().map(Duration::from_millis))
    }

    /// One MGET for all keys; results in request order.
    pub(crate) async fn get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut cmd = redis::cmd("MGET");
        for k in keys {
            cmd.arg(self.key(k));
        }
        self.run(&cmd).await
    }

    /// One pipeline of `SET .. PX` for all items (on a cluster, one SET per item, sent
    /// together under one deadline: a pipeline must stay in one slot).
    pub(crate) async fn set_many(&self, items: &[(&str, &[u8])], ttl: Duration) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        if self.is_cluster() {
            let sets = items.iter().map(|(k, v)| {
                let mut conn = self.conn.clone();
                let mut cmd = redis::cmd("SET");
                cmd.arg(self.key(k)).arg(*v).arg("PX").arg(ttl_millis(ttl));
                async move { cmd.query_async::<()>(&mut conn).await }
            });
            return self
                .guard(async {
                    futures_util::future::try_join_all(sets).await?;
                    Ok(())
                })
                .await;
        }
        let mut pipe = redis::pipe();
        for (k, v) in items {
            pipe.cmd("SET")
                .arg(self.key(k))
                .arg(*v)
                .arg("PX")
                .arg(ttl_millis(ttl))
                .ignore();
        }
        self.run_pipe(&pipe).await
    }

    pub(crate) async fn delete_many(&self, keys: &[&str]) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let mut cmd = redis::cmd("UNLINK");
        for k in keys {
            cmd.arg(self.key(k));
        }
        self.run(&cmd).await
    }

    /// SCAN + UNLINK in batches of [`SCAN_BATCH`]; only `*` in `pattern` is a wildcard.
    /// Where the backplane subscribes.
    pub(crate) fn subscription(&self) -> Subscription {
        match &self.conn {
            #[cfg(feature = "sentinel")]
            Conn::Sentinel(master) => Subscription::Sentinel(master.clone()),
            _ => Subscription::Nodes(self.clients.clone()),
        }
    }

    /// The prefix of every key of this cache in Redis (before its `:`).
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// How long a connection may take to open.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The backplane channel: `{prefix}:#backplane`.
    pub(crate) fn channel(&self) -> String {
        format!("{}:#backplane", self.prefix)
    }

    /// Publishes one backplane message.
    pub(crate) async fn publish(&self, message: &[u8]) -> Result<()> {
        let _: u64 = self
            .run(redis::cmd("PUBLISH").arg(self.channel()).arg(message))
            .await?;
        Ok(())
    }

    /// Round trip time of one PING.
    pub(crate) async fn ping(&self) -> Result<Duration> {
        self.check().await.map_err(|f| match f {
            PingFailure::Unreachable(e) | PingFailure::Refused(e) => e,
        })
    }

    /// One PING, with the failure classified for [`build`](crate::CacheBuilder::build).
    pub(crate) async fn check(&self) -> std::result::Result<Duration, PingFailure> {
        let start = Instant::now();
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("PING");
        let whole = self.breakers.whole();
        match self
            .guard_on(whole, cmd.query_async::<Value>(&mut conn))
            .await
        {
            Ok(Value::SimpleString(s)) if s == "PONG" => Ok(start.elapsed()),
            Ok(other) => Err(PingFailure::Refused(Error::store(format_args!(
                "unexpected PING reply {other:?}"
            )))),
            Err(Failure::Redis(e)) if !is_transport(&e) => Err(PingFailure::Refused(store_err(e))),
            Err(failure) => Err(self
                .diagnose()
                .await
                .unwrap_or_else(|| PingFailure::Unreachable(failure.into_error()))),
        }
    }

    /// Why a connection cannot be made, from one direct attempt: the connection manager
    /// retries with a backoff and reports a failed TLS handshake, say, as an operation that
    /// did not finish in time. `None` if the attempt succeeds.
    async fn diagnose(&self) -> Option<PingFailure> {
        #[cfg(feature = "sentinel")]
        if let Conn::Sentinel(master) = &self.conn {
            return master
                .diagnose(self.connect_timeout + self.response_timeout)
                .await;
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.response_timeout));
        let attempt = async {
            let mut conn = self.clients[0]
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            redis::cmd("PING").query_async::<Value>(&mut conn).await
        };
        let limit = self.connect_timeout + self.response_timeout;
        match tokio::time::timeout(limit, attempt).await {
            Ok(Ok(_)) => None,
            Ok(Err(e)) if is_transport(&e) => Some(PingFailure::Unreachable(store_err(e))),
            Ok(Err(e)) => Some(PingFailure::Refused(store_err(e))),
            Err(_) => Some(PingFailure::Unreachable(Error::store(format_args!(
                "no connection within {} ms (connect_timeout + response_timeout)",
                limit.as_millis()
            )))),
        }
    }
}

/// Where the backplane subscribes: the first of the nodes given that answers, or the master
/// the sentinels name when it (re)subscribes.
#[derive(Clone)]
pub(crate) enum Subscription {
    Nodes(Arc<[redis::Client]>),
    #[cfg(feature = "sentinel")]
    Sentinel(sentinel::SentinelMaster),
}

impl Subscription {
    /// The clients to try, in order.
    pub(crate) async fn clients(&self) -> Vec<redis::Client> {
        match self {
            Subscription::Nodes(clients) => clients.to_vec(),
            #[cfg(feature = "sentinel")]
            Subscription::Sentinel(master) => master.client().await.into_iter().collect(),
        }
    }

    /// The subscription ended or could not be made: behind sentinels, the master may have
    /// moved.
    pub(crate) fn lost(&self) {
        #[cfg(feature = "sentinel")]
        if let Subscription::Sentinel(master) = self {
            master.suspect();
        }
    }
}

/// How a guarded operation failed.
enum Failure {
    /// The circuit is open: Redis was not asked.
    Skipped(Error),
    /// Redis (or the connection to it) returned an error.
    Redis(redis::RedisError),
    /// No answer within the operation timeout; `last` is the last transport error since
    /// Redis last answered.
    Deadline {
        after: Duration,
        last: Option<Arc<str>>,
    },
}

impl Failure {
    fn into_error(self) -> Error {
        match self {
            Failure::Skipped(e) => e,
            Failure::Redis(e) => store_err(e),
            Failure::Deadline { after, last: None } => Error::store(format_args!(
                "Redis did not answer within {} ms (operation_timeout)",
                after.as_millis()
            )),
            Failure::Deadline {
                after,
                last: Some(last),
            } => Error::store(format_args!(
                "Redis did not answer within {} ms (operation_timeout); the last connection \
                 error was: {last}",
                after.as_millis()
            )),
        }
    }
}

fn ttl_millis(ttl: Duration) -> u64 {
    crate::millis(ttl).max(1)
}
