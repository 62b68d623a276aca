//! No stale writes: a body that read the data before an invalidation never stores its value
//! after it. Each test forces the interleaving with two `Notify` barriers:
//!
//! 1. the reader misses, its body reads the old row and stops at the barrier;
//! 2. the writer updates the row and invalidates (key, namespace, pattern, tag, or put);
//! 3. the reader's body returns the old row: it is returned to its caller, not stored.
//!
//! Without the fill lease the old row would be cached and the next call would return it.
//!
//! Each race runs with a tagged and an untagged reader ([`Reader`]): on one Redis node a
//! tagged fill is a script that stores the value and records its tags, an untagged one a
//! single compare-and-set (`SET .. IFEQ` on Valkey 8.1, a script on Redis 7), so both fill
//! paths meet every invalidation.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

use cache_runtime::{cached, key_for, Cache};
use tokio::sync::Notify;

use crate::fixture::Fixture;

/// The "database": one row.
pub struct Db {
    row: Mutex<String>,
    reads: AtomicUsize,
}

impl Db {
    fn new(row: &str) -> Db {
        Db {
            row: Mutex::new(row.to_owned()),
            reads: AtomicUsize::new(0),
        }
    }
    fn read(&self) -> String {
        self.reads.fetch_add(1, SeqCst);
        self.row.lock().unwrap().clone()
    }
    fn write(&self, row: &str) {
        *self.row.lock().unwrap() = row.to_owned();
    }
}

/// Stops the first body that passes it until the test releases it.
#[derive(Default)]
pub struct Gate {
    armed: AtomicBool,
    reached: Notify,
    release: Notify,
}

impl Gate {
    fn armed() -> Gate {
        let gate = Gate::default();
        gate.armed.store(true, SeqCst);
        gate
    }
    async fn pass(&self) {
        if self.armed.swap(false, SeqCst) {
            self.reached.notify_one();
            self.release.notified().await;
        }
    }
}

#[cached(namespace = "stale.user", cache = cache, skip(db, gate), tags = ["user:{id}"])]
async fn read_user(id: u64, cache: &Cache, db: &Db, gate: &Gate) -> String {
    let row = db.read();
    gate.pass().await;
    format!("{id}:{row}")
}

#[cached(namespace = "stale.plain", cache = cache, skip(db, gate))]
async fn read_plain(id: u64, cache: &Cache, db: &Db, gate: &Gate) -> String {
    let row = db.read();
    gate.pass().await;
    format!("{id}:{row}")
}

/// Which `#[cached]` fn reads the row: one with a tag (`user:{id}`) or one without.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// `read_user`, namespace `stale.user`, tagged `user:{id}`.
    Tagged,
    /// `read_plain`, namespace `stale.plain`, no tags.
    Untagged,
}

impl Reader {
    /// Both readers.
    pub const ALL: [Reader; 2] = [Reader::Tagged, Reader::Untagged];

    /// The fn's namespace.
    pub fn namespace(self) -> &'static str {
        match self {
            Reader::Tagged => "stale.user",
            Reader::Untagged => "stale.plain",
        }
    }

    /// The cache key of the row of `id`.
    pub fn key(self, id: u64) -> String {
        key_for::<String>(self.namespace(), 1, &(id,))
            .unwrap()
            .to_string()
    }

    async fn read(self, id: u64, c: &Cache, db: &Db, gate: &Gate) -> String {
        match self {
            Reader::Tagged => read_user(id, c, db, gate).await,
            Reader::Untagged => read_plain(id, c, db, gate).await,
        }
    }
}

/// Runs the interleaving with `invalidate` as the writer's invalidation, for each reader,
/// then checks that the old row was returned once, not stored, and the next call reads the
/// new row.
async fn race(fx: &Fixture, invalidate: impl AsyncFn(&Cache, Reader, u64)) {
    for reader in Reader::ALL {
        race_on(fx, reader, 7, &invalidate).await;
    }
}

/// [`race`] with one reader, on the row of `id`.
async fn race_on(fx: &Fixture, r: Reader, id: u64, invalidate: &impl AsyncFn(&Cache, Reader, u64)) {
    let (c, db, gate) = (&fx.cache, Db::new("old"), Gate::armed());
    let refused = c.stats().stale_fills_refused;
    let reader = r.read(id, c, &db, &gate);
    let writer = async {
        gate.reached.notified().await;
        db.write("new");
        invalidate(c, r, id).await;
        gate.release.notify_one();
    };
    let (stale, ()) = tokio::join!(reader, writer);
    assert_eq!(
        stale,
        format!("{id}:old"),
        "{r:?}: the in-flight call returns what it read"
    );
    let refused = c.stats().stale_fills_refused - refused;
    assert_eq!(refused, 1, "{r:?}: the old row must not be stored");
    assert_eq!(r.read(id, c, &db, &gate).await, format!("{id}:new"));
    assert_eq!(r.read(id, c, &db, &gate).await, format!("{id}:new"));
    assert_eq!(
        db.reads.load(SeqCst),
        2,
        "{r:?}: one read before, one after the update"
    );
}

/// Every invalidation above, while the namespace reads Redis with the fill lease first
/// (after two misses in a row, `cache-runtime/src/read_mode.rs`): the lease taken by that
/// first read guards the fill as the lease taken after a GET does. On Redis the reader's
/// read is checked to be the lease command, not a GET.
pub async fn invalidations_during_a_lease_first_fill(fx: &Fixture) {
    let (c, open, db) = (&fx.cache, Gate::default(), Db::new("warm"));
    let rounds = Reader::ALL
        .into_iter()
        .flat_map(|r| ["key", "namespace", "pattern", "tag"].map(|kind| (r, kind)))
        .filter(|&(r, kind)| r == Reader::Tagged || kind != "tag");
    for (round, (r, kind)) in (0u64..).zip(rounds) {
        // Two misses in a row switch the namespace to the lease first.
        for warm in [1000, 1001] {
            r.read(warm + 10 * round, c, &db, &open).await;
        }
        let gets = fx.command_calls("get").await;
        let invalidate = async |c: &Cache, r: Reader, id| {
            if let Some(before) = gets {
                let after = fx.command_calls("get").await.unwrap();
                assert_eq!(
                    after - before,
                    0,
                    "{r:?} {kind}: the read was the lease command"
                );
            }
            match kind {
                "key" => c.invalidate_key(r.key(id)).await.map(drop),
                "namespace" => c.invalidate_namespace(r.namespace()).await.map(drop),
                "pattern" => c
                    .clear_pattern(&format!("{}:*", r.namespace()))
                    .await
                    .map(drop),
                _ => c.invalidate_tag(&format!("user:{id}")).await.map(drop),
            }
            .unwrap();
        };
        race_on(fx, r, 20 + round, &invalidate).await;
    }
}

/// The writer deletes the exact key.
pub async fn key_invalidation_during_fill(fx: &Fixture) {
    race(fx, async |c: &Cache, r: Reader, id| {
        c.invalidate_key(r.key(id)).await.unwrap();
    })
    .await;
}

/// The writer clears the namespace.
pub async fn namespace_invalidation_during_fill(fx: &Fixture) {
    race(fx, async |c: &Cache, r: Reader, _| {
        c.invalidate_namespace(r.namespace()).await.unwrap();
    })
    .await;
}

/// The writer clears a pattern covering the key.
pub async fn pattern_invalidation_during_fill(fx: &Fixture) {
    race(fx, async |c: &Cache, r: Reader, _| {
        c.clear_pattern(&format!("{}:*", r.namespace()))
            .await
            .unwrap();
    })
    .await;
}

/// The writer invalidates a tag the entry is (about to be) recorded under: the in-flight
/// key is not in the tag's index yet, so only the tag mark can stop the fill. (The tagged
/// reader alone: the untagged one has no tag.)
pub async fn tag_invalidation_during_fill(fx: &Fixture) {
    let invalidate = async |c: &Cache, _: Reader, id: u64| {
        c.invalidate_tag(&format!("user:{id}")).await.unwrap();
    };
    race_on(fx, Reader::Tagged, 7, &invalidate).await;
}

/// A fresh value written while the fill runs (`#[cache_put]`, `set`) is not overwritten by
/// the fill's older value.
pub async fn put_during_fill_wins(fx: &Fixture) {
    for r in Reader::ALL {
        let (c, db, gate) = (&fx.cache, Db::new("old"), Gate::armed());
        let refused = c.stats().stale_fills_refused;
        let reader = r.read(7, c, &db, &gate);
        let writer = async {
            gate.reached.notified().await;
            db.write("new");
            c.set(r.key(7), &"7:new".to_owned(), None).await.unwrap();
            gate.release.notify_one();
        };
        let (stale, ()) = tokio::join!(reader, writer);
        assert_eq!(stale, "7:old", "{r:?}");
        assert_eq!(c.stats().stale_fills_refused - refused, 1, "{r:?}");
        assert_eq!(r.read(7, c, &db, &gate).await, "7:new", "{r:?}");
        assert_eq!(db.reads.load(SeqCst), 1, "{r:?}: the put value is a hit");
    }
}

/// An invalidation of another key, namespace or tag does not stop the fill.
pub async fn unrelated_invalidation_keeps_the_fill(fx: &Fixture) {
    for (round, r) in (1..).zip(Reader::ALL) {
        let (c, db, gate) = (&fx.cache, Db::new("old"), Gate::armed());
        let reader = r.read(7, c, &db, &gate);
        let writer = async {
            gate.reached.notified().await;
            c.invalidate_key(r.key(8)).await.unwrap();
            c.invalidate_tag("user:8").await.unwrap();
            c.invalidate_namespace("stale.other").await.unwrap();
            gate.release.notify_one();
        };
        let (value, ()) = tokio::join!(reader, writer);
        assert_eq!(value, "7:old", "{r:?}");
        let stats = c.stats();
        assert_eq!(
            (stats.stale_fills_refused, stats.writes),
            (0, round),
            "{r:?}"
        );
        assert_eq!(r.read(7, c, &db, &gate).await, "7:old", "{r:?}");
        assert_eq!(db.reads.load(SeqCst), 1, "{r:?}");
    }
}
