//! Unreadable entries are deleted only while they still hold the bytes that were read: a
//! good value another writer stored between the read and the delete (a newer release during
//! a rolling deploy) stays.
//!
//! The race is driven without timing: the value type's `Deserialize` runs the other writer
//! (on its own thread, runtime and connection) the moment the cache decodes the bytes it
//! read, then refuses them, as a value of an older shape would be refused.

use std::sync::Mutex;

use serde::{de::Error as _, Deserialize, Deserializer, Serialize};

use crate::fixture::Fixture;

/// Run by [`Reshaped`]'s next `Deserialize`, which then fails.
type Race = Box<dyn FnOnce() + Send>;
static RACE: Mutex<Option<Race>> = Mutex::new(None);

/// Held by each test here for its whole run: [`RACE`] is one for the test binary.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A value of a newer shape: it decodes as a `u64`, except once after `arm`, when it runs
/// the armed writer and refuses the bytes.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Reshaped(u64);

impl<'de> Deserialize<'de> for Reshaped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let race = RACE.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(race) = race {
            race();
            return Err(D::Error::custom("the shape of an older release"));
        }
        u64::deserialize(d).map(Reshaped)
    }
}

fn arm(race: impl FnOnce() + Send + 'static) {
    *RACE.lock().unwrap() = Some(Box::new(race));
}

/// Stores `Reshaped(n)` under `key` from another writer: on Redis another cache (built on
/// its own thread and runtime, like another process), in memory the fixture's own store.
fn write_elsewhere(fx: &Fixture, key: &'static str, n: u64) -> impl FnOnce() + Send + 'static {
    let (builder, cache, on_redis) = (fx.builder().l1(false), fx.cache.clone(), fx.on_redis());
    move || {
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let writer = if on_redis {
                    builder.build().await.unwrap()
                } else {
                    cache
                };
                writer.set(key, &Reshaped(n), None).await.unwrap();
            });
        })
        .join()
        .unwrap();
    }
}

/// Takes this binary's [`TURN`] and stores under `key` what an older release would have
/// (a `String` where [`Reshaped`] is now expected).
async fn older_entry(fx: &Fixture, key: &str) -> tokio::sync::MutexGuard<'static, ()> {
    let turn = TURN.lock().await;
    let older = "an older release's value".to_owned();
    fx.cache.set(key, &older, None).await.unwrap();
    turn
}

/// An entry of an older shape is read; before this cache deletes it, another writer stores
/// a good value. The read is a miss (one decode error); the good value stays and is the
/// next read's hit.
pub async fn good_value_written_meanwhile_survives(fx: &Fixture) {
    const KEY: &str = "unreadable.raced";
    let _turn = older_entry(fx, KEY).await;
    let c = &fx.cache;
    arm(write_elsewhere(fx, KEY, 7));
    let before = c.stats();
    assert_eq!(c.get::<Reshaped>(KEY).await.unwrap(), None);
    let after = c.stats();
    assert_eq!(after.decode_errors - before.decode_errors, 1);
    assert_eq!(after.misses - before.misses, 1);
    assert!(RACE.lock().unwrap().is_none(), "the race did not run");
    assert_eq!(
        c.get::<Reshaped>(KEY).await.unwrap(),
        Some(Reshaped(7)),
        "the good value written between the read and the delete was deleted"
    );
    assert_eq!(c.stats().decode_errors, after.decode_errors);
}

/// Without a race, the unreadable entry is deleted: the next read finds nothing.
pub async fn unreadable_entry_is_deleted(fx: &Fixture) {
    const KEY: &str = "unreadable.alone";
    let _turn = older_entry(fx, KEY).await;
    let c = &fx.cache;
    arm(|| {});
    assert_eq!(c.get::<Reshaped>(KEY).await.unwrap(), None);
    assert!(!c.exists(KEY).await.unwrap(), "the unreadable entry stayed");
    assert_eq!(c.get::<String>(KEY).await.unwrap(), None);
    assert_eq!(c.stats().decode_errors, 1);
}
