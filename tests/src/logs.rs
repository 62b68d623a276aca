//! Captured log output, for tests that check what the cache logs.

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A writer into a shared buffer, for capturing log output.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Runs `f` with every log event (all levels, all targets) written to a buffer; returns
/// the output of `f` and the log text. The test runtime is single-threaded, so every task
/// `f` spawns logs through the same subscriber.
pub async fn capture_logs<F: Future>(f: F) -> (F::Output, String) {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let out = f.await;
    drop(guard);
    (out, buffer.text())
}
