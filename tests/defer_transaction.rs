//! Invalidations inside a real SQLite transaction wait for the commit, and vanish on
//! rollback (`defer_invalidations`), on the memory store and on a real redis-server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cache_invalidate, cached, defer_invalidations, key_for, Cache};
use cache_tests::fixture::Fixture;
use rusqlite::Connection;
use tokio::sync::Mutex;

struct Db {
    conn: Mutex<Connection>,
    reads: AtomicUsize,
}

impl Db {
    fn new() -> Db {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             INSERT INTO users VALUES (1, 'Ada');",
        )
        .unwrap();
        Db {
            conn: Mutex::new(conn),
            reads: AtomicUsize::new(0),
        }
    }
}

#[cached(namespace = "tx.user", cache = cache, skip(db))]
async fn user_name(id: i64, cache: &Cache, db: &Db) -> Option<String> {
    db.reads.fetch_add(1, SeqCst);
    db.conn
        .lock()
        .await
        .query_row("SELECT name FROM users WHERE id = ?1", [id], |r| r.get(0))
        .ok()
}

/// The write's own invalidation, as a service would declare it.
#[cache_invalidate(user_name(id), cache = cache)]
async fn user_changed(id: i64, cache: &Cache) {}

/// Renames user 1 inside a transaction that commits or rolls back; the invalidation is
/// issued inside the transaction, before the commit.
async fn rename(cache: &Cache, db: &Db, name: &str, commit: bool) -> Result<(), String> {
    let key = key_for::<String>("tx.user", 1, &(1i64,)).unwrap();
    defer_invalidations(async {
        let mut conn = db.conn.lock().await;
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        tx.execute("UPDATE users SET name = ?1 WHERE id = 1", [name])
            .map_err(|e| e.to_string())?;
        // Recorded, not applied: a reader now would re-cache the old row otherwise.
        assert!(!cache.invalidate_key(&key).await.unwrap());
        assert!(
            cache.exists(&key).await.unwrap(),
            "applied before the commit"
        );
        if commit {
            tx.commit().map_err(|e| e.to_string())
        } else {
            drop(tx); // rolls back
            Err("rolled back".to_owned())
        }
    })
    .await
}

async fn commit_applies_and_rollback_drops(fx: Fixture) {
    let (c, db) = (&fx.cache, Db::new());
    assert_eq!(user_name(1, c, &db).await.as_deref(), Some("Ada"));
    assert_eq!(user_name(1, c, &db).await.as_deref(), Some("Ada"));
    assert_eq!(db.reads.load(SeqCst), 1);

    // Rollback: the row is unchanged and so is the cache.
    assert_eq!(
        rename(c, &db, "Grace", false).await,
        Err("rolled back".to_owned())
    );
    assert_eq!(user_name(1, c, &db).await.as_deref(), Some("Ada"));
    assert_eq!(db.reads.load(SeqCst), 1, "the entry survived the rollback");

    // Commit: the invalidation runs after the commit, the next read sees the new row.
    rename(c, &db, "Grace", true).await.unwrap();
    assert_eq!(user_name(1, c, &db).await.as_deref(), Some("Grace"));
    assert_eq!(user_name(1, c, &db).await.as_deref(), Some("Grace"));
    assert_eq!(db.reads.load(SeqCst), 2);
}

#[tokio::test]
async fn sqlite_transaction_on_memory() {
    commit_applies_and_rollback_drops(Fixture::memory()).await;
}

#[tokio::test]
async fn sqlite_transaction_on_redis() {
    commit_applies_and_rollback_drops(Fixture::redis().await).await;
}

/// Nested scopes hand their invalidations to the outer one: nothing is applied until the
/// outermost scope succeeds.
#[tokio::test]
async fn nested_scopes_wait_for_the_outermost() {
    let cache = Cache::memory();
    cache.set("a", &1u8, None).await.unwrap();
    let outer: Result<(), ()> = defer_invalidations(async {
        let inner: Result<(), ()> = defer_invalidations(async {
            cache.invalidate_key("a").await.unwrap();
            Ok(())
        })
        .await;
        inner?;
        assert!(
            cache.exists("a").await.unwrap(),
            "inner success must wait for the outer"
        );
        Err(())
    })
    .await;
    assert!(outer.is_err());
    assert!(
        cache.exists("a").await.unwrap(),
        "outer failure drops everything"
    );
}
