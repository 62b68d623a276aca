//! How one cached call was served: the outcome every counter, scope and metric records.

/// How one cached call was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Served {
    /// From the in-process tier (L1) in front of Redis.
    L1,
    /// From the store: Redis, or the memory store when there is no Redis.
    Store,
    /// From another caller's body (single flight).
    Coalesced,
    /// The body ran and its value was stored (or was not cacheable).
    Miss,
    /// A stale value stood in for a failing or slow body (`stale_if_error`, `soft_timeout`).
    Stale,
    /// The read was bypassed ([`RequestScope`](crate::observe::scope::RequestScope) with bypass): the
    /// body ran and its value was stored.
    Bypass,
    /// The store failed, so the body ran without it.
    Failed,
}

impl Served {
    /// `"l1"`, `"store"`, `"coalesced"`, `"miss"`, `"stale"`, `"bypass"`, `"failed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Served::L1 => "l1",
            Served::Store => "store",
            Served::Coalesced => "coalesced",
            Served::Miss => "miss",
            Served::Stale => "stale",
            Served::Bypass => "bypass",
            Served::Failed => "failed",
        }
    }

    /// Whether a cached value was returned (L1, store or another caller's body).
    pub fn is_hit(self) -> bool {
        matches!(self, Served::L1 | Served::Store | Served::Coalesced)
    }
}
