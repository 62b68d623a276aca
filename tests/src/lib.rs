//! Test support for the integration tests: real `redis-server` processes, the backend
//! fixture, and the backend-independent suites that run against every backend.
//!
//! A backend's test binary is one line, e.g. `tests/memory_store.rs`:
//!
//! ```ignore
//! cache_tests::backend_suite!(cache_tests::fixture::Fixture::memory());
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod cluster;
pub mod coherence;
pub mod example;
pub mod failover;
pub mod fixture;
pub mod http;
pub mod kind;
pub mod logs;
pub mod raw;
pub mod redis_server;
pub mod sentinel;
pub mod suite;
pub mod tls;

/// Expands to one `#[tokio::test]` per suite fn, each building its own fixture with
/// `$fixture` (an expression of type [`Fixture`](crate::fixture::Fixture), which may use
/// `.await`). Tests are grouped in one module per suite file: `manual::get_set_round_trip`.
///
/// Write `$fixture` with full paths: it is expanded inside the generated modules.
///
/// Every suite fn is listed here, once: the generated test
/// `backend_suite_list::every_suite_fn_is_listed` fails when a `pub async fn` of a suite
/// file (all but `tier.rs`, which [`tier_suite!`] runs) is missing from the list.
#[macro_export]
macro_rules! backend_suite {
    ($fixture:expr $(,)?) => {
        $crate::backend_suite! {
            @listed backend_suite_list, $crate::suite::Files::AllBut(&["tier"]), $fixture;
            manual {
                get_set_round_trip,
                delete_and_exists,
                expire_and_ttl,
                entries_expire,
                get_many_keeps_order,
                set_many_and_delete_many,
                clear_namespace_only_that_namespace,
                clear_pattern_only_star_is_wildcard,
                ping_answers,
                stats_count_reads_and_writes,
            }
            attributes {
                ttl_argument,
                namespace_argument,
                default_namespace_is_fn_path,
                key_argument,
                skip_argument,
                version_argument,
                cache_none_argument,
                crate_argument,
                ttl_jitter_argument,
            }
            shapes {
                plain_value_cached,
                result_caches_only_ok,
                option_caches_only_some,
                method_with_self_cache,
                generic_fn_instantiations_separate,
                parameters_named_like_internals,
            }
            keys {
                maps_and_sets_ignore_order,
                floats_are_canonical,
                argument_boundaries_are_kept,
                key_for_matches_cached,
                unserializable_argument_fails_open,
            }
            batch {
                body_sees_only_missing_ids,
                vec_output_keeps_order,
                errors_store_nothing,
            }
            compression {
                large_value_is_compressed,
                compress_false_stores_uncompressed,
                manual_api_compresses,
                incompressible_value_stays_uncompressed,
                signed_values_round_trip,
            }
            compute {
                get_or_compute_caches,
                try_get_or_compute_skips_errors,
                compute_options_tags,
                compute_single_flight,
                detached_survives_a_dropped_caller,
                detached_refresh_and_soft_timeout,
            }
            invalidate {
                exact_entry_after_success,
                custom_key_version_and_skip,
                tags_from_struct_fields,
                all_namespace_and_pattern,
                methods_before_and_put,
                put_stores_only_ok,
            }
            stampede {
                thousand_callers_one_body,
                cancelled_leader_hands_over,
                panicking_leader_hands_over,
                detached_body_survives_a_dropped_caller,
                refresh_ahead,
                soft_timeout_serves_stale,
            }
            stale {
                key_invalidation_during_fill,
                namespace_invalidation_during_fill,
                pattern_invalidation_during_fill,
                tag_invalidation_during_fill,
                put_during_fill_wins,
                unrelated_invalidation_keeps_the_fill,
                invalidations_during_a_lease_first_fill,
            }
            stale_if_error {
                stale_value_stands_in_for_errors,
                no_stale_without_window_or_after_invalidation,
                stale_if_error_in_compute_options,
            }
            tags {
                invalidate_tag_deletes_its_entries,
                rewrite_without_tag_leaves_the_tag,
                hostile_tags_are_literal,
                template_values_are_escaped,
            }
            values {
                other_type_is_a_miss,
                oversized_value_not_stored,
                oversized_cached_value_returned,
                hostile_manual_keys_round_trip,
                hostile_namespaces_are_literal,
                cached_hostile_namespace,
                value_at_the_limit_is_cached,
                unencodable_value_fails_open,
            }
            observe {
                namespace_counts_are_exact,
                namespace_counts_are_per_cache,
                bypass_scope_refreshes,
                warmers_report_each_run,
                keys_lists_a_namespace,
                health_reports_the_store,
            }
            hostile {
                cached_string_args_are_hashed,
                cached_hostile_pairs_keep_boundaries,
                clear_namespace_is_literal,
                path_separator_folds_only_double_colons,
                clear_pattern_metacharacters_are_literal,
                clear_pattern_wildcards_are_bounded,
                invalidate_tag_is_literal,
                manual_hostile_keys_round_trip,
                huge_tag_keeps_entry_keys_fixed,
                huge_namespace_and_tag_sizes,
                manual_keys_never_touch_tag_indexes,
            }
            unreadable {
                good_value_written_meanwhile_survives,
                unreadable_entry_is_deleted,
            }
        }
    };
    (
        @listed $check:ident, $files:expr, $fixture:expr;
        $($suite:ident { $($name:ident),* $(,)? })*
    ) => {
        $crate::backend_suite! { @expand $fixture; $($suite { $($name),* })* }
        mod $check {
            #[test]
            fn every_suite_fn_is_listed() {
                $crate::suite::assert_listed(
                    &[$((stringify!($suite), &[$(stringify!($name)),*])),*],
                    $files,
                );
            }
        }
    };
    (@expand $fixture:expr; $($suite:ident { $($name:ident),* $(,)? })*) => {
        $(
            mod $suite {
                $(
                    #[::tokio::test]
                    async fn $name() {
                        let fixture = $fixture;
                        $crate::suite::$suite::$name(&fixture).await;
                    }
                )*
            }
        )*
    };
}

/// Expands to one `#[tokio::test]` per fn of [`suite::tier`]: the in-process tier and the
/// backplane. `$fixture` must be a cache with L1 whose backplane is subscribed
/// (`Fixture::tiered()`, `Fixture::cluster_tiered()`). The generated test
/// `tier_suite_list::every_suite_fn_is_listed` fails when a fn of `tier.rs` is not listed.
#[macro_export]
macro_rules! tier_suite {
    ($fixture:expr $(,)?) => {
        $crate::backend_suite! {
            @listed tier_suite_list, $crate::suite::Files::Only(&["tier"]), $fixture;
            tier {
                l1_hits_do_no_io,
                l1_never_outlives_the_redis_entry,
                per_function_l1_settings,
                invalidations_reach_every_l1,
                caches_without_l1_still_publish,
                reconnecting_starts_with_an_empty_l1,
            }
        }
    };
}
