//! The global cache that `#[cached]` functions use unless given `cache = ...`.

use std::sync::OnceLock;

use crate::cache::builder::CacheBuilder;
use crate::cache::Cache;
use crate::error::{Error, Result};

static GLOBAL: OnceLock<Cache> = OnceLock::new();

/// Sets the global cache. Call it once at start-up, before the first `#[cached]` call:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> cache_runtime::Result<()> {
/// cache_runtime::init(cache_runtime::Cache::from_env().await?)?;
/// # Ok(()) }
/// ```
///
/// Building the cache yourself surfaces configuration and connection errors at start-up.
/// If `init` is never called, the first use builds the global cache from the environment
/// (see [`CacheBuilder::from_env`]) without connecting; if that configuration is invalid, the
/// global cache is *disabled*: every `#[cached]` call runs its body, and the error is logged
/// and counted in [`Stats::errors`](crate::Stats::errors).
///
/// # Errors
/// [`Error::Config`] if the global cache was already set or already used.
pub fn init(cache: Cache) -> Result<()> {
    GLOBAL.set(cache).map_err(|_| {
        Error::config(
            "the global cache is already set (by an earlier `init`, or by a `#[cached]` call made before `init`); call `cache_runtime::init` once, before the first cached call",
        )
    })
}

/// The global cache (built from the environment on first use if [`init`] was not called).
pub fn global() -> &'static Cache {
    GLOBAL.get_or_init(
        || match CacheBuilder::from_env().and_then(CacheBuilder::build_lazy) {
            Ok(cache) => cache,
            Err(e) => {
                tracing::error!("global cache disabled: {e}");
                CacheBuilder::build_disabled(e.to_string())
            }
        },
    )
}
