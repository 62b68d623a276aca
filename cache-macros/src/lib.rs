//! Procedural macros of [`cache_runtime`](https://docs.rs/cache-runtime).
//!
//! Do not depend on this crate directly: depend on `cache-runtime`, which re-exports
//! [`macro@cached`] as `cache_runtime::cached` and provides everything the generated code
//! calls. The reference documentation of each argument is on [`macro@cached`].
//!
//! The crate only generates calls into `cache_runtime::__private`; no caching logic lives here.
//! The macro parses its arguments into typed values (`args`), builds a model of the function
//! (`ast`), checks it (`valid`), and rewrites the body (`expand`, `key`), reporting every
//! mistake as a compile error at the token that causes it.

#![deny(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

mod args;
mod ast;
mod errors;
mod expand;
mod key;
mod paths;
mod tags;
mod valid;

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
/// contributes `id`); `_` contributes nothing. The receiver (`self`) is never part of the key.
///
/// The namespace, the version and the name of the cached value's type complete the key, so a
/// generic fn caches `load::<User>(1)` and `load::<Order>(1)` apart. Two functions that share a
/// namespace, argument values and value type share entries: this happens by default for
/// methods of the same name on different types in one module, and for generic parameters that
/// do not appear in the return type. Give such functions their own `namespace`, or feed the
/// type into the key (`key = (id, std::any::type_name::<T>())`).
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
/// A method that takes `self` by value or `&mut self` cannot borrow its cache from `self`,
/// because the body needs `self` while the cache is in use; keep the cache in an `Arc` and pass
/// it as a skipped parameter instead.
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
/// Placeholder values are formatted with `Display` when the call starts, before the body runs.
/// Tags are not part of the key. The list must not be empty.
///
/// ```ignore
/// #[cached(skip(db), tags = ["user:{id}", "org:{user.org_id}", "profiles"])]
/// async fn profile(id: u64, user: &User, db: &Db) -> Profile { /* ... */ }
///
/// // after a write to user 42:
/// cache.invalidate_tag("user:42").await?;
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
/// # Errors
///
/// Mistakes are compile errors at the token that causes them: an unknown, misspelled or
/// repeated argument, a value of the wrong type, a function that is not `async`, a `skip` of a
/// name that is not a parameter, a malformed tag or a tag placeholder that names no parameter,
/// and a parameter or return type that cannot be serialized.
#[proc_macro_attribute]
pub fn cached(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::cached(args.into(), item.into()).into()
}
