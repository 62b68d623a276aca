//! [`Coherence`]: how the L1 of a cache learns that its copies went stale, as `stats()`,
//! `health()` and the dashboard report it (the tier sets it: `tier/tracking.rs`).

/// How an L1 in front of Redis learns that its copies went stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Coherence {
    /// Not decided yet: Redis has not answered since the cache was built (L1 is not used).
    Connecting,
    /// Redis tracks the keys (`CLIENT TRACKING`): every change of a key in Redis, by any
    /// client, drops its L1 copies.
    Tracking,
    /// The server or a proxy in front of it refused RESP3 or `CLIENT TRACKING` (or the
    /// cache was built with `l1_tracking(false)`): only this framework's own invalidations,
    /// published on the backplane channel, drop L1 copies.
    Backplane,
}

impl Coherence {
    /// `"connecting"`, `"tracking"` or `"backplane"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Coherence::Connecting => "connecting",
            Coherence::Tracking => "tracking",
            Coherence::Backplane => "backplane",
        }
    }

    #[cfg(feature = "redis")]
    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            1 => Coherence::Tracking,
            2 => Coherence::Backplane,
            _ => Coherence::Connecting,
        }
    }
}

impl std::fmt::Display for Coherence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
