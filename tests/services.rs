//! Services as users write them: a service holding its own cache (writers without
//! `cache = ...` act on the cache their target reads from), repositories behind traits
//! (native `async fn` and `#[async_trait]`), and targets brought in by `use`. Each scenario
//! runs once on the memory store and once on Redis.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "services/handlers.rs"]
mod handlers;
#[path = "services/own_cache.rs"]
mod own_cache;
#[path = "services/traits.rs"]
mod traits;
#[path = "services/users.rs"]
mod users;

/// One `#[tokio::test]` per backend for each scenario `fn(&Fixture)`.
macro_rules! on_each_backend {
    ($($scenario:path => $name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    $scenario(&cache_tests::fixture::Fixture::memory()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $name() {
                    $scenario(&cache_tests::fixture::Fixture::redis().await).await;
                }
            )*
        }
    };
}

on_each_backend! {
    crate::own_cache::invalidate_acts_on_the_targets_cache => invalidate_acts_on_the_targets_cache,
    crate::own_cache::put_writes_to_the_targets_cache => put_writes_to_the_targets_cache,
    crate::own_cache::targets_on_two_caches => targets_on_two_caches,
    crate::traits::native_trait_methods_are_targets => native_trait_methods_are_targets,
    crate::traits::async_trait_methods_are_targets => async_trait_methods_are_targets,
    crate::traits::private_methods_are_targets => private_methods_are_targets,
    crate::handlers::imported_targets => imported_targets,
}
