//! `#[cache_invalidate]` and `#[cache_put]`, the writers: parse the arguments (`args`), build
//! the model of the fn (`ast`), check it (`valid`), then wrap the body (`expand`, `put`).
//!
//! The signature is re-emitted as written; the targets are computed before the body (which
//! may move the arguments) and applied after it. On any error the fn is re-emitted unchanged
//! next to the error.

use proc_macro2::{Span, TokenStream};
use syn::{Error, Item};

use crate::desugared::Desugared;
use crate::errors::with_error;

mod args;
mod ast;
mod expand;
mod put;
mod valid;

pub(crate) use args::Attr;
use args::WriterArgs;
use ast::Writer;

/// Expands `#[cache_invalidate(args)] item` or `#[cache_put(args)] item`.
pub(crate) fn expand(attr: Attr, args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => function,
        Ok(_) => return with_error(item, &not_a_fn(attr)),
        Err(error) => return with_error(item, &error),
    };
    // A method `#[async_trait]` already rewrote is read as the `async fn` it was written as.
    let desugared = Desugared::recognize(&function);
    let written = desugared.as_ref().map_or(&function, |d| &d.written);
    let writer = WriterArgs::parse(attr, args).and_then(|args| {
        let mut writer = Writer::from_syn(written, args);
        writer.boxed = desugared.as_ref().map(|d| d.signature);
        writer.validate()?;
        Ok(writer)
    });
    match writer {
        Ok(writer) => writer.generate(),
        Err(error) => with_error(item, &error),
    }
}

/// The error for the attribute on something other than a function with a body.
fn not_a_fn(attr: Attr) -> Error {
    Error::new(
        Span::call_site(),
        format!(
            "`#[{}]` can only be applied to an async fn with a body",
            attr.name()
        ),
    )
}
