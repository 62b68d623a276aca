//! The last transport error Redis operations saw, named in the error of an operation that
//! then runs out of time.
//!
//! The connection manager reconnects in the background. An operation that waits on a
//! reconnection and runs out of its `operation_timeout` first learns nothing about why the
//! connection cannot be made (a TLS certificate no root trusts, a refused port): only the
//! operations that happen to be waiting when the attempt fails see its error. So the store
//! keeps the text of the last such error until an operation is answered, and a timed-out
//! operation's error names it.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};

/// The text of the last transport error since Redis last answered.
#[derive(Default)]
pub(crate) struct LastError {
    /// Whether `text` holds an error: the answered path reads only this.
    set: AtomicBool,
    text: Mutex<Option<Arc<str>>>,
}

impl LastError {
    /// Records `error` as the last transport error.
    pub(crate) fn record(&self, error: &redis::RedisError) {
        let text: Arc<str> = error.to_string().into();
        *self.text.lock().unwrap_or_else(PoisonError::into_inner) = Some(text);
        self.set.store(true, Relaxed);
    }

    /// Forgets the last error: Redis answered an operation.
    #[inline]
    pub(crate) fn clear(&self) {
        if self.set.load(Relaxed) {
            self.set.store(false, Relaxed);
            *self.text.lock().unwrap_or_else(PoisonError::into_inner) = None;
        }
    }

    /// The last transport error since Redis last answered, if any.
    pub(crate) fn get(&self) -> Option<Arc<str>> {
        if !self.set.load(Relaxed) {
            return None;
        }
        self.text
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> redis::RedisError {
        std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into()
    }

    #[test]
    fn keeps_the_last_error_until_cleared() {
        let last = LastError::default();
        assert_eq!(last.get(), None);
        last.record(&refused());
        assert_eq!(last.get().as_deref(), Some("connection refused"));
        last.clear();
        assert_eq!(last.get(), None);
        last.clear();
        assert_eq!(last.get(), None);
    }
}
