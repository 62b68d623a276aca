//! Whether the server takes `SET key value IFEQ expected` (Valkey 8.1 and later, Redis 8.4
//! and later): a compare-and-set in one command, without a script.
//!
//! Nothing is asked ahead: the first compare-and-set on a connection sends the `IFEQ` form. A
//! server without it refuses that with `ERR syntax error` and writes nothing; the store then
//! runs the script instead, and keeps to it on that connection. A connection error may mean
//! a new connection to another server (a restart, a failover, an upgrade in place), so it
//! makes the next compare-and-set try the `IFEQ` form again.

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// Not known yet on this connection: try `IFEQ`.
const UNKNOWN: u8 = 0;
/// The server took `IFEQ`.
const YES: u8 = 1;
/// The server refused `IFEQ`: the script, until the next connection error.
const NO: u8 = 2;

/// What the current connection's server said about `SET .. IFEQ`.
#[derive(Debug, Default)]
pub(crate) struct SetIfeq(AtomicU8);

impl SetIfeq {
    /// Whether to send the `IFEQ` form (the server took it, or has not been asked yet).
    #[inline]
    pub(crate) fn worth_trying(&self) -> bool {
        self.0.load(Relaxed) != NO
    }

    /// The server answered the `IFEQ` form (`taken`) or refused it as a syntax error.
    #[inline]
    pub(crate) fn found(&self, taken: bool) {
        let state = if taken { YES } else { NO };
        if self.0.load(Relaxed) != state {
            self.0.store(state, Relaxed);
        }
    }

    /// A connection error: the next compare-and-set may be on a new connection.
    #[inline]
    pub(crate) fn forget(&self) {
        if self.0.load(Relaxed) == NO {
            self.0.store(UNKNOWN, Relaxed);
        }
    }

    /// `Some(true)` once the server took `IFEQ`, `Some(false)` once it refused it, `None`
    /// before either on this connection.
    #[cfg(test)]
    fn known(&self) -> Option<bool> {
        match self.0.load(Relaxed) {
            YES => Some(true),
            NO => Some(false),
            _ => None,
        }
    }
}

/// Whether `e` is how a server without `SET .. IFEQ` answers it: an `ERR` reply
/// (`ERR syntax error` from Redis 7 and Valkey 8.0). Other refusals (`WRONGTYPE`, `OOM`,
/// `NOPERM`, `READONLY`) have their own codes and would refuse the script's `SET` too.
pub(crate) fn is_refusal(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError)
}

/// What `SET .. IFEQ` returned: `OK` when it stored, nil when the key held something else.
pub(crate) fn stored(reply: redis::Value) -> redis::RedisResult<bool> {
    match reply {
        redis::Value::Okay => Ok(true),
        redis::Value::SimpleString(s) if s == "OK" => Ok(true),
        redis::Value::Nil => Ok(false),
        other => Err(redis::RedisError::from((
            redis::ErrorKind::Parse,
            "unexpected reply to SET .. IFEQ",
            format!("{other:?}"),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_until_the_next_connection_error() {
        let ifeq = SetIfeq::default();
        assert!(ifeq.worth_trying());
        assert_eq!(ifeq.known(), None);
        ifeq.found(false);
        assert!(!ifeq.worth_trying());
        assert_eq!(ifeq.known(), Some(false));
        ifeq.forget();
        assert!(ifeq.worth_trying());
        assert_eq!(ifeq.known(), None);
        ifeq.found(true);
        ifeq.forget();
        assert_eq!(ifeq.known(), Some(true));
    }

    #[test]
    fn replies() {
        assert_eq!(stored(redis::Value::Okay).ok(), Some(true));
        assert_eq!(stored(redis::Value::Nil).ok(), Some(false));
        let err = stored(redis::Value::Int(1)).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("unexpected reply to SET .. IFEQ")),
            "{err:?}"
        );
    }
}
