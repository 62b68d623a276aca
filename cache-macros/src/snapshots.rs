//! Expansion snapshots: each case expands one function and compares the formatted output with
//! `tests/expand/<case>.expanded.rs`. Run with `UPDATE_EXPAND=1` to rewrite the snapshots, then
//! review the diff: the snapshots document the contract with `cache_runtime::__private`.

#![allow(clippy::panic)]

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use crate::writer::{self, Attr};

/// Expands `#[cached(args)] item` and checks it against the snapshot named `case`.
fn check(case: &str, args: TokenStream, item: TokenStream) {
    check_expanded(case, crate::cached::expand(args, item));
}

/// Expands `#[cache_invalidate(args)] item` or `#[cache_put(args)] item` and checks it.
fn check_targets(case: &str, attr: Attr, args: TokenStream, item: TokenStream) {
    check_expanded(case, writer::expand(attr, args, item));
}

/// Checks `expanded` against the snapshot named `case`.
fn check_expanded(case: &str, expanded: TokenStream) {
    let file: syn::File = match syn::parse2(expanded.clone()) {
        Ok(file) => file,
        Err(error) => panic!("{case}: expansion is not a file: {error}\n{expanded}"),
    };
    let actual = prettyplease::unparse(&file);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/expand")
        .join(format!("{case}.expanded.rs"));
    if std::env::var_os("UPDATE_EXPAND").is_some() {
        if let Err(error) = std::fs::write(&path, &actual) {
            panic!("{case}: cannot write {}: {error}", path.display());
        }
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{case}: expansion differs from {} (rerun with UPDATE_EXPAND=1 to accept)\n\
         --- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

#[test]
fn plain() {
    check(
        "plain",
        quote!(ttl = 300),
        quote! {
            /// Squares a number, slowly.
            pub async fn square(n: u64) -> u64 {
                n * n
            }
        },
    );
}

#[test]
fn result() {
    check(
        "result",
        quote!(ttl = "10m", namespace = "users", skip(pool)),
        quote! {
            pub async fn get_user(id: u64, pool: &Pool) -> Result<User, AppError> {
                pool.load(id).await
            }
        },
    );
}

#[test]
fn option() {
    check(
        "option",
        quote!(version = 3),
        quote! {
            async fn find(email: String) -> Option<User> {
                lookup(&email).await
            }
        },
    );
}

#[test]
fn cache_none() {
    check(
        "cache_none",
        quote!(cache_none = true, ttl = "500ms"),
        quote! {
            async fn find(email: String) -> Option<User> {
                lookup(&email).await
            }
        },
    );
}

#[test]
fn method() {
    check(
        "method",
        quote!(cache = self.cache),
        quote! {
            #[inline]
            pub async fn get(&self, id: u64) -> Result<User, Error> {
                #![allow(clippy::needless_return)]
                return self.db.load(id).await;
            }
        },
    );
}

#[test]
fn key_expr() {
    check(
        "key_expr",
        quote!(key = (user.id, page)),
        quote! {
            async fn feed(user: &User, page: u32, db: &Db) -> Vec<Post> {
                db.feed(user, page).await
            }
        },
    );
}

#[test]
fn skip_and_patterns() {
    check(
        "skip_and_patterns",
        quote!(skip(db)),
        quote! {
            async fn handler(Path(id): Path<u64>, (a, _): (u8, u8), db: Db, _: Extra) -> String {
                db.name(id, a).await
            }
        },
    );
}

#[test]
fn generics() {
    check(
        "generics",
        quote!(),
        quote! {
            async fn load<'a, T, const N: usize>(id: &'a str) -> Result<T, Error>
            where
                T: DeserializeOwned + Serialize + Clone + Send + Sync + 'static,
            {
                fetch::<T, N>(id).await
            }
        },
    );
}

#[test]
fn crate_path() {
    check(
        "crate_path",
        quote!(crate = my_cache, namespace = "n"),
        quote! {
            async fn get(key: u64, cache: u64, result: u64, value: u64, handle: u64) -> u64 {
                key + cache + result + value + handle
            }
        },
    );
}

#[test]
fn tags() {
    check(
        "tags",
        quote!(
            skip(user),
            tags = [
                "user:{id}",
                "org:{user.org_id}",
                "tenant:{self.tenant}",
                "static-tag",
                "braces:{{literal}}:{id}"
            ]
        ),
        quote! {
            async fn get_user(&self, id: u64, user: &User) -> Option<Profile> {
                self.db.profile(id, user).await
            }
        },
    );
}

/// The boolean policy arguments become `Site` calls; their defaults emit nothing.
#[test]
fn policy_flags() {
    check(
        "policy_flags",
        quote!(l1 = false, lock = true, compress = false),
        quote! {
            async fn thumbnail(id: u64) -> Vec<u8> {
                render(id).await
            }
        },
    );
    let defaults = crate::cached::expand(
        quote!(l1 = true, lock = false, compress = true),
        quote! {
            async fn thumbnail(id: u64) -> Vec<u8> {
                render(id).await
            }
        },
    )
    .to_string();
    assert!(!defaults.contains("compress"), "{defaults}");
    assert!(!defaults.contains(". l1 ("), "{defaults}");
}

/// With tags but no key part, `__cache_key` is still `mut`.
#[test]
fn tags_without_key_parts() {
    let expanded = crate::cached::expand(
        quote!(tags = ["rates"]),
        quote! {
            async fn rates() -> Vec<Rate> {
                load().await
            }
        },
    )
    .to_string();
    assert!(expanded.contains("let mut __cache_key"), "{expanded}");
    assert!(
        expanded.contains(r#"__cache_key . tag (:: std :: string :: String :: from ("rates")) ;"#),
        "{expanded}"
    );
}

#[test]
fn error_keeps_item() {
    check(
        "error_keeps_item",
        quote!(tll = 5, ttl = 0),
        quote! {
            fn not_async(id: u64) -> u64 {
                id
            }
        },
    );
}

#[test]
fn invalidate() {
    check_targets(
        "invalidate",
        Attr::Invalidate,
        quote!(
            Self::get(self, id),
            users::get_page::<Page>(id, 1),
            all(get_orders),
            namespace = "users",
            tags = ["user:{id}", "org:{self.org}"],
            pattern = "sessions:*",
            before = true,
            cache = self.cache
        ),
        quote! {
            /// Renames a user.
            pub async fn rename(&self, id: u64, name: String) -> Result<(), DbError> {
                #![allow(clippy::needless_return)]
                return self.db.rename(id, name).await;
            }
        },
    );
}

#[test]
fn put() {
    check_targets(
        "put",
        Attr::Put,
        quote!(
            get_user(id),
            crate::users::find(&user.email),
            crate = my_cache
        ),
        quote! {
            async fn save(id: u64, user: User) -> Option<User> {
                db::save(id, user).await
            }
        },
    );
}

/// With `after = false` the body's value is the tail expression: no `__cache_result`, and a
/// fn without `->` returns `()`.
#[test]
fn invalidate_before_only() {
    let expanded = writer::expand(
        Attr::Invalidate,
        quote!(get_user(id), before = true, after = false),
        quote! {
            async fn touch(id: u64) {
                log(id);
            }
        },
    )
    .to_string();
    assert!(!expanded.contains("__cache_result"), "{expanded}");
    assert!(
        expanded.contains("let __cache_fake_return : () = loop"),
        "{expanded}"
    );
    assert_eq!(expanded.matches("invalidate (").count(), 1, "{expanded}");
}

/// A plain return is written with `put_plain`.
#[test]
fn put_plain() {
    let expanded = writer::expand(
        Attr::Put,
        quote!(square(n)),
        quote! {
            async fn set(n: u64, value: u64) -> u64 {
                value
            }
        },
    )
    .to_string();
    assert!(expanded.contains("put_plain"), "{expanded}");
    assert!(!expanded.contains("put_outcome"), "{expanded}");
}

#[test]
fn batch() {
    check(
        "batch",
        quote!(batch, namespace = "users", ttl = "10m"),
        quote! {
            /// Loads many users in one query.
            pub async fn get_users(ids: Vec<u64>, db: &Db) -> HashMap<u64, User> {
                #![allow(clippy::needless_pass_by_value)]
                db.load_many(&ids).await
            }
        },
    );
}

/// `&[K]` ids are copied into the lookup, and the body sees the missing ids as a slice under
/// the parameter's own name; the `cache = expr` form is kept, and no siblings are emitted.
#[test]
fn batch_slice() {
    let expanded = crate::cached::expand(
        quote!(batch, cache = self.cache, version = 2),
        quote! {
            pub async fn load(&self, mut keys: &[String]) -> Result<Vec<Item>, Error> {
                self.db.load(keys).await
            }
        },
    )
    .to_string();
    for part in [
        "batch_lookup :: < String , < Result < Vec < Item > , Error > as",
        "BatchOutput < String >> :: Value > (__cache_handle , & __CACHE_SITE , keys . to_vec ()) . await",
        "let __cache_missing = __cache_batch . take_missing () ; \
         let mut keys : & [String] = & __cache_missing ;",
        "let __cache_handle : & :: cache_runtime :: Cache = :: cache_runtime :: __private :: AsCache :: as_cache (__cache_source) ;",
        "let _ = & mut keys ;",
        "2u32",
    ] {
        assert!(expanded.contains(part), "missing {part:?} in\n{expanded}");
    }
    assert!(!expanded.contains("__cache_key"), "{expanded}");
    assert!(!expanded.contains("assert_"), "{expanded}");
}

/// Every refusal of `batch`, each at its own token, in one compile.
#[test]
fn batch_errors() {
    let expanded = crate::cached::expand(
        quote!(
            batch,
            key = id,
            skip(db),
            tags = ["x"],
            cache_none = true,
            stale_if_error = "1h",
            lock = true
        ),
        quote! {
            async fn get(id: u64, db: &Db) -> User {
                db.load(id).await
            }
        },
    )
    .to_string();
    for name in [
        "key",
        "skip",
        "tags",
        "cache_none",
        "stale_if_error",
        "lock",
    ] {
        let message = format!("`{name}` cannot be combined with `batch`; drop `{name}`");
        assert!(
            expanded.contains(&message),
            "missing {message:?} in\n{expanded}"
        );
    }
    assert!(
        expanded.contains("needs the ids as the first parameter"),
        "{expanded}"
    );
    assert!(
        expanded.contains("needs a return type of `HashMap<K, V>`"),
        "{expanded}"
    );
    assert!(
        !expanded.contains("has no effect together with"),
        "{expanded}"
    );

    for args in [quote!(batch = true), quote!(batch(ids))] {
        let expanded = crate::cached::expand(
            args,
            quote!(
                async fn get(ids: Vec<u64>) -> Vec<u64> {
                    ids
                }
            ),
        )
        .to_string();
        assert!(
            expanded.contains("`batch` takes no value; write `#[cached(batch)]`"),
            "{expanded}"
        );
    }
}
