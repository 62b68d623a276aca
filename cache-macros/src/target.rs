//! The targets of `#[cache_invalidate(...)]` and `#[cache_put(...)]`: calls that name a
//! `#[cached]` fn and one entry of it (`get_user(id)`), or `all(get_user)` for every entry.
//!
//! A target is rewritten into a call of the hidden sibling that `#[cached]` emits next to the
//! fn: `users::get_user(id)` becomes `users::__cache_key_get_user(&(id))` and `all(get_user)`
//! becomes `__cache_ns_get_user()`. Every token keeps the span of the user's target, so a
//! wrong arity, a wrong argument type, or a fn that is not `#[cached]` is reported at the
//! target in the attribute.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Error, Expr, ExprCall, ExprPath, Path, PathArguments, Result};

use crate::cached::sibling_names;

/// One target of `#[cache_invalidate]` or `#[cache_put]`.
pub(crate) enum Target {
    /// `get_user(id)`: the entry of that call.
    Key(ExprCall),
    /// `all(get_user)`: every entry of that fn.
    All(Path),
}

impl Target {
    /// The target written as `expr`; `all(..)` only when `allow_all` (in `#[cache_invalidate]`).
    pub(crate) fn from_expr(expr: &Expr, allow_all: bool) -> Result<Target> {
        match expr {
            Expr::Group(group) => Target::from_expr(&group.expr, allow_all),
            Expr::Call(call) => match &*call.func {
                Expr::Path(ExprPath {
                    qself: None, path, ..
                }) => {
                    if allow_all && path.is_ident("all") {
                        all_target(call)
                    } else {
                        Ok(Target::Key(call.clone()))
                    }
                }
                _ => Err(not_a_target(expr, allow_all)),
            },
            Expr::Path(ExprPath {
                qself: None, path, ..
            }) => {
                let written = path.to_token_stream().to_string().replace(' ', "");
                let mut message = format!(
                    "`{written}` is not a call; write the target with the arguments of its \
                     entry, like `{written}(id)`"
                );
                if allow_all {
                    message.push_str(&format!(", or `all({written})` for every entry"));
                }
                Err(Error::new_spanned(expr, message))
            }
            Expr::MethodCall(call) => Err(Error::new_spanned(
                expr,
                format!(
                    "a target is a path call, not a method call; write it as `Self::{}(self, ..)`",
                    call.method
                ),
            )),
            _ => Err(not_a_target(expr, allow_all)),
        }
    }

    /// The span of the target as written (its first token), for statements about it.
    pub(crate) fn span(&self) -> Span {
        match self {
            Target::Key(call) => call.func.span(),
            Target::All(path) => path.span(),
        }
    }
}

/// `all(path)`: exactly one path without `<..>` on it.
fn all_target(call: &ExprCall) -> Result<Target> {
    let mut args = call.args.iter();
    match (args.next(), args.next()) {
        (
            Some(Expr::Path(ExprPath {
                qself: None, path, ..
            })),
            None,
        ) => Ok(Target::All(path.clone())),
        _ => Err(Error::new_spanned(
            call,
            "`all` takes the path of one `#[cached]` fn, like `all(get_user)` or \
             `all(Self::get)`",
        )),
    }
}

/// The error for an expression that is not a target.
fn not_a_target(expr: &Expr, allow_all: bool) -> Error {
    let message = if allow_all {
        "expected a target, a call of a `#[cached]` fn like `get_user(id)` or \
         `Self::get(self, id)`, or `all(get_user)`, or a named argument"
    } else {
        "expected a target, a call of a `#[cached]` fn like `get_user(id)` or \
         `Self::get(self, id)`, or a named argument"
    };
    Error::new_spanned(expr, message)
}

/// `path::__cache_key_f::<T>(&(a), &(b))`: the hidden key fn's call for `path::f::<T>(a, b)`,
/// every token at the user's span.
pub(crate) fn key_call(call: &ExprCall) -> TokenStream {
    let Expr::Path(ExprPath { path, .. }) = &*call.func else {
        return TokenStream::new();
    };
    let mut path = path.clone();
    if let Some(last) = path.segments.last_mut() {
        last.ident = sibling_names(&last.ident).0;
    }
    let args = call.args.iter().map(|arg| {
        let span = arg.span();
        let mut group = Group::new(Delimiter::Parenthesis, arg.to_token_stream());
        group.set_span(span);
        quote_spanned!(span=> &#group)
    });
    let mut group = Group::new(Delimiter::Parenthesis, quote!(#(#args),*));
    group.set_span(call.paren_token.span.join());
    quote!(#path #group)
}

/// `path::__cache_ns_f()`: the hidden namespace fn's call for `all(path::f)`.
pub(crate) fn ns_call(path: &Path) -> TokenStream {
    let mut path = path.clone();
    let mut span = path.span();
    if let Some(last) = path.segments.last_mut() {
        span = last.ident.span();
        last.ident = sibling_names(&last.ident).1;
        last.arguments = PathArguments::None;
    }
    let mut group = Group::new(Delimiter::Parenthesis, TokenStream::new());
    group.set_span(span);
    quote!(#path #group)
}
