//! What an operator sees: per-namespace counts, latency and top keys; the request scope
//! (bypass and its summary); warmers; the bounded key listing; health.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::scope::{RequestScope, ScopeSummary};
use cache_runtime::{cached, key_for, warm_each, Cache, NamespaceStats};

use crate::fixture::Fixture;

#[cached(namespace = "obs.item", cache = cache, skip(cache, calls), label = "item {id}")]
async fn item(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("item {id} v{}", calls.load(SeqCst))
}

#[cached(namespace = "obs.other", cache = cache, skip(cache))]
async fn other(id: u64, cache: &Cache) -> u64 {
    id
}

fn stats_of(cache: &Cache, namespace: &str) -> NamespaceStats {
    cache
        .namespace_stats()
        .into_iter()
        .find(|n| n.namespace == namespace)
        .unwrap_or_else(|| panic!("no stats for {namespace:?}: {:?}", cache.namespace_stats()))
}

/// Counts per namespace are exact, split by where the hit came from; namespaces are
/// separate and sorted; every call is timed at `stats_sample_every(1)`.
pub async fn namespace_counts_are_exact(fx: &Fixture) {
    let c = fx.another(|b| b.stats_sample_every(1)).await;
    // With L1 (tiered), once subscribed; without, at once (false).
    let l1 = c
        .wait_for_backplane(std::time::Duration::from_secs(5))
        .await;
    let calls = AtomicUsize::new(0);
    for id in 0..3 {
        item(id, &c, &calls).await;
    }
    for _ in 0..4 {
        item(1, &c, &calls).await;
    }
    other(9, &c).await;
    let all = c.namespace_stats();
    let names: Vec<&str> = all.iter().map(|n| n.namespace.as_str()).collect();
    assert_eq!(names, ["obs.item", "obs.other"]);
    let s = stats_of(&c, "obs.item");
    assert_eq!(
        (s.calls, s.hits, s.misses, s.coalesced),
        (7, 4, 3, 0),
        "{s:?}"
    );
    // Without L1 every hit is a store hit. With L1 (the fixture's builder keeps it on),
    // the hits are L1 hits unless an invalidation message arrived while a Redis read was
    // copied into L1 (the copy is then dropped and that read's next call reads the store):
    // on the shared test cluster a message of the previous test can still arrive.
    assert_eq!(s.l1_hits + s.store_hits, 4, "{s:?}");
    if l1 {
        assert!(s.l1_hits >= 3, "{s:?}");
    } else {
        assert_eq!(s.l1_hits, 0, "{s:?}");
    }
    assert_eq!((s.stale_served, s.bypassed, s.errors), (0, 0, 0));
    assert_eq!(s.latency.samples, 7);
    assert!(s.latency.p50_us <= s.latency.p99_us && s.latency.p99_us <= s.latency.max_us);
    assert!((s.hit_rate() - 4.0 / 7.0).abs() < 1e-9);
    // Top keys: id 1 (5 calls) first, with its label and its key's digest.
    let key = key_for::<String>("obs.item", 1, &(1u64,)).unwrap();
    let digest = key.as_str().rsplit(':').next().unwrap().to_owned();
    assert_eq!(s.top_keys[0].key, digest);
    assert_eq!(s.top_keys[0].label.as_deref(), Some("item 1"));
    assert_eq!(s.top_keys[0].count, 5);
    assert_eq!(s.top_keys.len(), 3);
    assert_eq!(stats_of(&c, "obs.other").misses, 1);
    // The fixture's own cache saw none of it.
    assert!(fx.cache.namespace_stats().is_empty());
}

/// One fn called with more caches than a call site keeps records for at hand (4): each
/// cache counts exactly its own calls, the later ones through their map.
pub async fn namespace_counts_are_per_cache(fx: &Fixture) {
    let mut caches = Vec::new();
    for _ in 0..6 {
        caches.push(fx.another(|b| b).await);
    }
    let calls = AtomicUsize::new(0);
    // Cache i: one miss of its own key, then i hits; twice round, interleaved.
    for round in 0..2u64 {
        for (i, c) in (0u64..).zip(&caches) {
            let calls_here = if round == 0 { 1 } else { i };
            for _ in 0..calls_here {
                item(100 + i, c, &calls).await;
            }
        }
    }
    assert_eq!(calls.load(SeqCst), 6);
    for (i, c) in (0u64..).zip(&caches) {
        let s = stats_of(c, "obs.item");
        assert_eq!(
            (s.calls, s.hits, s.misses),
            (i + 1, i, 1),
            "cache {i}: {s:?}"
        );
        assert_eq!(c.stats().misses, 1, "cache {i}");
    }
    assert!(fx.cache.namespace_stats().is_empty());
}

/// In a bypassing scope every cached call runs its body and stores the fresh value (the
/// next read outside the scope hits it); the summary and the header word are exact.
pub async fn bypass_scope_refreshes(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(item(1, c, &calls).await, "item 1 v1");
    assert_eq!(item(1, c, &calls).await, "item 1 v1");

    let fresh = RequestScope::new(true);
    let got = fresh
        .run(async {
            let a = item(1, c, &calls).await;
            let b = item(2, c, &calls).await;
            (a, b)
        })
        .await;
    assert_eq!(got, ("item 1 v2".to_owned(), "item 2 v3".to_owned()));
    assert_eq!(
        fresh.summary(),
        ScopeSummary {
            bypassed: 2,
            ..ScopeSummary::default()
        }
    );
    assert_eq!(fresh.summary().x_cache(), Some("bypass"));

    // Outside the scope: the fresh values were stored.
    let normal = RequestScope::new(false);
    let got = normal
        .run(async { (item(1, c, &calls).await, item(2, c, &calls).await) })
        .await;
    assert_eq!(got, ("item 1 v2".to_owned(), "item 2 v3".to_owned()));
    assert_eq!(calls.load(SeqCst), 3);
    assert_eq!(normal.summary().x_cache(), Some("hit"));
    let miss = RequestScope::new(false);
    miss.run(item(3, c, &calls)).await;
    assert_eq!(
        miss.summary(),
        ScopeSummary {
            misses: 1,
            ..ScopeSummary::default()
        }
    );
    let s = stats_of(c, "obs.item");
    assert_eq!((s.bypassed, s.misses, s.hits, s.calls), (2, 2, 3, 7));
}

/// Warmers run in order and are reported; a failing or panicking one does not stop the
/// others; an unknown name is refused before anything runs.
pub async fn warmers_report_each_run(fx: &Fixture) {
    let c = fx.cache.clone();
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    {
        let (c2, calls) = (c.clone(), calls.clone());
        c.register_warmer("items", move || {
            let (c, calls) = (c2.clone(), calls.clone());
            async move {
                let n = warm_each(0..20u64, 4, |id| {
                    let (c, calls) = (c.clone(), calls.clone());
                    async move { item(id, &c, &calls).await }
                })
                .await;
                Ok::<u64, String>(n)
            }
        });
    }
    c.register_warmer("broken", || async { Err::<u64, _>("source down") });
    c.register_warmer("panics", || async {
        if true {
            panic!("warmer bug");
        }
        Ok::<u64, String>(0)
    });
    assert_eq!(c.warmer_names(), ["items", "broken", "panics"]);
    let reports = c.warm_all().await;
    let summary: Vec<(&str, bool, u64)> = reports
        .iter()
        .map(|r| (r.name.as_str(), r.ok, r.count))
        .collect();
    assert_eq!(
        summary,
        [
            ("items", true, 20),
            ("broken", false, 0),
            ("panics", false, 0)
        ]
    );
    assert_eq!(reports[1].error.as_deref(), Some("source down"));
    assert!(
        reports[2].error.as_deref().unwrap().contains("panicked"),
        "{:?}",
        reports[2].error
    );
    assert_eq!(calls.load(SeqCst), 20);
    // Warm entries are hits.
    item(7, &c, &calls).await;
    assert_eq!(calls.load(SeqCst), 20);

    let again = c.warm(&["broken", "items"]).await.unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(calls.load(SeqCst), 20, "already warm: all hits");
    let err = c.warm(&["items", "nope"]).await.unwrap_err().to_string();
    assert!(err.contains("no warmer named \"nope\""), "{err}");
    let stats = c.warmers();
    let runs: Vec<(&str, u64, u64)> = stats
        .iter()
        .map(|w| (w.name.as_str(), w.runs, w.failures))
        .collect();
    assert_eq!(runs, [("items", 2, 0), ("broken", 2, 2), ("panics", 1, 1)]);
}

/// `keys` lists a namespace's keys, bounded by the limit, and nothing of other namespaces.
pub async fn keys_lists_a_namespace(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    for id in 0..30 {
        item(id, c, &calls).await;
    }
    other(1, c).await;
    let mut all = c.keys("obs.item", 1000).await.unwrap();
    all.sort();
    let mut want: Vec<String> = (0..30u64)
        .map(|id| {
            key_for::<String>("obs.item", 1, &(id,))
                .unwrap()
                .as_str()
                .to_owned()
        })
        .collect();
    want.sort();
    assert_eq!(all, want);
    assert_eq!(c.keys("obs.item", 5).await.unwrap().len(), 5);
    assert_eq!(c.keys("obs.other", 10).await.unwrap().len(), 1);
    assert!(c.keys("obs.none", 10).await.unwrap().is_empty());
}

/// `health` reports a reachable store, the backend, and the backplane when there is L1.
pub async fn health_reports_the_store(fx: &Fixture) {
    let h = fx.cache.health().await;
    assert_eq!(h.backend, fx.backend());
    assert!(h.reachable && h.is_healthy(), "{h:?}");
    assert_eq!(h.error, None);
    assert!(h.latency_us.is_some());
    assert_eq!(h.circuit, cache_runtime::CircuitState::Closed);
    assert_eq!(h.backplane, fx.cache.l1_active().then_some(true));
}
