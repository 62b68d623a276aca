//! One entry of a node list (`REDIS_CLUSTER_NODES`, `REDIS_SENTINEL_NODES`) as a URL.

/// `host:port` or `redis://host:port` as a `redis://` URL, and `rediss://host:port` (TLS,
/// feature `tls`) as itself; anything else (credentials, a path, no port) is refused with a
/// message that calls the entry `what` ("a cluster node").
#[cfg(any(feature = "cluster", feature = "sentinel"))]
pub(crate) fn node_url(entry: &str, what: &str) -> Result<String, String> {
    let entry = entry.trim();
    let (scheme, rest) = match entry.strip_prefix("rediss://") {
        Some(rest) => ("rediss", rest),
        None => ("redis", entry.strip_prefix("redis://").unwrap_or(entry)),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let valid = match rest.rsplit_once(':') {
        Some((host, port)) => {
            !host.is_empty()
                && !host.contains(['/', '@', '?', '#', ' '])
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        }
        None => false,
    };
    if !valid {
        return Err(format!(
            "`{}` is not {what}; expected host:port, redis://host:port or rediss://host:port",
            super::redact_url(entry)
        ));
    }
    if scheme == "rediss" && cfg!(not(feature = "tls")) {
        return Err(format!(
            "`{entry}` needs TLS, and cache-runtime was built without its `tls` feature"
        ));
    }
    Ok(format!("{scheme}://{rest}"))
}
