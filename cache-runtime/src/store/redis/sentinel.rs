//! Redis Sentinel (feature `sentinel`): the connection behind [`Conn`](super::Conn) when
//! the cache is given sentinels and a master name.
//!
//! The first command asks the sentinels for the master through redis-rs's
//! [`SentinelClient`], which also checks that the node they name answers `ROLE` as a
//! master. The master is then reached through an auto-reconnecting connection manager, as
//! one node is. A command that fails for want of the master (a refused or dropped
//! connection, no answer within the operation deadline, a `READONLY` reply from a master
//! demoted to a replica) makes one background task ask the sentinels again, every 50 to
//! 100 ms, until they name a master that answers; when that is another node, its connection
//! replaces the old one for every later command, and the circuit breaker closes (the
//! failures it counted were the old master's). The backplane subscribes on the master
//! the sentinels name each time it (re)connects.

use std::sync::atomic::{AtomicBool, Ordering::AcqRel, Ordering::Release};
use std::sync::{Arc, Weak};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{Cmd, IntoConnectionInfo, RedisError, RedisFuture, RedisResult, Value};

use super::{PingFailure, RedisOptions};
use crate::error::{Error, Result};

/// The master a set of sentinels names, and the connection to it. Cheap to clone.
#[derive(Clone)]
pub(crate) struct SentinelMaster(Arc<Shared>);

struct Shared {
    /// The master's name in the sentinels' configuration.
    name: String,
    /// The sentinels, `host:port` each (for messages).
    sentinels: Vec<String>,
    /// One plain client per sentinel, for the build-time diagnosis.
    sentinel_clients: Vec<redis::Client>,
    /// Asks the sentinels; one lookup at a time.
    lookup: tokio::sync::Mutex<SentinelClient>,
    /// The master found last and its connection; `None` before the first command.
    current: ArcSwapOption<Current>,
    /// Whether a background lookup runs.
    resolving: AtomicBool,
    config: ConnectionManagerConfig,
    /// Called when the sentinels name another master than the one in use.
    on_move: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
    /// The longest one lookup may take (the sentinels, then the master's `ROLE`).
    lookup_limit: Duration,
}

struct Current {
    /// `host:port` of the master.
    addr: String,
    client: redis::Client,
    conn: ConnectionManager,
}

/// `REDIS_SENTINEL_NODES` and [`CacheBuilder::sentinel`](crate::CacheBuilder::sentinel)
/// entries: `host:port`, `redis://host:port` or `rediss://host:port`.
pub(crate) fn node_url(entry: &str) -> std::result::Result<String, String> {
    super::node::node_url(entry, "a sentinel")
}

/// Why `name` cannot be a master's name in a sentinel's configuration, if it cannot.
pub(crate) fn master_name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some(
            "the master name is empty; give the name the sentinels monitor \
                     (`sentinel monitor <name> <host> <port> <quorum>`)"
                .to_owned(),
        );
    }
    name.chars()
        .find(|c| c.is_whitespace() || c.is_control())
        .map(|c| format!("the master name {name:?} contains {c:?}"))
}

impl SentinelMaster {
    /// A master found through `nodes` (already checked by [`node_url`]) on first use.
    /// Over `rediss://` sentinels, the master is reached over TLS as well, both trusting
    /// `tls_root_cert` and showing `tls_client_cert` when they are set.
    pub(crate) fn open(nodes: &[String], name: &str, options: &RedisOptions) -> Result<Self> {
        let invalid = |e: RedisError| {
            Error::config(format_args!("invalid Redis Sentinel nodes {nodes:?}: {e}"))
        };
        let tls = nodes.iter().filter(|n| n.starts_with("rediss://")).count();
        if tls != 0 && tls != nodes.len() {
            return Err(Error::config(format_args!(
                "Redis Sentinel nodes mix redis:// and rediss://: {nodes:?}; every sentinel \
                 is reached the same way"
            )));
        }
        let infos = nodes
            .iter()
            .map(|url| url.as_str().into_connection_info().map_err(invalid))
            .collect::<Result<Vec<_>>>()?;
        let mut builder = SentinelClientBuilder::new(
            infos.iter().map(|i| i.addr().clone()),
            name,
            SentinelServerType::Master,
        )
        .map_err(invalid)?;
        if let Some(user) = &options.username {
            builder = builder.set_client_to_redis_username(user);
        }
        if let Some(password) = &options.password {
            builder = builder.set_client_to_redis_password(password);
        }
        if tls != 0 {
            builder = builder.set_client_to_redis_tls_mode(redis::TlsMode::Secure);
            #[cfg(feature = "tls")]
            if let Some(certificates) = super::tls::certificates(options)? {
                builder = builder
                    .set_client_to_redis_certificates(certificates.clone())
                    .set_client_to_sentinel_certificates(certificates);
            }
        } else if has_certificates(options) {
            return Err(Error::config(
                "tls_root_cert and tls_client_cert need rediss:// sentinels",
            ));
        }
        let client = builder.build().map_err(invalid)?;
        let sentinel_clients = infos
            .into_iter()
            .map(redis::Client::open)
            .collect::<RedisResult<Vec<_>>>()
            .map_err(invalid)?;
        Ok(SentinelMaster(Arc::new(Shared {
            name: name.to_owned(),
            sentinels: nodes
                .iter()
                .map(|n| n.split("://").last().unwrap_or(n).to_owned())
                .collect(),
            sentinel_clients,
            lookup: tokio::sync::Mutex::new(client),
            current: ArcSwapOption::empty(),
            resolving: AtomicBool::new(false),
            config: super::manager_config(options),
            on_move: std::sync::OnceLock::new(),
            lookup_limit: options.connect_timeout * 2 + options.response_timeout * 2,
        })))
    }

    /// Calls `f` whenever the sentinels name another master than the one in use (set once).
    pub(crate) fn on_move(&self, f: impl Fn() + Send + Sync + 'static) {
        let _ = self.0.on_move.set(Box::new(f));
    }

    /// The connection to the master, asking the sentinels first when none was found yet.
    async fn conn(&self) -> RedisResult<ConnectionManager> {
        if let Some(current) = &*self.0.current.load() {
            return Ok(current.conn.clone());
        }
        let mut sentinel = self.0.lookup.lock().await;
        if let Some(current) = &*self.0.current.load() {
            return Ok(current.conn.clone());
        }
        let client = self.0.ask(&mut sentinel).await?;
        self.0.install(client, false).await
    }

    /// A client for the master the sentinels name now, for the backplane's subscription.
    pub(crate) async fn client(&self) -> RedisResult<redis::Client> {
        self.conn().await?;
        match &*self.0.current.load() {
            Some(current) => Ok(current.client.clone()),
            None => Err(no_master(&self.0.name)),
        }
    }

    /// A command failed for want of the master: unless a lookup already runs, ask the
    /// sentinels again in the background until they name a master that answers.
    pub(crate) fn suspect(&self) {
        if self.0.resolving.swap(true, AcqRel) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.0.resolving.store(false, Release);
            return;
        };
        runtime.spawn(resolve(Arc::downgrade(&self.0)));
    }

    /// Why the master cannot be reached, from the sentinels' own answers: `None` when the
    /// master they name answers a PING.
    pub(crate) async fn diagnose(&self, limit: Duration) -> Option<PingFailure> {
        let shared = &self.0;
        let mut answered = 0;
        let mut last = None;
        for client in &shared.sentinel_clients {
            let ask = async {
                let mut conn = client.get_multiplexed_async_connection().await?;
                redis::cmd("SENTINEL")
                    .arg("GET-MASTER-ADDR-BY-NAME")
                    .arg(&shared.name)
                    .query_async::<Option<(String, u16)>>(&mut conn)
                    .await
            };
            match tokio::time::timeout(limit, ask).await {
                Ok(Ok(Some(_))) => {
                    return match tokio::time::timeout(limit, self.ping_master()).await {
                        Ok(Ok(())) => None,
                        Ok(Err(e)) if super::is_transport(&e) => {
                            Some(PingFailure::Unreachable(super::store_err(e)))
                        }
                        Ok(Err(e)) => Some(PingFailure::Refused(super::store_err(e))),
                        Err(_) => Some(PingFailure::Unreachable(Error::store(format_args!(
                            "the master `{}` did not answer within {} ms",
                            shared.name,
                            limit.as_millis()
                        )))),
                    };
                }
                Ok(Ok(None)) => answered += 1,
                Ok(Err(e)) if !super::is_transport(&e) => {
                    return Some(PingFailure::Refused(Error::store(format_args!(
                        "a sentinel refused: {e}"
                    ))));
                }
                Ok(Err(e)) => last = Some(e.to_string()),
                Err(_) => last = Some(format!("no answer within {} ms", limit.as_millis())),
            }
        }
        let sentinels = shared.sentinels.join(", ");
        Some(match answered {
            0 => PingFailure::Unreachable(Error::store(format_args!(
                "no sentinel of {sentinels} answered; the last error was: {}",
                last.unwrap_or_default()
            ))),
            _ => PingFailure::Refused(Error::store(format_args!(
                "no sentinel of {sentinels} knows a master named `{}` (SENTINEL \
                 GET-MASTER-ADDR-BY-NAME); check the name the sentinels monitor",
                shared.name
            ))),
        })
    }

    /// One PING to the master the sentinels name, on a connection of its own.
    async fn ping_master(&self) -> RedisResult<()> {
        let client = self.client().await?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<()>(&mut conn).await
    }
}

#[cfg(feature = "tls")]
fn has_certificates(options: &RedisOptions) -> bool {
    options.tls_root_cert.is_some() || options.tls_client_cert.is_some()
}

#[cfg(not(feature = "tls"))]
fn has_certificates(_: &RedisOptions) -> bool {
    false
}

fn no_master(name: &str) -> RedisError {
    RedisError::from((
        redis::ErrorKind::MasterNameNotFoundBySentinel,
        "no master found by the sentinels",
        name.to_owned(),
    ))
}

impl Shared {
    /// Asks the sentinels for the master, within [`lookup_limit`](Shared::lookup_limit).
    async fn ask(&self, sentinel: &mut SentinelClient) -> RedisResult<redis::Client> {
        match tokio::time::timeout(self.lookup_limit, sentinel.async_get_client()).await {
            Ok(found) => found,
            Err(_) => Err(RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the sentinels named no master `{}` that answered within {} ms",
                    self.name,
                    self.lookup_limit.as_millis()
                ),
            ))),
        }
    }

    /// Makes `client`'s node the master every later command goes to, unless it is already.
    /// `connected`: connect before (in the background lookup, so that the first command on
    /// the new master, the breaker's probe, does not pay for the connection under its
    /// deadline); otherwise the first command connects.
    async fn install(
        &self,
        client: redis::Client,
        connected: bool,
    ) -> RedisResult<ConnectionManager> {
        let addr = client.get_connection_info().addr().to_string();
        let previous = self.current.load_full();
        if let Some(current) = previous.as_ref().filter(|c| c.addr == addr) {
            return Ok(current.conn.clone());
        }
        let config = self.config.clone();
        let conn = match connected {
            false => ConnectionManager::new_lazy_with_config(client.clone(), config)?,
            true => {
                let connect = ConnectionManager::new_with_config(client.clone(), config);
                match tokio::time::timeout(self.lookup_limit, connect).await {
                    Ok(conn) => conn?,
                    Err(_) => {
                        return Err(RedisError::from(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            format!("no connection to {addr} within the lookup's limit"),
                        )))
                    }
                }
            }
        };
        match &previous {
            Some(old) => tracing::warn!(
                "Redis Sentinel: the master `{}` moved from {} to {addr}",
                self.name,
                old.addr
            ),
            None => tracing::debug!("Redis Sentinel: the master `{}` is {addr}", self.name),
        }
        self.current.store(Some(Arc::new(Current {
            addr,
            client,
            conn: conn.clone(),
        })));
        if previous.is_some() {
            if let Some(moved) = self.on_move.get() {
                moved();
            }
        }
        Ok(conn)
    }

    /// Whether the current master still answers `ROLE` as a master.
    async fn current_is_master(&self) -> bool {
        let Some(current) = self.current.load_full() else {
            return false;
        };
        let mut conn = current.conn.clone();
        let cmd = redis::cmd("ROLE");
        let role = cmd.query_async::<redis::Role>(&mut conn);
        matches!(
            tokio::time::timeout(self.lookup_limit, role).await,
            Ok(Ok(redis::Role::Primary { .. }))
        )
    }
}

/// The background lookup [`suspect`](SentinelMaster::suspect) starts: asks the sentinels
/// until they name a master that answers (or the current one answers as a master after
/// all), then ends. It ends too when the cache is dropped.
async fn resolve(shared: Weak<Shared>) {
    let mut pause = Duration::from_millis(50);
    loop {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let found = {
            let mut sentinel = shared.lookup.lock().await;
            shared.ask(&mut sentinel).await
        };
        let installed = match found {
            Ok(client) => shared.install(client, true).await,
            Err(e) => Err(e),
        };
        let settled = match installed {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!(
                    "Redis Sentinel: no master `{}` yet ({e}); asking again",
                    shared.name
                );
                shared.current_is_master().await
            }
        };
        if settled {
            shared.resolving.store(false, Release);
            return;
        }
        drop(shared);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

impl ConnectionLike for SentinelMaster {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move { self.conn().await?.req_packed_command(cmd).await })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            self.conn()
                .await?
                .req_packed_commands(pipeline, offset, count)
                .await
        })
    }

    fn get_db(&self) -> i64 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_entries() {
        assert_eq!(
            node_url("127.0.0.1:26379").as_deref(),
            Ok("redis://127.0.0.1:26379")
        );
        assert_eq!(
            node_url("h:1,"),
            Err(
                "`h:1,` is not a sentinel; expected host:port, redis://host:port or \
                 rediss://host:port"
                    .to_owned()
            )
        );
    }

    #[test]
    fn master_names() {
        assert_eq!(master_name_problem("mymaster"), None);
        assert!(master_name_problem(" ").is_some());
        assert_eq!(
            master_name_problem("my master").as_deref(),
            Some("the master name \"my master\" contains ' '")
        );
    }
}
