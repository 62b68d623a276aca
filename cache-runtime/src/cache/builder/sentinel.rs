//! [`CacheBuilder::sentinel`]: a Redis master found through Redis Sentinel.

use std::sync::Arc;

use crate::cache::builder::CacheBuilder;
use crate::error::{Error, Result};
use crate::observe::stats::Counters;
use crate::store::Backend;

impl CacheBuilder {
    /// Use the Redis master that these sentinels name `master` (feature `sentinel`), and
    /// follow it through a failover: when a command fails for want of the master, the cache
    /// asks the sentinels again and moves every later command, and the backplane's
    /// subscription, to the master they name. Calls fail open meanwhile, as in any outage.
    ///
    /// Sentinel entries are `host:port` or `redis://host:port`, or all of them
    /// `rediss://host:port` for TLS to the sentinels and the master (feature `tls`;
    /// [`tls_root_cert`](CacheBuilder::tls_root_cert) and
    /// [`tls_client_cert`](CacheBuilder::tls_client_cert) apply to both);
    /// [`redis_username`](CacheBuilder::redis_username) and
    /// [`redis_password`](CacheBuilder::redis_password) are the master's. Not together
    /// with [`redis_url`](CacheBuilder::redis_url) or `cluster_nodes`. From the
    /// environment: `REDIS_SENTINEL_NODES` and `REDIS_SENTINEL_MASTER`.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> cache_runtime::Result<()> {
    /// let cache = cache_runtime::Cache::builder()
    ///     .sentinel(["10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"], "mymaster")
    ///     .redis_password("secret")
    ///     .build()
    ///     .await?;
    /// cache.set("greeting", &"hello".to_owned(), None).await?;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "sentinel")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sentinel")))]
    pub fn sentinel(
        mut self,
        nodes: impl IntoIterator<Item = impl Into<String>>,
        master: impl Into<String>,
    ) -> Self {
        self.sentinel = Some((nodes.into_iter().map(Into::into).collect(), master.into()));
        self
    }

    /// The checks of the sentinel settings that need no connection.
    pub(crate) fn validate_sentinel(&self) -> Result<()> {
        let Some((nodes, _)) = &self.sentinel else {
            return Ok(());
        };
        if self.redis_url.is_some() || self.cluster_nodes.is_some() {
            return Err(Error::config(
                "sentinel is set together with redis_url or cluster_nodes; pick one: \
                 redis_url for a single Redis, cluster_nodes for a Redis Cluster, sentinel \
                 for a master found through Redis Sentinel",
            ));
        }
        if nodes.is_empty() {
            return Err(Error::config(
                "sentinel has no nodes; give at least one sentinel's host:port",
            ));
        }
        Ok(())
    }

    /// The backend behind the sentinels.
    #[cfg(feature = "sentinel")]
    pub(crate) fn sentinel_backend(
        &self,
        nodes: &[String],
        master: &str,
        counters: Arc<Counters>,
    ) -> Result<Backend> {
        use crate::store::redis::sentinel;
        if let Some(problem) = sentinel::master_name_problem(master) {
            return Err(Error::config(format_args!("sentinel: {problem}")));
        }
        let urls = nodes
            .iter()
            .map(|node| {
                sentinel::node_url(node)
                    .map_err(|why| Error::config(format_args!("sentinel: {why}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Backend::Redis(
            crate::store::redis::RedisStore::open_sentinel(
                &urls,
                master,
                &self.prefix,
                &self.redis_options(),
                counters,
            )?,
        ))
    }

    #[cfg(not(feature = "sentinel"))]
    pub(crate) fn sentinel_backend(
        &self,
        _: &[String],
        _: &str,
        _: Arc<Counters>,
    ) -> Result<Backend> {
        Err(Error::config(
            "Redis Sentinel nodes are set but cache-runtime was built without its `sentinel` \
             feature",
        ))
    }

    /// `redis+sentinel://host:port,host:port/master`: where the cache is, for messages.
    pub(crate) fn sentinel_description(&self) -> Option<String> {
        let (nodes, master) = self.sentinel.as_ref()?;
        let hosts: Vec<String> = nodes
            .iter()
            .map(|n| super::redact(n))
            .map(|n| n.split("://").last().unwrap_or(&n).to_owned())
            .collect();
        Some(format!("redis+sentinel://{}/{master}", hosts.join(",")))
    }
}
