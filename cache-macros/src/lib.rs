//! Procedural macros of [`cache_runtime`](https://docs.rs/cache-runtime).
//!
//! Do not depend on this crate directly: depend on `cache-runtime`, which re-exports
//! [`macro@cached`], [`macro@cache_invalidate`], [`macro@cache_put`] and
//! [`macro@cache_targets`] and provides everything
//! the generated code calls. The reference documentation of each argument is on each macro.
//!
//! The crate only generates calls into `cache_runtime::__private`; no caching logic lives here.
//! Each macro parses its arguments into typed values (`args`, declared once each), builds a
//! model of the function (`ast`), checks it (`valid`), and rewrites the body (`expand`),
//! reporting every mistake as a compile error at the token that causes it: `cached` for
//! `#[cached]`, `writer` for `#[cache_invalidate]` and `#[cache_put]`.

#![deny(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod args;
mod cached;
mod desugared;
mod errors;
mod paths;
#[cfg(test)]
mod snapshots;
mod tags;
mod target;
mod targets;
mod writer;

use proc_macro::TokenStream;

/// Caches the results of an async fn, keyed by its arguments.
///
/// ```ignore
/// use cache_runtime::cached;
///
/// #[cached(ttl = "10m")]
/// async fn get_user(id: u64) -> Result<User, AppError> {
///     db::load_user(id).await
/// }
/// ```
///
/// The first call with a given `id` runs the body and stores the result; later calls with the
/// same `id` return the stored value until it expires. If the cache fails (Redis down, an entry
/// that does not decode), the body runs and its result is returned as if nothing were cached.
///
/// Only the body is rewritten: the signature, generics, where clause, visibility, doc comments
/// and other attributes stay as written, and methods (`&self`) work like free functions.
///
/// # What is cached
///
/// The return type decides, by the last segment of its path:
///
/// - `Result<T, E>` (or any alias named `Result`, such as `io::Result<T>`): `Ok` values are
///   cached, errors are returned but not stored;
/// - `Option<T>`: `Some` values are cached, `None` is not (see [`cache_none`](#cache_none));
/// - any other type `T`: every value is cached.
///
/// The cached value (`T`) must implement `Serialize`, `DeserializeOwned`, `Clone`, `Send`,
/// `Sync` and be `'static`. A function returning nothing (`()`) or `impl Trait` is refused.
///
/// # The key
///
/// Every parameter is part of the key, serialized with `serde` in parameter order, so each one
/// must implement `Serialize`; [`skip`](#skip) leaves parameters out and [`key`](#key) replaces
/// them. Destructured parameters contribute each name they bind (`Path(id): Path<u64>`
/// contributes `id`); `_` contributes nothing. The receiver (`self`) is never part of the key:
/// two instances of one type share entries unless each has its own cache or the key says
/// what tells them apart (`key = (self.tenant, id)`; see "Methods and `self`" in the
/// `cache_runtime` crate docs).
///
/// The namespace, the version and the name of the cached value's type complete the key, so a
/// generic fn caches `load::<User>(1)` and `load::<Order>(1)` apart. Two functions that share a
/// namespace, argument values and value type share entries: this happens by default for
/// methods of the same name on different types in one module, and for generic parameters that
/// do not appear in the return type. Give such functions their own `namespace`, or feed the
/// type into the key (`key = (id, std::any::type_name::<T>())`).
///
/// # axum handlers
///
/// `#[cached]` can sit directly on an axum handler. Extractors are destructured parameters,
/// so the key is made of the values they bind: `Path(id): Path<u64>` hashes `id`,
/// `Query(params): Query<ListParams>` hashes `params` and `Json(search): Json<Search>` hashes
/// `search` (each must implement `Serialize`). Extractors that are not data, such as
/// `State(db): State<Db>`, are skipped by the name they bind: `skip(db)`. The handler must
/// return a value that is both cacheable and a response: axum's `Json<T>` and
/// `impl IntoResponse` are not serializable, `cache_runtime::web::Json<T>` (feature `axum`) is.
/// An `Err` is returned as the response and never cached.
///
/// ```ignore
/// use axum::extract::{Path, State};
/// use cache_runtime::web::Json;
///
/// #[cached(ttl = "1m", skip(db))]
/// async fn get_product(State(db): State<Db>, Path(id): Path<u64>) -> Result<Json<Product>, AppError> {
///     Ok(Json(db.product(id).await?))
/// }
/// ```
///
/// # `ttl`
///
/// How long a value stays cached: a number of seconds, or a string with a unit (`ms`, `s`, `m`,
/// `h`, `d`). It must be greater than zero. Without it, the cache's default applies.
///
/// ```ignore
/// #[cached(ttl = 300)]
/// async fn rates() -> Vec<Rate> { /* ... */ }
///
/// #[cached(ttl = "90s")]
/// async fn weather(city: String) -> Forecast { /* ... */ }
/// ```
///
/// # `namespace`
///
/// The readable part of the key that separates this function's entries from every other
/// function's. It defaults to the function's path, `module_path!()` followed by `::name`; set
/// it to keep entries when the function moves, or to share entries between processes built from
/// different code.
///
/// ```ignore
/// #[cached(namespace = "users")]
/// async fn get_user(id: u64) -> Option<User> { /* ... */ }
/// ```
///
/// # `key`
///
/// An expression that is the whole key, instead of the parameters. It is evaluated before the
/// body runs, can use every parameter, and must implement `Serialize`.
///
/// ```ignore
/// #[cached(key = (user.id, page))]
/// async fn feed(user: &User, page: u32, db: &Db) -> Vec<Post> { /* ... */ }
/// ```
///
/// # `skip`
///
/// Parameters to leave out of the key, such as connections, clients or loggers. `self` is
/// always left out. `skip` cannot be combined with `key`.
///
/// ```ignore
/// #[cached(skip(pool))]
/// async fn get_user(id: u64, pool: &PgPool) -> Result<User, sqlx::Error> { /* ... */ }
/// ```
///
/// # `version`
///
/// The schema version of the cached value, `1` by default. Increase it when the value's type
/// changes shape, so entries written by older code are not read by newer code.
///
/// ```ignore
/// #[cached(version = 2)]
/// async fn profile(id: u64) -> Profile { /* ... */ }
/// ```
///
/// # `cache`
///
/// The cache to use instead of the global one: any expression whose value implements
/// `AsCache` (a `Cache`, an `Arc<Cache>`, or a reference to either). It is evaluated before the
/// body runs and can use the parameters, including `self`.
///
/// ```ignore
/// struct Users { cache: Cache, db: Db }
///
/// impl Users {
///     #[cached(cache = self.cache)]
///     async fn get(&self, id: u64) -> Result<User, DbError> { self.db.load(id).await }
/// }
/// ```
///
/// When the expression is just a parameter's name (`cache = cache`), that parameter is left
/// out of the key without a `skip`.
///
/// A method that takes `self` by value cannot borrow its cache from `self`, because the body
/// needs `self` while the cache is in use; keep the cache in an `Arc` and pass it as a skipped
/// parameter instead. A method that takes `&mut self` is refused: a hit returns the stored
/// value without running the body, so the body's changes to `self` would be skipped.
///
/// # `cache_none`
///
/// For a function returning `Option`: also cache `None`, so a missing record is not looked up
/// again until the entry expires. Only allowed on functions returning `Option`.
///
/// ```ignore
/// #[cached(cache_none = true, ttl = "1m")]
/// async fn find_user(email: String) -> Option<User> { /* ... */ }
/// ```
///
/// # `tags`
///
/// Tags recorded with each entry this function writes, so that
/// `Cache::invalidate_tag("user:42")` later deletes every entry tagged `user:42`, whatever its
/// key. Each tag is a string literal with placeholders filled from the call's arguments:
///
/// - `{name}` is a parameter binding, including skipped ones and `self` in a method;
/// - `{name.field.field}` is a field access chain on it (`{user.org_id}`, `{self.tenant}`);
/// - `{{` and `}}` are literal braces.
///
/// Placeholder values are formatted with `Display` when the call starts, before the body runs,
/// and escaped: every byte other than an ASCII letter, digit, `_`, `-` or `.` is written as
/// `%XX` (`cache_runtime::tag_part`), so a value can never forge the template's own
/// separators. With `tags = ["org:{o}:user:{u}"]`, `o = "a:user:b", u = "c"` and
/// `o = "a", u = "b:user:c"` are two tags (`org:a%3Auser%3Ab:user:c`,
/// `org:a:user:b%3Auser%3Ac`). For the same reason two placeholders must be separated by a
/// character outside that set, such as `:` or `/`: `"{a}{b}"` and `"{a}-{b}"` are compile
/// errors. Tags are not part of the key. The list must not be empty.
///
/// ```ignore
/// #[cached(skip(db), tags = ["user:{id}", "org:{user.org_id}", "profiles"])]
/// async fn profile(id: u64, user: &User, db: &Db) -> Profile { /* ... */ }
///
/// // after a write to user 42:
/// cache.invalidate_tag("user:42").await?;
/// // a value with other characters: escape it as the template does
/// cache.invalidate_tag(&format!("org:{}", cache_runtime::tag_part(&org_id))).await?;
/// ```
///
/// # `l1` and `l1_ttl`
///
/// With Redis configured, hits are served from an in-process tier (L1) in front of Redis,
/// kept consistent across processes by the backplane. `l1 = false` keeps this function's
/// entries out of it (every read goes to Redis); `l1_ttl` caps how long an entry stays in
/// it (default: the cache's L1 TTL, 30 s; never longer than the Redis entry's remaining TTL).
///
/// ```ignore
/// #[cached(ttl = "10m", l1_ttl = "5s")]
/// async fn price(sku: String) -> Price { /* ... */ }
///
/// #[cached(l1 = false)]
/// async fn balance(account: u64) -> Balance { /* ... */ }
/// ```
///
/// # `lock`
///
/// With Redis, a miss takes a short lease on its key before the body runs. With
/// `lock = true`, a miss in another process that finds the lease waits for the value
/// (polling with backoff, at most `CacheBuilder::lock_wait`, default 5 s) instead of running
/// the body too, so a cold key costs one body across all processes. In one process,
/// concurrent misses always share one body.
///
/// ```ignore
/// #[cached(lock = true, ttl = "1h")]
/// async fn report(month: u32) -> Report { /* an expensive query */ }
/// ```
///
/// # `compress`
///
/// Values whose encoding is larger than the cache's threshold
/// (`CacheBuilder::compress_threshold`, default 1 KiB) are stored lz4-compressed when that
/// makes them smaller (counted in `stats().compressed`). `compress = false` stores this
/// function's values as they are, for values that do not compress (already compressed
/// images or archives, random tokens), to save the attempt.
///
/// ```ignore
/// #[cached(compress = false, ttl = "1h")]
/// async fn thumbnail(id: u64) -> Vec<u8> { /* JPEG bytes */ }
/// ```
///
/// # `ttl_jitter`
///
/// Entries' TTLs are shortened by a random fraction of at most this much, so entries written
/// together do not all expire together (default: the cache's, 0.05). `0.0` turns it off.
///
/// ```ignore
/// #[cached(ttl = "1h", ttl_jitter = 0.2)]   // each entry lives 48 to 60 minutes
/// async fn catalog(page: u32) -> Vec<Item> { /* ... */ }
/// ```
///
/// # `stale_if_error`
///
/// For a function returning `Result`: keep entries this long past their TTL, and when the
/// body returns `Err` while a stale value exists, return the stale value instead (counted in
/// `stats().stale_served`). A panicking body is not caught. Fresh reads never see stale
/// values: past its TTL an entry is a miss and the body runs.
///
/// ```ignore
/// #[cached(ttl = "1m", stale_if_error = "1h")]
/// async fn exchange_rates() -> Result<Rates, ApiError> { /* a flaky upstream */ }
/// ```
///
/// # `batch`
///
/// For a function that loads many ids at once: each id is cached alone, and the body runs
/// only for the ids that missed. `batch` takes no value. The first parameter is the id list,
/// `Vec<K>` or `&[K]`, bound to a plain name; the return type is a `HashMap<K, V>` (any
/// hasher), a `Vec<V>` in the order of the ids, or a `Result` of one of them.
///
/// ```ignore
/// #[cached(batch, namespace = "users", ttl = "10m")]
/// async fn get_users(ids: Vec<u64>, db: &Db) -> HashMap<u64, User> {
///     db.load_users(&ids).await   // `ids` holds only the ids not found in the cache
/// }
/// ```
///
/// Inside the body the parameter holds only the missing ids; when every id is cached the body
/// does not run. Only the ids make the key: every other parameter is left out. Each id's entry
/// is the one a single-id fn with the same namespace and version reads and writes
/// (`#[cached(namespace = "users")] async fn get_user(id: u64) -> User`), so the two share
/// entries and `#[cache_invalidate(get_user(id))]` also reaches what `get_users` stored. A
/// batch fn has no hidden key fn of its own: target the single-id fn.
///
/// `batch` cannot be combined with `key`, `skip`, `tags`, `cache_none`, `stale_if_error` or
/// `lock`.
///
/// # `detach`
///
/// Run the body on a spawned task, so that a caller dropped mid-call (a timed-out request, a
/// client gone away) neither cancels the fill nor makes the waiting callers start over: they
/// get the value of the one body. The body must then be `Send + 'static`: it may only use
/// owned parameters (no `&self`, no borrowed pools; clone an `Arc` in instead). A hit costs
/// no spawn.
///
/// ```ignore
/// #[cached(detach = true, ttl = "5m")]
/// async fn report(db: Arc<Db>, month: u32) -> Result<Report, DbError> { /* slow */ }
/// ```
///
/// # `refresh`
///
/// Refresh-ahead: a hit on an entry older than this returns at once, and one background task
/// recomputes and rewrites the entry (only if it did not change meanwhile, so an invalidation
/// during the refresh still wins). The background body must be `Send + 'static`, so `refresh`
/// implies `detach = true`. The age is checked on in-process hits (the memory store, or L1 in
/// front of Redis).
///
/// ```ignore
/// #[cached(ttl = "10m", refresh = "1m")]
/// async fn prices(db: Arc<Db>, region: u32) -> Result<Prices, DbError> { /* ... */ }
/// ```
///
/// # `soft_timeout`
///
/// With `stale_if_error` keeping stale entries: when an entry is stale and the body takes
/// longer than this, the stale value is returned and the body finishes on its own task,
/// storing its result (FusionCache's soft timeout). Implies `detach = true`.
///
/// ```ignore
/// #[cached(ttl = "1m", stale_if_error = "1h", soft_timeout = "200ms")]
/// async fn quotes(api: Arc<Api>, symbol: String) -> Result<Quote, ApiError> { /* ... */ }
/// ```
///
/// # `crate`
///
/// The path of the runtime crate, when it is renamed in `Cargo.toml` or re-exported by another
/// crate. Defaults to `::cache_runtime`.
///
/// ```ignore
/// // Cargo.toml: my_cache = { package = "cache-runtime", version = "0.1" }
/// #[my_cache::cached(crate = my_cache)]
/// async fn get_user(id: u64) -> Option<User> { /* ... */ }
/// ```
///
/// # Invalidation and put
///
/// `#[cached]` emits hidden items that [`macro@cache_invalidate`] and [`macro@cache_put`] call
/// to find its entries: the key of one call, computed from the parameters that make the key
/// (taken by reference) with the same code as the function itself; the cache the call reads
/// from; and the namespace. They are found the way Rust finds the fn:
///
/// - a free fn's hidden items travel with its name: a target written `get_user(id)` works
///   where `get_user` is defined and wherever `use path::get_user;` (or `as other`) brings it,
///   and `users::get_user(id)` by the module's path (a module or type named like the fn,
///   in the same module, hides them: the fn works, but is not a target there);
/// - a method's sit next to it in its impl, found as `Self::get` or `Type::get`. A method
///   gets them when it has a visibility (`pub`, `pub(crate)`, `pub(self)`, ...), since
///   `#[cached]` cannot tell an inherent impl from a trait impl, which can hold neither a
///   visibility nor extra items. [`macro@cache_targets`] on the impl block makes every
///   `#[cached]` method in it a target: private ones, those of a trait impl (also named
///   `<Type as Trait>::get`), and associated fns without `self`.
///
/// An associated fn without `self` that does not name `Self` in its signature or body is
/// taken for a free fn, and its hidden items are not allowed in an impl: put
/// [`macro@cache_targets`] on the impl block.
///
/// In the hidden key fn every parameter is a reference, so a `key = ...` expression must also
/// compile on references: field accesses, method calls and arithmetic do, but `if flag { .. }`
/// on a `bool` parameter does not (write `key = flag.then_some(id)` instead). The key hashes
/// the same either way: a reference serializes like its target.
///
/// # Errors
///
/// Mistakes are compile errors at the token that causes them: an unknown, misspelled or
/// repeated argument, a value of the wrong type, a function that is not `async`, a `skip` of a
/// name that is not a parameter, a malformed tag or a tag placeholder that names no parameter,
/// and a parameter or return type that cannot be serialized.
#[proc_macro_attribute]
pub fn cached(args: TokenStream, item: TokenStream) -> TokenStream {
    cached::expand(args.into(), item.into()).into()
}

/// Invalidates cached entries when an async fn succeeds: the entry of one call of a
/// [`macro@cached`] fn, every entry of one, or a namespace, tags or a key pattern.
///
/// ```ignore
/// use cache_runtime::{cache_invalidate, cached};
///
/// #[cached(ttl = "10m")]
/// async fn get_user(id: u64) -> Result<User, DbError> { db::load_user(id).await }
///
/// #[cache_invalidate(get_user(id))]
/// async fn rename_user(id: u64, name: String) -> Result<(), DbError> {
///     db::rename_user(id, &name).await
/// }
/// ```
///
/// # When it runs
///
/// The targets are computed when the call starts, from the arguments as they are then (the
/// body may move them). The invalidation runs after the body, and only on success: on `Ok`
/// for a function returning `Result` (judged by the return type's last path segment, as for
/// `#[cached]`), always for any other return type. With [`before = true`](#before) it also runs
/// before the body.
///
/// A failed invalidation (Redis down) never changes the function's result: it is counted in
/// `Stats::errors` and logged, and the entry's TTL bounds how long a stale value can be
/// served. Inside `cache_runtime::defer_invalidations` the invalidation is recorded and waits
/// for the scope to return `Ok` (a committed transaction); on `Err` it is dropped.
///
/// Only the body is rewritten: the signature, generics, where clause, visibility and other
/// attributes stay as written, and methods work like free functions.
///
/// # Targets
///
/// A call of a `#[cached]` fn, written with the arguments of the entry to delete, in any
/// order among the named arguments; give as many as needed. The arguments are expressions over
/// this function's parameters and are borrowed, never moved. Only the parameters that make
/// the target's key are passed: with `skip(db)` the target takes no `db`, with
/// `key = (user.id, page)` it takes `user` and `page`, and a parameter a `tags` placeholder
/// reads is passed too.
///
/// ```ignore
/// #[cache_invalidate(get_user(id), users::get_profile(id), get_page::<Post>(id, 1))]
/// async fn delete_user(id: u64) -> Result<(), DbError> { /* ... */ }
/// ```
///
/// A method target is written as a path call with `self` first:
///
/// ```ignore
/// impl Users {
///     #[cached(cache = self.cache)]
///     pub async fn get(&self, id: u64) -> Result<User, DbError> { /* ... */ }
///
///     #[cache_invalidate(Self::get(self, id))] // acts on `self.cache`, where `get` reads
///     pub async fn rename(&self, id: u64, name: &str) -> Result<(), DbError> { /* ... */ }
/// }
/// ```
///
/// A target finds its entry through hidden items that `#[cached]` emits with the cached fn,
/// built from the same key code, so the two cannot drift apart; they are found the way Rust
/// finds the fn (by `use`, by path, as `Self::get`), see "Invalidation and put" on
/// [`macro@cached`]. A wrong number of arguments, a wrong argument type, or a target that is
/// not a `#[cached]` fn is a compile error at the target. A method of a trait impl, or one
/// without a visibility, is a target when its impl block has [`macro@cache_targets`].
///
/// # `all`
///
/// `all(path)` deletes every entry of that `#[cached]` fn, whatever its arguments and value
/// type.
///
/// ```ignore
/// #[cache_invalidate(all(get_orders))]
/// async fn import_orders(file: Bytes) -> Result<usize, ImportError> { /* ... */ }
/// ```
///
/// # `namespace`
///
/// Deletes every entry of a namespace (the `namespace = "..."` of `#[cached]` fns).
///
/// ```ignore
/// #[cache_invalidate(namespace = "users")]
/// async fn migrate_users() -> Result<(), DbError> { /* ... */ }
/// ```
///
/// # `tags`
///
/// Deletes every entry recorded under each tag (see `tags` on [`macro@cached`]). Placeholders
/// are filled from this function's parameters (`{id}`, `{user.org_id}`, `{self.tenant}`),
/// formatted when the call starts and escaped as `#[cached]` escapes them, so the same
/// template names the same tag; a placeholder naming no parameter is a compile error.
///
/// ```ignore
/// #[cache_invalidate(tags = ["user:{id}", "org:{org.id}"])]
/// async fn move_user(id: u64, org: &Org) -> Result<(), DbError> { /* ... */ }
/// ```
///
/// # `pattern`
///
/// Deletes every key matching a pattern, in which only `*` is a wildcard (`?`, `[`, `]` and
/// `\` match themselves). Keys read `{namespace}:v{version}.{type}:{digest}` (the cache's
/// prefix is added by the store), so `"users*"` matches every namespace starting with `users`.
///
/// ```ignore
/// #[cache_invalidate(pattern = "sessions*")]
/// async fn logout_everyone() { /* ... */ }
/// ```
///
/// # `before`
///
/// `before = true` also invalidates before the body runs, so reads made by the body do not
/// see the old entries. Default `false`.
///
/// ```ignore
/// #[cache_invalidate(get_balance(account), before = true)]
/// async fn transfer(account: u64, amount: i64) -> Result<(), DbError> { /* ... */ }
/// ```
///
/// # `after`
///
/// `after = false` skips the invalidation after the body; only meaningful with
/// `before = true` (both `false` is a compile error). Default `true`.
///
/// ```ignore
/// #[cache_invalidate(get_balance(account), before = true, after = false)]
/// async fn reload(account: u64) -> u64 { get_balance(account).await }
/// ```
///
/// # `cache`
///
/// Without `cache`, each target is invalidated in the cache its `#[cached]` fn reads from: the
/// global cache, or its own `cache = ...` evaluated with the target's arguments
/// (`Self::get(self, id)` on a `#[cached(cache = self.cache)]` method acts on `self.cache`).
/// `namespace`, `tags` and `pattern` act on the first target's cache, or on the global cache
/// without targets. When a target's `cache = ...` reads a parameter the target does not
/// pass (a skipped one, or `self` for `all(..)`), the writer is refused at compile time until
/// it names the cache.
///
/// With `cache`, everything acts on that cache instead, as for [`macro@cached`]: any expression
/// whose value is a `Cache`, an `Arc<Cache>` or a reference to either, evaluated before the
/// body runs.
///
/// ```ignore
/// #[cached(cache = cache, skip(db))]
/// async fn get_user(id: u64, cache: &Cache, db: &Db) -> Option<User> { /* ... */ }
///
/// // `get_user(id)` does not pass `cache`: name it.
/// #[cache_invalidate(get_user(id), cache = cache)]
/// async fn delete_user(id: u64, cache: &Cache, db: &Db) -> Result<(), DbError> { /* ... */ }
/// ```
///
/// # `crate`
///
/// The path of the runtime crate, when it is renamed or re-exported; defaults to
/// `::cache_runtime`.
///
/// ```ignore
/// #[my_cache::cache_invalidate(get_user(id), crate = my_cache)]
/// async fn delete_user(id: u64) -> Result<(), DbError> { /* ... */ }
/// ```
///
/// # Errors
///
/// Compile errors at the token that causes them: an unknown (with a hint when misspelled) or
/// repeated argument, a value of the wrong type, nothing to invalidate, a target that is not a
/// call, `before = false, after = false`, a function that is not `async`, and a tag
/// placeholder that names no parameter.
#[proc_macro_attribute]
pub fn cache_invalidate(args: TokenStream, item: TokenStream) -> TokenStream {
    writer::expand(writer::Attr::Invalidate, args.into(), item.into()).into()
}

/// Writes an async fn's return value to the entries of [`macro@cached`] calls, so the next read
/// is a hit with the new value instead of a miss.
///
/// ```ignore
/// use cache_runtime::{cache_put, cached};
///
/// #[cached(ttl = "10m")]
/// async fn get_user(id: u64) -> Option<User> { db::find_user(id).await }
///
/// #[cache_put(get_user(id))]
/// async fn save_user(id: u64, user: User) -> Result<User, DbError> {
///     db::save_user(id, &user).await?;
///     Ok(user)
/// }
/// ```
///
/// The targets are written as for [`macro@cache_invalidate`] (one or more calls of `#[cached]`
/// fns, `Self::get(self, id)` for a method) and computed when the call starts; the value is
/// written after the body. What is written follows the return type, as for `#[cached]`:
/// the `Ok` value of a `Result` (nothing on `Err`), the `Some` value of an `Option` (nothing on
/// `None`), any other value as is. It must have the target's value type (the `T` of the target's
/// `Result<T, _>` / `Option<T>`, or its plain type): a mismatch is a compile error at the
/// target. The entry takes the target's TTL and tags.
///
/// A failed write (Redis down) never changes the function's result: it is counted in
/// `Stats::errors` and logged.
///
/// # `cache`
///
/// Without it, each target's value is written to the cache its `#[cached]` fn reads from,
/// as for [`macro@cache_invalidate`]; with it, to this cache.
///
/// ```ignore
/// #[cache_put(get_user(id), cache = cache)]
/// async fn save_user(id: u64, user: User, cache: &Cache) -> Result<User, DbError> { /* ... */ }
/// ```
///
/// # `crate`
///
/// The path of the runtime crate, when it is renamed or re-exported; defaults to
/// `::cache_runtime`.
///
/// ```ignore
/// #[my_cache::cache_put(get_user(id), crate = my_cache)]
/// async fn save_user(id: u64, user: User) -> Option<User> { /* ... */ }
/// ```
///
/// # Errors
///
/// Compile errors at the token that causes them: an unknown or repeated argument, no target,
/// a target that is not a call, a function that is not `async`, a target that is not a
/// `#[cached]` fn or gets the wrong arguments, and a value type that differs from the target's.
#[proc_macro_attribute]
pub fn cache_put(args: TokenStream, item: TokenStream) -> TokenStream {
    writer::expand(writer::Attr::Put, args.into(), item.into()).into()
}

/// Makes the [`macro@cached`] methods of an impl block targets of [`macro@cache_invalidate`] and
/// [`macro@cache_put`]: in a trait impl, and for methods without a visibility.
///
/// `#[cached]` on a method emits the hidden items writers call next to the method, which a
/// trait impl cannot hold, and does so only for methods with a visibility (it cannot tell an
/// inherent impl from a trait impl). On the impl block, `#[cache_targets]` can: it expands each
/// `#[cached]` method and puts its hidden items in the impl (an inherent impl, with the
/// method's visibility) or in an inherent impl of the same type next to it (a trait impl,
/// `pub(crate)`). A target then names the method by its type, `Self::get(self, id)`,
/// `PgRepo::get(&repo, id)` or `<PgRepo as UserRepo>::get(&repo, id)`.
///
/// ```ignore
/// use cache_runtime::{cache_invalidate, cache_targets, cached, Cache};
///
/// trait UserRepo {
///     async fn get(&self, id: u64) -> Option<User>;
/// }
///
/// #[cache_targets]
/// impl UserRepo for PgRepo {
///     #[cached(cache = self.cache, ttl = "10m")]
///     async fn get(&self, id: u64) -> Option<User> { /* a query */ }
/// }
///
/// impl PgRepo {
///     #[cache_invalidate(<Self as UserRepo>::get(self, id))]
///     pub async fn rename(&self, id: u64, name: &str) -> Result<(), DbError> { /* ... */ }
/// }
/// ```
///
/// With `#[async_trait]`, `#[cached]` and the writers work on its methods as written, in
/// either order of the two attributes on the impl. The type must be local to the crate (an
/// inherent impl is emitted for it). An associated fn without `self` that does not name
/// `Self` needs `#[cache_targets]` on its impl to be `#[cached]` at all. `#[cache_targets]`
/// takes no arguments.
#[proc_macro_attribute]
pub fn cache_targets(args: TokenStream, item: TokenStream) -> TokenStream {
    targets::expand(args.into(), item.into()).into()
}
