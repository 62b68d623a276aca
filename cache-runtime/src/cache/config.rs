//! Configuration from environment variables.

use std::time::Duration;

use crate::cache::builder::CacheBuilder;
use crate::error::{Error, Result};

/// The environment variables [`CacheBuilder::from_env`] reads.
pub const ENV_VARS: [&str; 18] = [
    "REDIS_URL",
    "REDIS_CLUSTER_NODES",
    "REDIS_SENTINEL_NODES",
    "REDIS_SENTINEL_MASTER",
    "REDIS_USERNAME",
    "REDIS_PASSWORD",
    "REDIS_TLS_CA_FILE",
    "REDIS_TLS_CERT_FILE",
    "REDIS_TLS_KEY_FILE",
    "CACHE_PREFIX",
    "CACHE_DEFAULT_TTL",
    "CACHE_MAX_VALUE_BYTES",
    "CACHE_OPERATION_TIMEOUT",
    "CACHE_REQUIRE_REDIS",
    "CACHE_COMPRESS_THRESHOLD",
    "CACHE_SIGNING_KEY",
    "CACHE_MAX_DEPTH",
    "CACHE_FALLBACK_TTL",
];

impl CacheBuilder {
    /// A builder configured from the environment:
    ///
    /// | variable | meaning | default |
    /// | --- | --- | --- |
    /// | `REDIS_URL` | Redis to use, e.g. `redis://user:pass@host:6379/0`; unset or empty: memory | memory |
    /// | `REDIS_CLUSTER_NODES` | a Redis Cluster instead (feature `cluster`): `host:port,host:port`; not together with `REDIS_URL` | unset |
    /// | `REDIS_SENTINEL_NODES`, `REDIS_SENTINEL_MASTER` | the master these sentinels name instead, followed through failovers ([`sentinel`](CacheBuilder::sentinel), feature `sentinel`): `host:port,host:port` and the master's name, both or neither; not together with `REDIS_URL` or `REDIS_CLUSTER_NODES` | unset |
    /// | `REDIS_USERNAME`, `REDIS_PASSWORD` | the ACL user and password ([`redis_username`](CacheBuilder::redis_username), [`redis_password`](CacheBuilder::redis_password)): for cluster nodes and a sentinel-named master, or instead of the URL's | unset |
    /// | `REDIS_TLS_CA_FILE` | PEM file of the CA to trust instead of the system roots ([`tls_root_cert`](CacheBuilder::tls_root_cert), feature `tls`) | unset |
    /// | `REDIS_TLS_CERT_FILE`, `REDIS_TLS_KEY_FILE` | PEM files of a client certificate and its key, both or neither ([`tls_client_cert`](CacheBuilder::tls_client_cert), feature `tls`) | unset |
    /// | `CACHE_PREFIX` | key prefix: letters, digits, `_`, `-` and `.` (see [`prefix`](CacheBuilder::prefix)) | `cache` |
    /// | `CACHE_DEFAULT_TTL` | default TTL: seconds (`300`) or a duration (`90s`, `10m`, `1h`, `1d`) | `300` |
    /// | `CACHE_MAX_VALUE_BYTES` | largest encoded value cached, in bytes | `8388608` |
    /// | `CACHE_OPERATION_TIMEOUT` | hard deadline of one Redis operation (`250ms`, `1s`) | `250ms` |
    /// | `CACHE_REQUIRE_REDIS` | `true`: building fails when Redis does not answer | `false` |
    /// | `CACHE_COMPRESS_THRESHOLD` | compress encoded values above this many bytes; `off` | `1024` |
    /// | `CACHE_SIGNING_KEY` | secret for signing stored values (never printed) | unset |
    /// | `CACHE_MAX_DEPTH` | deepest nesting of a stored value that is read ([`max_depth`](CacheBuilder::max_depth)) | `128` |
    /// | `CACHE_FALLBACK_TTL` | while the breaker skips Redis, keep values in process memory this long ([`fallback_ttl`](CacheBuilder::fallback_ttl)): a duration (`5s`, `500ms`) or `off` | `5s` |
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable and what it accepts when a value is malformed.
    pub fn from_env() -> Result<CacheBuilder> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`from_env`](CacheBuilder::from_env), reading variables through `lookup` (for
    /// tests, or configuration systems that are not the process environment).
    ///
    /// ```
    /// let err = cache_runtime::CacheBuilder::from_lookup(|name| {
    ///     (name == "CACHE_DEFAULT_TTL").then(|| "soon".to_owned())
    /// })
    /// .unwrap_err();
    /// assert!(err.to_string().contains("CACHE_DEFAULT_TTL"));
    /// ```
    ///
    /// # Errors
    /// [`Error::Config`] naming the variable and what it accepts when a value is malformed.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<CacheBuilder> {
        let mut builder = CacheBuilder::new();
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if let Some(url) = get("REDIS_URL") {
            if !(url.starts_with("redis://")
                || url.starts_with("rediss://")
                || url.starts_with("redis+unix://")
                || url.starts_with("unix://"))
            {
                return Err(Error::config(format_args!(
                    "REDIS_URL must start with redis://, rediss://, redis+unix:// or unix://, got `{}`",
                    redact(&url)
                )));
            }
            builder = builder.redis_url(url);
        }
        if let Some(nodes) = get("REDIS_CLUSTER_NODES") {
            if builder.redis_url.is_some() {
                return Err(Error::config(
                    "REDIS_URL and REDIS_CLUSTER_NODES are both set; pick one: REDIS_URL for a single Redis, REDIS_CLUSTER_NODES for a Redis Cluster",
                ));
            }
            builder = cluster_nodes(builder, &nodes)?;
        }
        builder = sentinel(builder, &get)?;
        if let Some(user) = get("REDIS_USERNAME") {
            builder = builder.redis_username(user);
        }
        if let Some(password) = lookup("REDIS_PASSWORD").filter(|p| !p.is_empty()) {
            builder = builder.redis_password(password);
        }
        if let Some(prefix) = get("CACHE_PREFIX") {
            builder = builder.prefix(prefix);
        }
        if let Some(ttl) = get("CACHE_DEFAULT_TTL") {
            let ttl = parse_duration(&ttl).ok_or_else(|| {
                Error::config(format_args!(
                    "CACHE_DEFAULT_TTL={ttl:?} is not valid; expected a whole number of seconds greater than 0 (e.g. 300) or a duration such as 90s, 10m, 1h, 1d"
                ))
            })?;
            builder = builder.default_ttl(ttl);
        }
        if let Some(max) = get("CACHE_MAX_VALUE_BYTES") {
            let bytes = max.parse::<usize>().ok().filter(|b| *b >= 64).ok_or_else(|| {
                Error::config(format_args!(
                    "CACHE_MAX_VALUE_BYTES={max:?} is not valid; expected a whole number of bytes, at least 64 (e.g. 8388608)"
                ))
            })?;
            builder = builder.max_value_bytes(bytes);
        }
        if let Some(timeout) = get("CACHE_OPERATION_TIMEOUT") {
            let timeout = parse_duration(&timeout).ok_or_else(|| {
                Error::config(format_args!(
                    "CACHE_OPERATION_TIMEOUT={timeout:?} is not valid; expected a duration greater than 0 such as 250ms or 1s (a bare number is seconds)"
                ))
            })?;
            builder = builder.operation_timeout(timeout);
        }
        if let Some(required) = get("CACHE_REQUIRE_REDIS") {
            let required = match required.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    return Err(Error::config(format_args!(
                        "CACHE_REQUIRE_REDIS={required:?} is not valid; expected true or false"
                    )))
                }
            };
            builder = builder.require_redis(required);
        }
        if let Some(threshold) = get("CACHE_COMPRESS_THRESHOLD") {
            let threshold = match threshold.to_ascii_lowercase().as_str() {
                "off" | "none" | "false" => None,
                text => Some(text.parse::<usize>().map_err(|_| {
                    Error::config(format_args!(
                        "CACHE_COMPRESS_THRESHOLD={threshold:?} is not valid; expected a whole number of bytes (e.g. 1024) or off"
                    ))
                })?),
            };
            builder = builder.compress_threshold(threshold);
        }
        if let Some(secret) = get("CACHE_SIGNING_KEY") {
            if let Some(problem) = crate::cache::builder::signing_key_problem(secret.len()) {
                return Err(Error::config(format_args!("CACHE_SIGNING_KEY {problem}")));
            }
            builder = builder.signing_key(secret);
        }
        if let Some(depth) = get("CACHE_MAX_DEPTH") {
            let levels = depth.parse::<u32>().ok().filter(|d| *d >= 1).ok_or_else(|| {
                Error::config(format_args!(
                    "CACHE_MAX_DEPTH={depth:?} is not valid; expected a whole number of levels, at least 1 (e.g. 128)"
                ))
            })?;
            builder = builder.max_depth(levels);
        }
        if let Some(ttl) = get("CACHE_FALLBACK_TTL") {
            let ttl = match ttl.to_ascii_lowercase().as_str() {
                "off" | "none" | "false" | "0" => Some(Duration::ZERO),
                text => parse_duration(text),
            }
            .ok_or_else(|| {
                Error::config(format_args!(
                    "CACHE_FALLBACK_TTL={ttl:?} is not valid; expected a duration such as 5s or 500ms (a bare number is seconds), or off"
                ))
            })?;
            builder = builder.fallback_ttl(ttl);
        }
        builder = tls_files(builder, &get)?;
        if let Some(problem) = crate::cache::builder::prefix_problem(&builder.prefix) {
            return Err(Error::config(format_args!("CACHE_PREFIX {problem}")));
        }
        Ok(builder)
    }
}

/// `REDIS_CLUSTER_NODES`: comma-separated `host:port` or `redis://host:port`.
#[cfg(feature = "cluster")]
fn cluster_nodes(builder: CacheBuilder, nodes: &str) -> Result<CacheBuilder> {
    let entries = nodes
        .split(',')
        .map(|entry| {
            crate::store::redis::cluster::node_url(entry).map_err(|why| {
                Error::config(format_args!("REDIS_CLUSTER_NODES is not valid: {why}"))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(builder.cluster_nodes(entries))
}

#[cfg(not(feature = "cluster"))]
fn cluster_nodes(_: CacheBuilder, _: &str) -> Result<CacheBuilder> {
    Err(Error::config(
        "REDIS_CLUSTER_NODES is set but cache-runtime was built without its `cluster` feature; \
         enable the feature or unset the variable",
    ))
}

/// `REDIS_SENTINEL_NODES` (comma-separated `host:port`, `redis://host:port` or
/// `rediss://host:port`) and `REDIS_SENTINEL_MASTER`, both or neither.
fn sentinel(builder: CacheBuilder, get: &dyn Fn(&str) -> Option<String>) -> Result<CacheBuilder> {
    let (nodes, master) =
        match (get("REDIS_SENTINEL_NODES"), get("REDIS_SENTINEL_MASTER")) {
            (None, None) => return Ok(builder),
            (Some(nodes), Some(master)) => (nodes, master),
            (Some(_), None) => {
                return Err(Error::config(
                    "REDIS_SENTINEL_NODES is set without REDIS_SENTINEL_MASTER; give the name of \
                 the master the sentinels monitor",
                ))
            }
            (None, Some(_)) => return Err(Error::config(
                "REDIS_SENTINEL_MASTER is set without REDIS_SENTINEL_NODES; give the sentinels \
                 as host:port,host:port",
            )),
        };
    if builder.redis_url.is_some() || builder.cluster_nodes.is_some() {
        return Err(Error::config(
            "REDIS_SENTINEL_NODES is set together with REDIS_URL or REDIS_CLUSTER_NODES; pick \
             one: REDIS_URL for a single Redis, REDIS_CLUSTER_NODES for a Redis Cluster, \
             REDIS_SENTINEL_NODES for a master found through Redis Sentinel",
        ));
    }
    sentinel_nodes(builder, &nodes, master)
}

#[cfg(feature = "sentinel")]
fn sentinel_nodes(builder: CacheBuilder, nodes: &str, master: String) -> Result<CacheBuilder> {
    use crate::store::redis::sentinel;
    if let Some(problem) = sentinel::master_name_problem(&master) {
        return Err(Error::config(format_args!(
            "REDIS_SENTINEL_MASTER is not valid: {problem}"
        )));
    }
    let entries = nodes
        .split(',')
        .map(|entry| {
            sentinel::node_url(entry).map_err(|why| {
                Error::config(format_args!("REDIS_SENTINEL_NODES is not valid: {why}"))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(builder.sentinel(entries, master))
}

#[cfg(not(feature = "sentinel"))]
fn sentinel_nodes(_: CacheBuilder, _: &str, _: String) -> Result<CacheBuilder> {
    Err(Error::config(
        "REDIS_SENTINEL_NODES is set but cache-runtime was built without its `sentinel` \
         feature; enable the feature or unset the variable",
    ))
}

/// `REDIS_TLS_CA_FILE`, `REDIS_TLS_CERT_FILE` and `REDIS_TLS_KEY_FILE`, read now (what they
/// hold is checked by `build`).
#[cfg(feature = "tls")]
fn tls_files(
    mut builder: CacheBuilder,
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<CacheBuilder> {
    let read = |var: &str, path: &str| {
        std::fs::read(path)
            .map_err(|e| Error::config(format_args!("{var}={path:?} cannot be read: {e}")))
    };
    if let Some(path) = get("REDIS_TLS_CA_FILE") {
        builder = builder.tls_root_cert(read("REDIS_TLS_CA_FILE", &path)?);
    }
    match (get("REDIS_TLS_CERT_FILE"), get("REDIS_TLS_KEY_FILE")) {
        (Some(cert), Some(key)) => {
            let cert = read("REDIS_TLS_CERT_FILE", &cert)?;
            builder = builder.tls_client_cert(cert, read("REDIS_TLS_KEY_FILE", &key)?);
        }
        (None, None) => {}
        (Some(_), None) => {
            return Err(Error::config(
                "REDIS_TLS_CERT_FILE is set without REDIS_TLS_KEY_FILE; a client certificate needs its key",
            ))
        }
        (None, Some(_)) => {
            return Err(Error::config(
                "REDIS_TLS_KEY_FILE is set without REDIS_TLS_CERT_FILE; a key needs its client certificate",
            ))
        }
    }
    Ok(builder)
}

#[cfg(not(feature = "tls"))]
fn tls_files(builder: CacheBuilder, get: &dyn Fn(&str) -> Option<String>) -> Result<CacheBuilder> {
    for var in [
        "REDIS_TLS_CA_FILE",
        "REDIS_TLS_CERT_FILE",
        "REDIS_TLS_KEY_FILE",
    ] {
        if get(var).is_some() {
            return Err(Error::config(format_args!(
                "{var} is set but cache-runtime was built without its `tls` feature; enable \
                 the feature or unset the variable"
            )));
        }
    }
    Ok(builder)
}

fn redact(url: &str) -> String {
    match url.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => url.to_owned(),
    }
}

/// Parses `300` (seconds) or `500ms`, `90s`, `10m`, `1h`, `1d`. Zero is refused.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let ms_per_unit: u64 = match unit {
        "" | "s" => 1_000,
        "ms" => 1,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    let ms = n.checked_mul(ms_per_unit)?;
    (ms > 0).then(|| Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("300"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Some(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86400)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        for bad in [
            "0",
            "0s",
            "",
            "s",
            "10x",
            "-5",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
