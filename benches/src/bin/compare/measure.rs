//! Measuring tools: latency histograms (hdrhistogram, in nanoseconds), and the named figures
//! a child hands back to the parent.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use hdrhistogram::Histogram;

/// Latencies in nanoseconds, 1 ns to 100 s at 3 significant digits.
pub struct Hist(Histogram<u64>);

impl Default for Hist {
    fn default() -> Self {
        Hist(Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("histogram bounds"))
    }
}

impl Hist {
    /// Records one sample of `nanos`.
    pub fn record(&mut self, nanos: u64) {
        self.0.saturating_record(nanos.max(1));
    }

    /// Records the time since `start`.
    pub fn since(&mut self, start: Instant) {
        self.record(u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX));
    }

    /// The `q` quantile (0.5 for p50), in microseconds.
    pub fn q_us(&self, q: f64) -> f64 {
        self.0.value_at_quantile(q) as f64 / 1000.0
    }

    /// The `q` quantile, in nanoseconds.
    pub fn q_ns(&self, q: f64) -> f64 {
        self.0.value_at_quantile(q) as f64
    }
}

/// Named figures: `pinned.hit_seq.ours.p50_us` → 11.8. A child writes them as lines of
/// `name value`; the parent reads them back under the child's mode prefix.
#[derive(Default)]
pub struct Results(pub BTreeMap<String, f64>);

impl Results {
    pub fn set(&mut self, name: impl Into<String>, value: f64) {
        self.0.insert(name.into(), value);
    }

    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }

    pub fn merge(&mut self, other: Results) {
        self.0.extend(other.0);
    }

    pub fn write(&self, path: &Path) {
        let mut text = String::new();
        for (name, value) in &self.0 {
            let _ = writeln!(text, "{name} {value}");
        }
        std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// Reads a child's figures, each name prefixed with `prefix.`.
    pub fn read(path: &Path, prefix: &str) -> Results {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut out = Results::default();
        for line in text.lines() {
            if let Some((name, value)) = line.split_once(' ') {
                if let Ok(value) = value.parse() {
                    out.set(format!("{prefix}.{name}"), value);
                }
            }
        }
        out
    }
}

/// Prints one `what: us vs reference` line as it is measured.
pub fn line(what: &str, ours: &str, reference: &str) {
    println!("  {what:<44} {ours:>22} | {reference}");
}
