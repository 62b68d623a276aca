//! Tag indexes written one slot at a time, for Redis Cluster: there an entry and the index
//! of each of its tags lie in different slots, and a pipeline or script must stay in one.

use std::time::Duration;

use super::RedisStore;
use crate::error::Result;

impl RedisStore {
    /// Records `key` under each of `tags` until `ttl` from now: for each tag, one pipeline
    /// on that tag's index alone (ZADD with the expiry as score, trim expired members, keep
    /// the index's TTL at its longest member's), so that each stays in one slot. The
    /// pipelines run concurrently.
    pub(crate) async fn index_per_slot(
        &self,
        key: &str,
        tags: &[String],
        ttl: Duration,
    ) -> Result<()> {
        let ttl_ms = super::ttl_millis(ttl);
        let now = super::lease::now_ms();
        let pipes: Vec<(String, redis::Pipeline)> = tags
            .iter()
            .map(|tag| {
                let mut pipe = redis::pipe();
                let index = super::tag_index(&self.prefix, tag);
                record(&mut pipe, &index, key, now, ttl_ms, true);
                (index, pipe)
            })
            .collect();
        futures_util::future::try_join_all(
            pipes
                .iter()
                .map(|(index, pipe)| self.run_pipe_on(index, pipe)),
        )
        .await?;
        Ok(())
    }
}

/// Adds to `pipe` what records `key` in the tag index `index` until `ttl_ms` from `now`:
/// ZADD with the expiry as score (with `extend_only`, never lowering an existing score),
/// trim members that expired over [`TAG_TRIM_MARGIN_MS`](super::TAG_TRIM_MARGIN_MS) ago,
/// and keep the index's own TTL at its longest-lived member's.
pub(super) fn record(
    pipe: &mut redis::Pipeline,
    index: &str,
    key: &str,
    now: u64,
    ttl_ms: u64,
    extend_only: bool,
) {
    let zadd = pipe.cmd("ZADD").arg(index);
    if extend_only {
        zadd.arg("GT");
    }
    zadd.arg(now.saturating_add(ttl_ms)).arg(key).ignore();
    pipe.cmd("ZREMRANGEBYSCORE")
        .arg(index)
        .arg("-inf")
        .arg(now.saturating_sub(super::TAG_TRIM_MARGIN_MS))
        .ignore();
    pipe.cmd("PEXPIRE")
        .arg(index)
        .arg(ttl_ms)
        .arg("NX")
        .ignore();
    pipe.cmd("PEXPIRE")
        .arg(index)
        .arg(ttl_ms)
        .arg("GT")
        .ignore();
}
