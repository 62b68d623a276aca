//! The database: SQLite in a file, slow on purpose.

use std::path::Path as FsPath;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};

use crate::model::{AppError, Product, ProductInput, ProductPage, ProductPatch};
use crate::READ_DELAY;

/// The database: one SQLite connection used from blocking tasks, and a count of reads.
#[derive(Clone)]
pub(crate) struct Db {
    conn: Arc<Mutex<Connection>>,
    reads: Arc<AtomicU64>,
}

pub(crate) const SEED: [(&str, &[&str]); 3] = [
    (
        "books",
        &[
            "Async Rust",
            "Caching at Scale",
            "Compilers",
            "Databases",
            "Distributed Systems",
            "Networking Basics",
            "Operating Systems",
            "SQL Basics",
            "Data Structures",
            "Algorithms",
        ],
    ),
    (
        "games",
        &[
            "Chess set",
            "Go board",
            "Backgammon",
            "Playing cards",
            "Dominoes",
            "Mahjong set",
            "Jigsaw puzzle",
            "Checkers",
            "Dice set",
            "Word tiles",
        ],
    ),
    (
        "tools",
        &[
            "Hammer",
            "Screwdriver set",
            "Wrench",
            "Pliers",
            "Tape measure",
            "Spirit level",
            "Hand saw",
            "Chisel set",
            "Utility knife",
            "Cordless drill",
        ],
    ),
];

impl Db {
    /// How many reads the database has served.
    pub(crate) fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Creates the database file at `path` and seeds it: 30 products, ids 1-10 books, 11-20
    /// games, 21-30 tools.
    pub(crate) fn create(path: &FsPath) -> Result<Db, AppError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "CREATE TABLE products (
                 id INTEGER PRIMARY KEY,
                 name TEXT NOT NULL,
                 category TEXT NOT NULL,
                 price_cents INTEGER NOT NULL
             );
             CREATE INDEX products_category ON products (category, id);",
        )?;
        let mut id: i64 = 0;
        for (category, names) in SEED {
            for name in names {
                id += 1;
                conn.execute(
                    "INSERT INTO products (id, name, category, price_cents) VALUES (?1, ?2, ?3, ?4)",
                    params![id, name, category, 500 + id * 125],
                )?;
            }
        }
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
            reads: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Runs `f` on the connection in a blocking task.
    pub(crate) async fn with_conn<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, AppError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let conn = conn
                .lock()
                .map_err(|_| AppError::Internal("database lock poisoned".to_owned()))?;
            f(&conn)
        })
        .await
        .map_err(|e| AppError::Internal(format!("database task: {e}")))?
    }

    /// A read: sleeps [`READ_DELAY`] (the slow query), counts it, then runs `f`.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, AppError> + Send + 'static,
    {
        tokio::time::sleep(READ_DELAY).await;
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.with_conn(f).await
    }

    pub(crate) async fn product(&self, id: i64) -> Result<Option<Product>, AppError> {
        self.read(move |conn| Ok(select_product(conn, id)?)).await
    }

    pub(crate) async fn list(
        &self,
        category: Option<String>,
        page: u32,
        per_page: u32,
    ) -> Result<ProductPage, AppError> {
        self.read(move |conn| {
            let offset = i64::from(page - 1) * i64::from(per_page);
            let mut stmt = conn.prepare(
                "SELECT id, name, category, price_cents FROM products
                 WHERE ?1 IS NULL OR category = ?1 ORDER BY id LIMIT ?2 OFFSET ?3",
            )?;
            let items = stmt
                .query_map(params![category, per_page, offset], row_to_product)?
                .collect::<Result<Vec<_>, _>>()?;
            let total = conn.query_row(
                "SELECT COUNT(*) FROM products WHERE ?1 IS NULL OR category = ?1",
                params![category],
                |row| row.get(0),
            )?;
            Ok(ProductPage {
                items,
                page,
                per_page,
                total,
            })
        })
        .await
    }

    /// Products whose name contains `q` (ASCII case-insensitive), by id.
    pub(crate) async fn search(&self, q: String, limit: u32) -> Result<Vec<Product>, AppError> {
        self.read(move |conn| {
            let pattern = format!(
                "%{}%",
                q.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            let mut stmt = conn.prepare(
                "SELECT id, name, category, price_cents FROM products
                 WHERE name LIKE ?1 ESCAPE '\\' ORDER BY id LIMIT ?2",
            )?;
            let found = stmt
                .query_map(params![pattern, limit], row_to_product)?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(found)
        })
        .await
    }

    /// Replaces every field of product `id` (a patch that sets them all).
    pub(crate) async fn update(
        &self,
        id: i64,
        input: ProductInput,
    ) -> Result<Option<Product>, AppError> {
        let all = ProductPatch {
            name: Some(input.name),
            category: Some(input.category),
            price_cents: Some(input.price_cents),
        };
        self.patch(id, all).await
    }

    pub(crate) async fn patch(
        &self,
        id: i64,
        patch: ProductPatch,
    ) -> Result<Option<Product>, AppError> {
        self.with_conn(move |conn| {
            let changed = conn.execute(
                "UPDATE products SET name = COALESCE(?2, name),
                     category = COALESCE(?3, category),
                     price_cents = COALESCE(?4, price_cents)
                 WHERE id = ?1",
                params![id, patch.name, patch.category, patch.price_cents],
            )?;
            Ok(if changed == 0 {
                None
            } else {
                select_product(conn, id)?
            })
        })
        .await
    }

    pub(crate) async fn delete(&self, id: i64) -> Result<bool, AppError> {
        self.with_conn(
            move |conn| Ok(conn.execute("DELETE FROM products WHERE id = ?1", [id])? > 0),
        )
        .await
    }
}

pub(crate) fn select_product(conn: &Connection, id: i64) -> rusqlite::Result<Option<Product>> {
    conn.query_row(
        "SELECT id, name, category, price_cents FROM products WHERE id = ?1",
        [id],
        row_to_product,
    )
    .optional()
}

pub(crate) fn row_to_product(row: &rusqlite::Row<'_>) -> rusqlite::Result<Product> {
    Ok(Product {
        id: row.get(0)?,
        name: row.get(1)?,
        category: row.get(2)?,
        price_cents: row.get(3)?,
    })
}

pub(crate) fn not_found(id: i64) -> AppError {
    AppError::NotFound(format!("no product {id}"))
}
