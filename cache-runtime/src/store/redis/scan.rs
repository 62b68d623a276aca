//! SCANs of one node, or of every master of a cluster (each cursor continued on its own
//! node): the bounded key listing of [`Cache::keys`](crate::Cache::keys) and the clears of
//! namespaces and patterns (SCAN + UNLINK in batches of [`SCAN_BATCH`], never KEYS).

use std::future::Future;

use redis::{Cmd, Value};

#[cfg(feature = "cluster")]
use super::Conn;
use super::{RedisStore, SCAN_BATCH};
use crate::error::{Error, Result};
use crate::key::pattern;

impl RedisStore {
    /// At most `limit` cache keys (without the prefix) matching `pattern`, by SCAN (every
    /// master of a cluster), in batches of [`SCAN_BATCH`]; at most `limit / SCAN_BATCH + 64`
    /// round trips per node, so a sparse match cannot scan forever.
    pub(crate) async fn keys_matching(&self, pattern: &str, limit: usize) -> Result<Vec<String>> {
        let glob = pattern::redis_pattern(&self.prefix, pattern);
        let head = self.prefix.len() + 1;
        let mut found = Vec::new();
        #[cfg(feature = "cluster")]
        if let Conn::Cluster(cluster) = &self.conn {
            for (host, port) in self.cluster_masters(cluster).await? {
                self.scan_into(&glob, limit, &mut found, |scan| {
                    let (cluster, host) = (cluster.clone(), host.clone());
                    async move { cluster.route_to(&scan, &host, port).await }
                })
                .await?;
            }
            return Ok(strip(found, head));
        }
        let conn = self.conn.clone();
        self.scan_into(&glob, limit, &mut found, |scan| {
            let mut conn = conn.clone();
            async move { scan.query_async::<Value>(&mut conn).await }
        })
        .await?;
        Ok(strip(found, head))
    }

    /// SCANs with `send` until the cursor ends, `found` holds `limit` keys, or the round
    /// trip budget is spent.
    async fn scan_into<F, Fut>(
        &self,
        glob: &str,
        limit: usize,
        found: &mut Vec<Vec<u8>>,
        send: F,
    ) -> Result<()>
    where
        F: Fn(Cmd) -> Fut,
        Fut: Future<Output = redis::RedisResult<Value>>,
    {
        let mut cursor: u64 = 0;
        for _ in 0..(limit / SCAN_BATCH + 64) {
            if found.len() >= limit {
                break;
            }
            let reply = self.guard(send(scan_cmd(cursor, glob))).await?;
            let (next, keys): (u64, Vec<Vec<u8>>) =
                redis::from_redis_value(reply).map_err(|e| Error::store(e.to_string()))?;
            found.extend(keys.into_iter().take(limit - found.len()));
            if next == 0 {
                break;
            }
            cursor = next;
        }
        Ok(())
    }

    pub(crate) async fn delete_matching(&self, pattern: &str) -> Result<u64> {
        let glob = pattern::redis_pattern(&self.prefix, pattern);
        #[cfg(feature = "cluster")]
        if let Conn::Cluster(cluster) = &self.conn {
            return self.delete_matching_cluster(cluster, &glob).await;
        }
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = self.run(&scan_cmd(cursor, &glob)).await?;
            if !keys.is_empty() {
                let n: u64 = self.run(redis::cmd("UNLINK").arg(&keys)).await?;
                removed += n;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

/// `SCAN {cursor} MATCH {glob} COUNT {SCAN_BATCH}`.
pub(super) fn scan_cmd(cursor: u64, glob: &str) -> Cmd {
    let mut scan = redis::cmd("SCAN");
    scan.arg(cursor)
        .arg("MATCH")
        .arg(glob)
        .arg("COUNT")
        .arg(SCAN_BATCH);
    scan
}

/// Raw keys as cache keys: `{prefix}:` (`head` bytes) removed, lossy UTF-8.
fn strip(raw: Vec<Vec<u8>>, head: usize) -> Vec<String> {
    raw.into_iter()
        .map(|k| String::from_utf8_lossy(k.get(head..).unwrap_or_default()).into_owned())
        .collect()
}
