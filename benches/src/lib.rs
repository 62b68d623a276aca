//! What the benchmarks share: the cached row they read (a 5-field struct) and its
//! `#[cached]` function, so every bench measures the same value and the same key.

pub mod by_hand;
pub mod count;
pub mod key_args;

use cache_runtime::{cached, Cache};
use serde::{Deserialize, Serialize};

/// A typical cached row.
#[derive(Clone, Serialize, Deserialize)]
pub struct User {
    /// Its id.
    pub id: u64,
    /// A name.
    pub name: String,
    /// An email address.
    pub email: String,
    /// A flag.
    pub active: bool,
    /// A float.
    pub score: f64,
}

/// The row with id `id`.
pub fn user(id: u64) -> User {
    User {
        id,
        name: format!("user {id}"),
        email: format!("user{id}@example.com"),
        active: true,
        score: 0.5,
    }
}

/// The row, cached in `cache` under namespace `bench.user`.
#[cached(cache = cache, namespace = "bench.user")]
pub async fn get_user(cache: &Cache, id: u64) -> User {
    user(id)
}
