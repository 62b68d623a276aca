//! What the cache tells a service's logs and metrics about its calls: one `cached` span per
//! call at debug level with the namespace and how it was served (nothing at info on a hit),
//! and the `metrics` facade counters and histogram, by name and labels.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cache_runtime::{cached, Cache};
use cache_tests::logs::capture_logs;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::MetricKind;

/// Held by every test here. tracing caches each callsite's interest process-wide: a call
/// on one test's thread (under another subscriber, or none) that registers a callsite while
/// another test installs its subscriber can leave that callsite "never" for it, and
/// `one_debug_span_per_call` then got no debug line (seen in CI; 16 runs in 200 of this
/// binary before, with the metrics test the one that interfered).
static SUBSCRIBERS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[cached(namespace = "obs.traced", cache = cache, skip(cache))]
async fn traced(id: u64, cache: &Cache) -> u64 {
    tracing::info!("body ran for {id}");
    id
}

/// At debug: a `cached{namespace=..}` span around each call, one line per call naming how it
/// was served, and the body's own log inside the span.
#[tokio::test]
async fn one_debug_span_per_call() {
    let _one_at_a_time = SUBSCRIBERS.lock().await;
    let cache = Cache::memory();
    let ((), logs) = capture_logs(async {
        traced(1, &cache).await;
        traced(1, &cache).await;
    })
    .await;
    let calls: Vec<&str> = logs.lines().filter(|l| l.contains("cached call")).collect();
    assert_eq!(calls.len(), 2, "{logs}");
    assert!(
        calls[0].contains("DEBUG") && calls[0].contains("served=\"miss\""),
        "{logs}"
    );
    assert!(calls[1].contains("served=\"store\""), "{logs}");
    assert!(
        calls
            .iter()
            .all(|l| l.contains("cached{namespace=\"obs.traced\"")),
        "{logs}"
    );
    let body = logs.lines().find(|l| l.contains("body ran for 1")).unwrap();
    assert!(body.contains("cached{namespace=\"obs.traced\"}"), "{body}");
}

/// At info a hit logs nothing.
#[tokio::test]
async fn no_line_per_hit_at_info() {
    let _one_at_a_time = SUBSCRIBERS.lock().await;
    let cache = Cache::memory();
    traced(2, &cache).await;
    let buffer = cache_tests::logs::LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    for _ in 0..10 {
        traced(2, &cache).await;
    }
    drop(guard);
    assert_eq!(buffer.text(), "");
}

/// One metric as recorded: kind, name, labels, value as text.
type Seen = (MetricKind, String, Vec<(String, String)>, String);

/// With the `metrics` feature: hits by namespace and tier, misses, and the sampled latency
/// histogram, through whatever recorder the service installed.
#[tokio::test(flavor = "multi_thread")]
async fn metrics_names_and_labels() {
    // No subscriber here, but its calls register the cache's callsites: while another test's
    // subscriber is being installed, they can be cached as of no interest for it.
    let _one_at_a_time = SUBSCRIBERS.lock().await;
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let cache = Cache::builder()
        .stats_sample_every(1)
        .build()
        .await
        .unwrap();
    metrics::with_local_recorder(&recorder, || {
        let rt = tokio::runtime::Handle::current();
        tokio::task::block_in_place(|| {
            rt.block_on(async {
                traced(3, &cache).await;
                traced(3, &cache).await;
                traced(3, &cache).await;
            })
        })
    });
    let mut seen: Vec<Seen> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (kind, key) = key.into_parts();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            let value = match value {
                DebugValue::Counter(n) => n.to_string(),
                DebugValue::Gauge(g) => g.to_string(),
                DebugValue::Histogram(h) => format!("{} samples", h.len()),
            };
            (kind, key.name().to_owned(), labels, value)
        })
        .filter(|(_, name, _, value)| name.starts_with("cache_") && value != "0")
        .collect();
    seen.sort();
    let ns = || ("namespace".to_owned(), "obs.traced".to_owned());
    assert_eq!(
        seen,
        [
            (
                MetricKind::Counter,
                "cache_hits_total".to_owned(),
                vec![ns(), ("tier".to_owned(), "store".to_owned())],
                "2".to_owned()
            ),
            (
                MetricKind::Counter,
                "cache_misses_total".to_owned(),
                vec![ns()],
                "1".to_owned()
            ),
            (
                MetricKind::Histogram,
                "cache_op_seconds".to_owned(),
                vec![ns()],
                "3 samples".to_owned()
            ),
        ]
    );
}
