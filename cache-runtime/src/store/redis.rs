//! The Redis store: redis-rs on tokio through an auto-reconnecting multiplexed connection.

use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, RedisWrite, ToRedisArgs, Value};

use crate::error::{Error, Result};
use crate::pattern;

pub(crate) mod lease;

/// How many keys one SCAN step asks for, and how many keys one UNLINK removes.
const SCAN_BATCH: usize = 500;

/// Tag index members are trimmed this long after their entry expired (clock skew between
/// the processes that write under one tag must stay below it).
const TAG_TRIM_MARGIN_MS: u64 = 60_000;

/// The key (after the prefix) of a tag's index. `#` never starts an escaped namespace, so
/// an index can never be mistaken for, or cleared with, a namespace's entries.
pub(crate) fn tag_index(tag: &str) -> String {
    format!("#tag:{}", crate::key::escape_tag(tag))
}

/// Connection settings for the Redis store.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RedisOptions {
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
    /// How long a fill lease holds (see [`lease`]).
    pub(crate) lease_time: Duration,
}

/// The Redis store. Cheap to clone: clones share one multiplexed connection.
#[derive(Clone)]
pub(crate) struct RedisStore {
    conn: ConnectionManager,
    client: redis::Client,
    prefix: std::sync::Arc<str>,
    lease_time: Duration,
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

/// Removes the password from a Redis URL before it goes into a message.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let user = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                "***".to_owned()
            };
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

fn store_err(e: redis::RedisError) -> Error {
    Error::store(e)
}

impl RedisStore {
    /// Opens a lazily connecting store: nothing is sent until the first command.
    pub(crate) fn open(url: &str, prefix: &str, options: RedisOptions) -> Result<Self> {
        let client = redis::Client::open(url).map_err(|e| {
            Error::config(format_args!("invalid Redis URL `{}`: {e}", redact_url(url)))
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.connect_timeout))
            .set_response_timeout(Some(options.response_timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(100));
        let conn =
            ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(store_err)?;
        Ok(RedisStore {
            conn,
            client,
            prefix: prefix.into(),
            lease_time: options.lease_time,
        })
    }

    fn key<'a>(&'a self, key: &'a str) -> Prefixed<'a> {
        Prefixed(&self.prefix, key)
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: &Cmd) -> Result<T> {
        let mut conn = self.conn.clone();
        cmd.query_async(&mut conn).await.map_err(store_err)
    }

    pub(crate) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.run(redis::cmd("GET").arg(self.key(key))).await
    }

    pub(crate) async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<()> {
        self.run(
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
    /// A tag's index is a sorted set `{prefix}:#tag:{tag}` of keys scored by their expiry
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
        let ttl_ms = ttl_millis(ttl);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms)
            .ignore();
        for tag in tags {
            let index = tag_index(tag);
            pipe.cmd("ZADD")
                .arg(self.key(&index))
                .arg(now_ms.saturating_add(ttl_ms))
                .arg(key)
                .ignore();
            pipe.cmd("ZREMRANGEBYSCORE")
                .arg(self.key(&index))
                .arg("-inf")
                .arg(now_ms.saturating_sub(TAG_TRIM_MARGIN_MS))
                .ignore();
            pipe.cmd("PEXPIRE")
                .arg(self.key(&index))
                .arg(ttl_ms)
                .arg("NX")
                .ignore();
            pipe.cmd("PEXPIRE")
                .arg(self.key(&index))
                .arg(ttl_ms)
                .arg("GT")
                .ignore();
        }
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await.map_err(store_err)
    }

    /// Deletes every key recorded under `tag`, [`SCAN_BATCH`] at a time. Returns how many
    /// existed.
    pub(crate) async fn delete_tag(&self, tag: &str) -> Result<u64> {
        let index = tag_index(tag);
        let mut removed = 0;
        loop {
            let members: Vec<String> = self
                .run(
                    redis::cmd("ZRANGE")
                        .arg(self.key(&index))
                        .arg(0)
                        .arg(SCAN_BATCH - 1),
                )
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
                .run(redis::cmd("ZREM").arg(self.key(&index)).arg(&members))
                .await?;
        }
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<bool> {
        let n: u64 = self.run(redis::cmd("UNLINK").arg(self.key(key))).await?;
        Ok(n > 0)
    }

    /// Whether `key` holds a value (a fill lease, a miss in progress, is not one).
    pub(crate) async fn exists(&self, key: &str) -> Result<bool> {
        static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
        let script = SCRIPT.get_or_init(|| {
            redis::Script::new(
                r"
local v = redis.call('GET', KEYS[1])
if v and string.byte(v, 1) ~= tonumber(ARGV[1]) then return 1 end
return 0
",
            )
        });
        let mut conn = self.conn.clone();
        let n: u64 = script
            .key(self.key(key))
            .arg(lease::LEASE_MAGIC)
            .invoke_async(&mut conn)
            .await
            .map_err(store_err)?;
        Ok(n > 0)
    }

    pub(crate) async fn expire(&self, key: &str, ttl: Duration) -> Result<bool> {
        let n: u64 = self
            .run(
                redis::cmd("PEXPIRE")
                    .arg(self.key(key))
                    .arg(ttl_millis(ttl)),
            )
            .await?;
        Ok(n > 0)
    }

    /// Remaining TTL; `None` when the key is missing or has no expiry.
    pub(crate) async fn ttl(&self, key: &str) -> Result<Option<Duration>> {
        let ms: i64 = self.run(redis::cmd("PTTL").arg(self.key(key))).await?;
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

    /// One pipeline of `SET .. PX` for all items.
    pub(crate) async fn set_many(&self, items: &[(&str, &[u8])], ttl: Duration) -> Result<()> {
        if items.is_empty() {
            return Ok(());
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
        let mut conn = self.conn.clone();
        pipe.query_async::<()>(&mut conn).await.map_err(store_err)
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
    pub(crate) async fn delete_matching(&self, pattern: &str) -> Result<u64> {
        let glob = pattern::redis_pattern(&self.prefix, pattern);
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = self
                .run(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&glob)
                        .arg("COUNT")
                        .arg(SCAN_BATCH),
                )
                .await?;
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

    /// The client, for opening the backplane's subscriber connection.
    pub(crate) fn client(&self) -> &redis::Client {
        &self.client
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
        let start = Instant::now();
        let reply: Value = self.run(&redis::cmd("PING")).await?;
        match reply {
            Value::SimpleString(s) if s == "PONG" => Ok(start.elapsed()),
            other => Err(Error::store(format_args!(
                "unexpected PING reply {other:?}"
            ))),
        }
    }
}

fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("redis://user:s3cret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact_url("redis://:s3cret@host"), "redis://:***@host");
        assert_eq!(redact_url("redis://s3cret@host"), "redis://***@host");
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
