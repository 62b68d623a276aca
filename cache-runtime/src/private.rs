//! What `#[cached]` expands to. Not public API: exempt from semver, never used by hand.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use ::core;

pub use crate::cache::global::global;
use futures_util::future::Either;

use crate::call::{Caller, Mode, Policy, Shape};
/// Each placeholder value of a `tags = [...]` template, escaped.
pub use crate::key::tag_part;
pub use crate::key::KeyBuilder;
use crate::key::SiteKey;
use crate::observe::{Served, SiteStats, Watch};
use crate::{Cache, CacheValue};

/// The hidden items of a free `#[cached]` fn: a struct named like the fn, in a module of its
/// own, glob-imported, and its associated fns (see `cache-macros`). `#[cached]` calls it by
/// the name it is re-exported under, `add_cache_targets_to_the_impl_block`: when the fn is
/// an associated fn the macro took for a free one (no `self`, no `Self`, in an impl block
/// without `#[cache_targets]`), rustc refuses these items in the impl, and each error's note
/// names this macro by that name.
#[doc(hidden)]
#[macro_export]
macro_rules! __cached_free_fn {
    ($vis:vis $holder:ident $name:ident { $($fns:tt)* }) => {
        #[doc(hidden)]
        #[allow(non_snake_case, unreachable_pub, missing_docs)]
        mod $holder {
            #[allow(non_camel_case_types, dead_code, unreachable_pub, missing_docs)]
            pub struct $name {}
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        $vis use $holder::*;
        impl $holder::$name {
            $($fns)*
        }
    };
}
pub use crate::__cached_free_fn as add_cache_targets_to_the_impl_block;

/// The static description of one `#[cached]` function.
pub struct Site {
    key: SiteKey,
    policy: Policy,
    cache_none: bool,
    stats: SiteStats,
}

impl Site {
    /// A site in `namespace` at `version`, with the cache's default TTL.
    pub const fn new(namespace: &'static str, version: u32) -> Site {
        Site {
            key: SiteKey::new(namespace, version),
            policy: Policy::DEFAULT,
            cache_none: false,
            stats: SiteStats::new(),
        }
    }

    /// `ttl_jitter = f`, as millionths of the TTL (`f * 1_000_000`).
    pub const fn ttl_jitter_ppm(mut self, ppm: u32) -> Site {
        self.policy.jitter_ppm = Some(ppm);
        self
    }

    /// `lock = true`: while another process fills a key, wait for its value.
    pub const fn lock(mut self, yes: bool) -> Site {
        self.policy.lock = yes;
        self
    }

    /// `l1 = false`: never keep this fn's entries in the in-process tier.
    pub const fn l1(mut self, yes: bool) -> Site {
        self.policy.l1 = yes;
        self
    }

    /// `l1_ttl = ..`: keep this fn's entries in the in-process tier at most this long.
    pub const fn l1_ttl(mut self, ttl: Duration) -> Site {
        self.policy.l1_ttl = Some(ttl);
        self
    }

    /// `stale_if_error = ..`: keep entries this long past their TTL, to stand in for a
    /// failing body.
    pub const fn stale_if_error(mut self, window: Duration) -> Site {
        self.policy.stale_for = Some(window);
        self
    }

    /// `soft_timeout = ..`: with a stale value at hand, wait at most this for the body.
    pub const fn soft_timeout(mut self, timeout: Duration) -> Site {
        self.policy.soft_timeout = Some(timeout);
        self
    }

    /// `refresh = ..`: on a hit older than this, recompute in the background.
    pub const fn refresh(mut self, age: Duration) -> Site {
        self.policy.refresh = Some(age);
        self
    }

    /// `compress = false`: store this fn's values uncompressed, whatever their size.
    pub const fn compress(mut self, yes: bool) -> Site {
        self.policy.compress = yes;
        self
    }

    /// Entries of this site live for `ttl`.
    pub const fn ttl(mut self, ttl: Duration) -> Site {
        self.policy.ttl = Some(ttl);
        self
    }

    /// `cache_none = true` was given (the `Option` return is cached as a plain value).
    pub const fn cache_none(mut self, yes: bool) -> Site {
        self.cache_none = yes;
        self
    }
}

/// A handle the `cache = ...` argument may name: `Cache`, `&Cache`, `Arc<Cache>`, ...
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a cache",
    label = "`cache = ...` takes a `Cache`, an `Arc<Cache>` or a reference to either"
)]
pub trait AsCache {
    /// The cache.
    fn as_cache(&self) -> &Cache;
}

impl AsCache for Cache {
    fn as_cache(&self) -> &Cache {
        self
    }
}

impl<T: AsCache + ?Sized> AsCache for &T {
    fn as_cache(&self) -> &Cache {
        (**self).as_cache()
    }
}

impl<T: AsCache + ?Sized> AsCache for Arc<T> {
    fn as_cache(&self) -> &Cache {
        (**self).as_cache()
    }
}

/// The cache a `#[cached]` fn reads from, as its hidden source fn hands it to a writer
/// (`#[cache_invalidate]`, `#[cache_put]`) without `cache = ...`: the global cache, a clone of
/// the fn's own `cache = ...`, or [`UnknownCache`] when that expression needs more than the
/// target passes.
#[diagnostic::on_unimplemented(
    message = "this writer cannot tell which cache its target reads from",
    label = "the target's `#[cached(cache = ...)]` reads a parameter this target does not pass",
    note = "give the writer the cache its target reads from, like `cache = self.cache` \
            or `cache = cache`"
)]
pub trait TargetCache {
    /// The cache.
    fn target_cache(&self) -> &Cache;
}

impl TargetCache for Cache {
    fn target_cache(&self) -> &Cache {
        self
    }
}

impl TargetCache for &Cache {
    fn target_cache(&self) -> &Cache {
        self
    }
}

/// Implemented by no type: the bound of the stand-ins a writer declares for a target's hidden
/// items, which are used only when the target's type has none of its own.
#[diagnostic::on_unimplemented(
    message = "this target is not a `#[cached]` method that writers can reach",
    label = "`{Self}` has no `#[cached]` method of this name that a writer can reach",
    note = "a `#[cached]` method is a target when it has a visibility (`pub(crate)`, \
            `pub(self)`, ...) or when its impl block has `#[cache_targets]`, which a trait \
            impl needs"
)]
pub trait NotATarget {}

/// The source of a `#[cached]` fn whose `cache = ...` reads a parameter that is not part of
/// its key (or reads `self`, for `all(..)`): a writer targeting it must name the cache.
pub struct UnknownCache;

/// The cache of a writer's target, from the target's source fn.
#[inline]
pub fn target_cache<S: TargetCache>(source: &S) -> &Cache {
    source.target_cache()
}

/// A return type whose success part is cached: `Result<T, E>` caches `Ok`, `Option<T>`
/// caches `Some`.
pub trait Outcome {
    /// The cached part.
    type Value;
    /// The part to store, if this outcome is cached.
    fn cacheable(&self) -> Option<&Self::Value>;
    /// The outcome a cached value stands for.
    fn from_value(value: Self::Value) -> Self;
    /// Whether this outcome is a failure a stale value may stand in for
    /// (`stale_if_error`): `Err` for `Result`; never for `Option`.
    fn is_error(&self) -> bool {
        false
    }
}

impl<T, E> Outcome for Result<T, E> {
    type Value = T;
    fn cacheable(&self) -> Option<&T> {
        self.as_ref().ok()
    }
    fn from_value(value: T) -> Self {
        Ok(value)
    }
    fn is_error(&self) -> bool {
        self.is_err()
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn cacheable(&self) -> Option<&T> {
        self.as_ref()
    }
    fn from_value(value: T) -> Self {
        Some(value)
    }
}

/// Compile-time check that a plain return type can be cached (errors point at it).
pub fn assert_value<V: CacheValue>() {}

/// Compile-time check that the cached part of a `Result`/`Option` return can be cached.
pub fn assert_outcome<O: Outcome>()
where
    O::Value: CacheValue,
{
}

/// A `#[cached]` fn returning a plain value.
///
/// This and the other `cached_*` entry points are plain fns returning the call's future, not
/// `async fn`s: an `async fn` wrapper would be one more state machine around the call's
/// future, which is moved into it (a `memcpy`) on every call, and one more to compile per fn.
/// They build the key before the future, from a builder they borrow: the future then holds
/// the key, not the builder (about 350 bytes, which every call would move twice and keep to
/// its end).
#[inline(always)]
pub fn cached_plain<'a, V, F>(
    cache: &'a Cache,
    site: &'static Site,
    key: &mut KeyBuilder,
    body: F,
) -> impl Future<Output = V> + 'a
where
    V: CacheValue,
    F: Future<Output = V> + 'a,
{
    let watch = Watch::start(cache);
    let built = key.build_for_site::<V>(&site.key);
    let (call, mode, tags, span) = start(cache, site, key, watch, built);
    let run = crate::call::run(cache, &site.policy, mode, call, tags, body, Shape::plain());
    spanned(run, span)
}

/// A `#[cached]` fn returning `Result` or `Option`: only `Ok` / `Some` is cached.
#[inline(always)]
pub fn cached_outcome<'a, O, F>(
    cache: &'a Cache,
    site: &'static Site,
    key: &mut KeyBuilder,
    body: F,
) -> impl Future<Output = O> + 'a
where
    O: Outcome + 'a,
    O::Value: CacheValue,
    F: Future<Output = O> + 'a,
{
    let watch = Watch::start(cache);
    let built = key.build_for_site::<O::Value>(&site.key);
    let (call, mode, tags, span) = start(cache, site, key, watch, built);
    let run = crate::call::run(cache, &site.policy, mode, call, tags, body, outcome_shape());
    spanned(run, span)
}

/// A `#[cached(detach = true)]` fn returning a plain value: the body runs on a spawned task.
#[inline(always)]
pub fn cached_plain_detached<'a, V, F>(
    cache: &'a Cache,
    site: &'static Site,
    key: &mut KeyBuilder,
    body: F,
) -> impl Future<Output = V> + 'a
where
    V: CacheValue,
    F: Future<Output = V> + Send + 'static,
{
    let watch = Watch::start(cache);
    let built = key.build_for_site::<V>(&site.key);
    let (call, mode, tags, span) = start(cache, site, key, watch, built);
    let policy = site.policy;
    let run = crate::call::run_detached(cache, policy, mode, call, tags, body, Shape::plain());
    spanned(run, span)
}

/// A `#[cached(detach = true)]` fn returning `Result` or `Option`.
#[inline(always)]
pub fn cached_outcome_detached<'a, O, F>(
    cache: &'a Cache,
    site: &'static Site,
    key: &mut KeyBuilder,
    body: F,
) -> impl Future<Output = O> + 'a
where
    O: Outcome + Send + 'static,
    O::Value: CacheValue,
    F: Future<Output = O> + Send + 'static,
{
    let watch = Watch::start(cache);
    let built = key.build_for_site::<O::Value>(&site.key);
    let (call, mode, tags, span) = start(cache, site, key, watch, built);
    let policy = site.policy;
    let run = crate::call::run_detached(cache, policy, mode, call, tags, body, outcome_shape());
    spanned(run, span)
}

/// The shape of a `Result` / `Option` return: its `Ok` / `Some` value is cached.
fn outcome_shape<O: Outcome>() -> Shape<O, O::Value> {
    Shape {
        cacheable: |outcome: &O| outcome.cacheable(),
        from_value: O::from_value,
        failed: |outcome: &O| outcome.is_error(),
    }
}

/// One `#[cached]` call as the call path sees it: its site, key and watch, and what it
/// reports when it is done. `None` when its key could not be built: the body then runs
/// without the cache.
struct SiteCall {
    site: &'static Site,
    key: crate::CacheKey,
    watch: Watch,
    label: Option<String>,
    span: tracing::Span,
}

impl Caller for Option<SiteCall> {
    fn key(&self) -> &str {
        self.as_ref().map_or("", |call| call.key.as_str())
    }

    fn lease_first(&self, cache: &Cache) -> bool {
        self.as_ref()
            .is_some_and(|call| call.site.stats.lease_first(cache, call.site.key.namespace))
    }

    fn done(self, cache: &Cache, served: Served) {
        if let Some(call) = self {
            let key = call.key.as_str();
            let label = call.label.as_deref();
            call.site
                .finish(cache, call.watch, &call.span, key, label, served);
        }
    }
}

/// Starts a `#[cached]` call watched since `watch`, its key built (or not: counted and
/// logged, and the body then runs without the cache): the tags and label taken out of the key
/// builder, how it runs (bypassing the cache in a bypassing request scope), and its span when
/// debug logging is on. Not generic: compiled once, in this crate.
fn start(
    cache: &Cache,
    site: &'static Site,
    key: &mut KeyBuilder,
    watch: Watch,
    built: crate::Result<crate::CacheKey>,
) -> (Option<SiteCall>, Mode, Vec<String>, Option<tracing::Span>) {
    let tags = key.take_tags();
    let label = key.take_label();
    let key = match built {
        Ok(key) => key,
        Err(e) => {
            cache.failed("key", e);
            // A call without its key runs its body outside any span, as the fn itself would.
            return (None, Mode::Off, Vec::new(), None);
        }
    };
    let mode = match crate::observe::scope::bypassing() {
        true => Mode::Bypass,
        false => Mode::Read,
    };
    // The common path (no debug logging) runs the call itself: no span, no wrapper.
    let span = tracing::level_enabled!(tracing::Level::DEBUG)
        .then(|| site.span())
        .filter(|span| !span.is_disabled());
    let call = SiteCall {
        site,
        key,
        watch,
        label,
        span: span.clone().unwrap_or_else(tracing::Span::none),
    };
    (Some(call), mode, tags, span)
}

/// The call's future, in its span if it has one.
#[inline(always)]
fn spanned<F: Future>(
    call: F,
    span: Option<tracing::Span>,
) -> Either<tracing::instrument::Instrumented<F>, F> {
    match span {
        Some(span) => Either::Left(tracing::Instrument::instrument(call, span)),
        None => Either::Right(call),
    }
}

impl Site {
    /// The `cached` span of one call at debug level (disabled, and nearly free, unless a
    /// subscriber wants debug spans of `cache_runtime::call`).
    #[inline]
    fn span(&self) -> tracing::Span {
        tracing::debug_span!(
            target: "cache_runtime::call",
            "cached",
            namespace = self.key.namespace,
            served = tracing::field::Empty
        )
    }

    fn finish(
        &self,
        cache: &Cache,
        watch: Watch,
        span: &tracing::Span,
        key: &str,
        label: Option<&str>,
        served: Served,
    ) {
        watch.finish(cache, &self.stats, self.key.namespace, key, label, served);
        if !span.is_disabled() {
            // One debug line per call, in its span; none at info.
            span.record("served", served.as_str());
            span.in_scope(|| {
                tracing::debug!(target: "cache_runtime::call", served = served.as_str(), "cached call");
            });
        }
    }
}

/// The key of one call of a `#[cached]` fn returning values of type `V`, as computed by its
/// hidden key fn (`<name>::key` for a free fn, `__cache_key_<name>` for a method), for
/// `#[cache_invalidate]` and `#[cache_put]`.
///
/// Built in the key fn, from a builder it borrows, so what is returned and moved is the key,
/// not the builder (about 350 bytes).
pub struct KeyTarget<V> {
    site: &'static Site,
    key: crate::Result<crate::CacheKey>,
    tags: Vec<String>,
    _value: core::marker::PhantomData<fn() -> V>,
}

impl<V: 'static> KeyTarget<V> {
    /// The target of `site` with the key arguments fed into `key`; the builder is spent
    /// afterwards.
    pub fn new(site: &'static Site, key: &mut KeyBuilder) -> Self {
        KeyTarget {
            site,
            tags: key.take_tags(),
            key: key.build_for_site::<V>(&site.key),
            _value: core::marker::PhantomData,
        }
    }

    /// The key and the tags the entry is recorded under.
    fn resolve(self) -> crate::Result<(crate::CacheKey, Vec<String>, &'static Site)> {
        Ok((self.key?, self.tags, self.site))
    }
}

pub use crate::invalidate::Plan;

/// Adds the target's key to `plan` (a key that cannot be computed is counted and logged).
pub fn plan_key<V: 'static>(cache: &Cache, plan: &mut Plan, target: KeyTarget<V>) {
    match target.key {
        Ok(key) => {
            plan.key(key);
        }
        Err(e) => {
            cache.failed("key", e);
        }
    }
}

/// Applies `plan` (or defers it to the enclosing `defer_invalidations` scope).
pub async fn invalidate(cache: &Cache, plan: &Plan) {
    plan.run(cache).await;
}

/// Applies `plan` if the body succeeded: `Ok` for `Result`, always for other shapes.
pub async fn invalidate_if_ok<T, E>(cache: &Cache, plan: &Plan, result: &Result<T, E>) {
    if result.is_ok() {
        plan.run(cache).await;
    }
}

/// `#[cache_put]` on a fn returning the target's value type `V`: stores the value.
pub async fn put_plain<V: CacheValue>(cache: &Cache, target: KeyTarget<V>, value: &V) {
    put(cache, target, value).await;
}

/// `#[cache_put]` on a fn returning `Result<V, _>` / `Option<V>`: stores the `Ok` / `Some`
/// value.
pub async fn put_outcome<O, V>(cache: &Cache, target: KeyTarget<V>, outcome: &O)
where
    O: Outcome<Value = V>,
    V: CacheValue,
{
    if let Some(value) = outcome.cacheable() {
        put(cache, target, value).await;
    }
}

async fn put<V: CacheValue>(cache: &Cache, target: KeyTarget<V>, value: &V) {
    match target.resolve() {
        Ok((key, tags, site)) => {
            // Failures are counted and logged by the write; the function's result stands.
            let _ = cache
                .write_with(
                    key.as_str(),
                    value,
                    cache.ttl_or_default(site.policy.ttl),
                    &tags,
                    site.policy.compress,
                )
                .await;
        }
        Err(e) => {
            cache.failed("key", e);
        }
    }
}

/// The namespace of a `#[cached]` fn, for `#[cache_invalidate(all(f))]`.
pub fn plan_all(plan: &mut Plan, namespace: &'static str) {
    plan.namespace(namespace);
}

pub use crate::cache::batch::{Batch, BatchOutput};

/// `#[cached(batch)]`: reads every id (L1, then one MGET).
pub async fn batch_lookup<K, V>(cache: &Cache, site: &'static Site, ids: Vec<K>) -> Batch<K, V>
where
    K: serde::Serialize + Clone,
    V: CacheValue,
{
    cache.batch_read(&site.key, site.policy.l1, ids).await
}

/// `#[cached(batch)]`: stores what the body computed, then merges in what was found.
pub async fn batch_finish<K, O>(
    cache: &Cache,
    site: &'static Site,
    batch: Batch<K, O::Value>,
    output: O,
) -> O
where
    K: serde::Serialize + Clone,
    O: BatchOutput<K>,
{
    let ttl = cache.jittered(
        cache.ttl_or_default(site.policy.ttl),
        site.policy.jitter_ppm,
    );
    let (found, ids, missing) = batch.into_parts();
    cache
        .batch_store::<K, O::Value>(
            &site.key,
            output.computed(&missing),
            ttl,
            site.policy.compress,
        )
        .await;
    output.merge(found, &ids, &missing)
}
