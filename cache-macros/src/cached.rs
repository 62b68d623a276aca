//! `#[cached]`: parse the arguments (`args`), build the model of the fn (`ast`), check it
//! (`valid`), then rewrite the body (`expand`, `key`, `batch`) and emit the hidden items that
//! writers call (`siblings`).
//!
//! On any error the fn is re-emitted unchanged next to the error, together with stand-ins for
//! its hidden items: a writer that names the fn then compiles, so one mistake is one error.

use proc_macro2::{Span, TokenStream};
use syn::{Error, Item};

use crate::errors::with_error;

mod args;
pub(crate) mod ast;
mod batch;
mod expand;
pub(crate) mod key;
mod siblings;
mod valid;

use args::CachedArgs;
use ast::CachedFn;
pub(crate) use siblings::sibling_names;

/// Expands `#[cached(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => function,
        Ok(_) => return with_error(item, &not_a_fn()),
        Err(error) => return with_error(item, &error),
    };
    let (args, arg_errors) = CachedArgs::parse(args);
    let (cached, binding_errors) = CachedFn::from_syn(&function, args);
    let checked = arg_errors
        .finish(())
        .and_then(|()| binding_errors.finish(()))
        .and_then(|()| cached.validate());
    match checked {
        Ok(()) => cached.generate(),
        Err(error) => {
            let mut expanded = with_error(item, &error);
            expanded.extend(cached.stand_ins());
            expanded
        }
    }
}

/// The error for `#[cached]` on something other than a function with a body.
fn not_a_fn() -> Error {
    Error::new(
        Span::call_site(),
        "`#[cached]` can only be applied to an async fn with a body",
    )
}
