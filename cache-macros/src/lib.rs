//! Procedural macros of [`cache_runtime`](https://docs.rs/cache-runtime).
//!
//! Do not depend on this crate directly: depend on `cache-runtime`, which re-exports
//! [`macro@cached`], [`macro@cache_invalidate`], [`macro@cache_put`] and
//! [`macro@cache_targets`] and provides everything the generated code calls. The reference
//! of each attribute and each of its arguments is on the macro, with an example that runs as
//! a doctest (the text lives in `doc/`, one file per macro).
//!
//! The crate only generates calls into `cache_runtime::__private`; no caching logic lives here.
//! Each macro parses its arguments into typed values (`args`, declared once each), builds a
//! model of the function (`ast`), checks it (`valid`), and rewrites the body (`expand`),
//! reporting every mistake as a compile error at the token that causes it: `cached` for
//! `#[cached]`, `writer` for `#[cache_invalidate]` and `#[cache_put]`, `targets` for
//! `#[cache_targets]`.

#![deny(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
#![doc(test(attr(deny(warnings))))]

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

#[doc = include_str!("../doc/cached.md")]
#[proc_macro_attribute]
pub fn cached(args: TokenStream, item: TokenStream) -> TokenStream {
    cached::expand(args.into(), item.into()).into()
}

#[doc = include_str!("../doc/cache_invalidate.md")]
#[proc_macro_attribute]
pub fn cache_invalidate(args: TokenStream, item: TokenStream) -> TokenStream {
    writer::expand(writer::Attr::Invalidate, args.into(), item.into()).into()
}

#[doc = include_str!("../doc/cache_put.md")]
#[proc_macro_attribute]
pub fn cache_put(args: TokenStream, item: TokenStream) -> TokenStream {
    writer::expand(writer::Attr::Put, args.into(), item.into()).into()
}

#[doc = include_str!("../doc/cache_targets.md")]
#[proc_macro_attribute]
pub fn cache_targets(args: TokenStream, item: TokenStream) -> TokenStream {
    targets::expand(args.into(), item.into()).into()
}
