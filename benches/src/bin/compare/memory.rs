//! Scenario 8, memory: 1,000,000 distinct entries of a 100-byte value through a `#[cached]`
//! fn into a memory store at its default bound (`Cache::memory()`: 100,000 entries, 256 MiB;
//! the L1 tier is the same store type with its own bound, 10,000 entries and 64 MiB by
//! default). Measured in its own process: the RSS before and after, and how many entries are
//! left (the bound must hold).

use std::time::Instant;

use cache_runtime::{cached, Cache};

use crate::env::Env;
use crate::measure::Results;

/// Distinct entries written.
const ENTRIES: u64 = 1_000_000;
/// The default entry bound of `Cache::memory()`.
const BOUND: u64 = 100_000;

/// A 100-byte value.
#[cached(cache = cache, namespace = "bench.mem")]
async fn blob(cache: &Cache, id: u64) -> Vec<u8> {
    vec![(id % 251) as u8; 100]
}

/// A `VmRSS`-style line of `/proc/self/status`, in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|l| l.trim_start_matches([':', ' ', '\t']).split(' ').next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

pub fn run(_env: &Env) -> Results {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mut out = Results::default();
    rt.block_on(async {
        let cache = Cache::memory();
        let before = status_mib("VmRSS");
        let start = Instant::now();
        for id in 0..ENTRIES {
            std::hint::black_box(blob(&cache, id).await);
        }
        let fill_s = start.elapsed().as_secs_f64();
        let stats = cache.stats();
        let after = status_mib("VmRSS");
        let mut present = 0u64;
        for id in 0..ENTRIES {
            let key = cache_runtime::key_for::<Vec<u8>>("bench.mem", 1, &(id,)).expect("a key");
            if cache.exists(&key).await.expect("exists") {
                present += 1;
            }
        }
        let peak = status_mib("VmHWM");
        out.set("rss_before_mib", before);
        out.set("rss_after_mib", after);
        out.set("rss_peak_mib", peak);
        out.set("present", present as f64);
        out.set("evictions", stats.evictions as f64);
        out.set("fill_s", fill_s);
        println!(
            "  {ENTRIES} distinct 100-byte entries in {fill_s:.1} s: RSS {before:.1} -> {after:.1} MiB \
             (peak {peak:.1}); {present} present, bound {BOUND}, {} evicted; {:.0} bytes of RSS \
             per present entry",
            stats.evictions,
            (after - before) * 1_048_576.0 / present.max(1) as f64
        );
    });
    out
}
