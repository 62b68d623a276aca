//! A lock-free latency histogram: log-linear buckets (8 per power of two) of microseconds,
//! from 1 µs to about 2^31 µs (36 minutes), each an atomic counter. Recording is one
//! relaxed increment; percentiles are read from a snapshot and are exact to within one
//! bucket (12.5 %).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Sub-buckets per power of two.
const SUB: u32 = 8;
/// Powers of two covered (values at or above 2^GROUPS µs land in the last bucket).
const GROUPS: u32 = 31;
const BUCKETS: usize = (GROUPS * SUB) as usize;

/// Latency summary of one namespace, in microseconds, from sampled calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LatencySummary {
    /// How many calls were timed.
    pub samples: u64,
    /// Median.
    pub p50_us: u64,
    /// 90th percentile.
    pub p90_us: u64,
    /// 99th percentile.
    pub p99_us: u64,
    /// The slowest timed call.
    pub max_us: u64,
}

pub(crate) struct Histogram {
    buckets: Box<[AtomicU64]>,
    max: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }
}

/// The bucket of `us`: values below 8 µs have a bucket each; above, 8 buckets per power of
/// two.
fn bucket(us: u64) -> usize {
    if us < u64::from(SUB) {
        return us as usize;
    }
    let group = 63 - us.leading_zeros(); // floor(log2(us)) >= 3
    let sub = (us >> (group - 3)) & u64::from(SUB - 1);
    let index = (group - 2) * SUB + sub as u32;
    (index as usize).min(BUCKETS - 1)
}

/// The largest value that lands in bucket `index`.
fn upper_bound(index: usize) -> u64 {
    let index = index as u32;
    if index < SUB {
        return u64::from(index);
    }
    let group = index / SUB + 2;
    let sub = u64::from(index % SUB);
    ((8 + sub + 1) << (group - 3)) - 1
}

impl Histogram {
    /// Records one call that took `us` microseconds.
    pub(crate) fn record(&self, us: u64) {
        self.buckets[bucket(us)].fetch_add(1, Relaxed);
        self.max.fetch_max(us, Relaxed);
    }

    /// Percentiles of what was recorded so far.
    pub(crate) fn summary(&self) -> LatencySummary {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let samples: u64 = counts.iter().sum();
        if samples == 0 {
            return LatencySummary::default();
        }
        let max = self.max.load(Relaxed);
        let at = |q: f64| {
            let rank = ((samples as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (i, n) in counts.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    return upper_bound(i).min(max);
                }
            }
            max
        };
        LatencySummary {
            samples,
            p50_us: at(0.50),
            p90_us: at(0.90),
            p99_us: at(0.99),
            max_us: max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_bound_their_values() {
        let mut previous = None;
        for us in 0..200_000u64 {
            let b = bucket(us);
            assert!(us <= upper_bound(b), "{us} above its bucket {b}'s bound");
            if b > 0 {
                assert!(us > upper_bound(b - 1), "{us} fits the bucket below {b}");
            }
            if let Some(p) = previous {
                assert!(
                    b == p || b == p + 1,
                    "bucket jumped from {p} to {b} at {us}"
                );
            }
            previous = Some(b);
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn percentiles_within_one_bucket() {
        let h = Histogram::default();
        assert_eq!(h.summary(), LatencySummary::default());
        for us in 1..=1000 {
            h.record(us);
        }
        let s = h.summary();
        assert_eq!((s.samples, s.max_us), (1000, 1000));
        // Exact within 12.5 %, never below the true value.
        for (got, want) in [(s.p50_us, 500), (s.p90_us, 900), (s.p99_us, 990)] {
            assert!(got >= want && got <= want + want / 8, "{got} vs {want}");
        }
        let one = Histogram::default();
        one.record(3);
        assert_eq!(
            one.summary(),
            LatencySummary {
                samples: 1,
                p50_us: 3,
                p90_us: 3,
                p99_us: 3,
                max_us: 3
            }
        );
    }
}
