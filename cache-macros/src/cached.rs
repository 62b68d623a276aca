//! `#[cached]`: parse the arguments (`args`), build the model of the fn (`ast`), check it
//! (`valid`), then rewrite the body (`expand`, `key`, `batch`) and emit the hidden items that
//! writers call (`siblings`).
//!
//! On any error the fn is re-emitted unchanged next to the error, together with stand-ins for
//! its hidden items: a writer that names the fn then compiles, so one mistake is one error.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::{Error, Item, ItemFn};

use crate::desugared::Desugared;
use crate::errors::with_error;

mod args;
pub(crate) mod ast;
mod batch;
mod expand;
pub(crate) mod key;
mod siblings;
mod valid;

use args::CachedArgs;
use ast::{CachedFn, Placement};
pub(crate) use siblings::{sibling_names, SiblingNames};

/// Expands `#[cached(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => function,
        Ok(_) => return with_error(item, &not_a_fn()),
        Err(error) => return with_error(item, &error),
    };
    let (placement, args) = placement(args);
    let (mut expanded, siblings) = expand_fn(args, &function, placement);
    expanded.extend(siblings);
    expanded
}

/// The placement `#[cache_targets]` marks the arguments with (`@in_impl, ..` or
/// `@in_trait_impl, ..`, which no one writes by hand), and the arguments after it.
fn placement(args: TokenStream) -> (Placement, TokenStream) {
    let mut tokens = args.clone().into_iter();
    let (Some(TokenTree::Punct(at)), Some(TokenTree::Ident(marker))) =
        (tokens.next(), tokens.next())
    else {
        return (Placement::Alone, args);
    };
    let placement = match marker.to_string().as_str() {
        "in_impl" if at.as_char() == '@' => Placement::Impl(None),
        // A trait impl holds no hidden items: `#[cache_targets]` emits them next to it.
        "in_trait_impl" if at.as_char() == '@' => Placement::TraitImpl,
        _ => return (Placement::Alone, args),
    };
    let rest: TokenStream = tokens
        .skip_while(|tree| matches!(tree, TokenTree::Punct(comma) if comma.as_char() == ','))
        .collect();
    (placement, rest)
}

/// The expansion of `#[cached(args)]` on `function` at `placement`: the fn, and its hidden
/// items (stand-ins after an error). A fn that `#[async_trait]` already rewrote is read as the
/// `async fn` it was written as.
pub(crate) fn expand_fn(
    args: TokenStream,
    function: &ItemFn,
    placement: Placement,
) -> (TokenStream, TokenStream) {
    let desugared = Desugared::recognize(function);
    let written = desugared.as_ref().map_or(function, |d| &d.written);
    let (args, arg_errors) = CachedArgs::parse(args);
    let (mut cached, binding_errors) = CachedFn::from_syn(written, args);
    cached.placement = placement;
    cached.boxed = desugared.as_ref().map(|d| d.signature);
    let checked = arg_errors
        .finish(())
        .and_then(|()| binding_errors.finish(()))
        .and_then(|()| cached.validate());
    match checked {
        Ok(()) => cached.generate(),
        Err(error) => (
            with_error(function.to_token_stream(), &error),
            cached.stand_ins(),
        ),
    }
}

/// The error for `#[cached]` on something other than a function with a body.
fn not_a_fn() -> Error {
    Error::new(
        Span::call_site(),
        "`#[cached]` can only be applied to an async fn with a body",
    )
}
