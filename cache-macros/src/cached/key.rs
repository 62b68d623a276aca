//! The statements that feed one call's key parts into `__cache_key` (a `KeyBuilder`).
//!
//! Each statement is spanned at the user's token it comes from, so a part that is not
//! `Serialize` is reported at that parameter (or at the `key = ...` expression).
//!
//! `tags = [...]` adds one `__cache_key.tag(..)` statement per tag after the key parts, spanned
//! at the tag's string literal.

use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::spanned::Spanned;
use syn::LitStr;

use super::ast::CachedFn;
use crate::tags::{self, Piece};

impl CachedFn<'_> {
    /// The key statements: `key = expr` alone, or every parameter binding that is not skipped,
    /// in parameter order (what `cache_runtime::key_for` reproduces by hand).
    ///
    /// In the hidden key fn (`in_key_fn`), each parameter is a reference to the cached fn's,
    /// so a binding is passed as is (`arg(id)` with `id: &u64` is `arg(&id)` with `id: u64`):
    /// the same value is hashed, and a part that is not `Serialize` fails with the very same
    /// error, which rustc reports once.
    pub(crate) fn key_parts(&self, in_key_fn: bool) -> TokenStream {
        let mut stmts = TokenStream::new();
        if let Some(key) = &self.args.key {
            let expr = &key.value;
            stmts.extend(quote_spanned! {expr.span()=>
                __cache_key.arg(&(#expr));
            });
        } else {
            for binding in self.bindings.iter().filter(|binding| !binding.skipped) {
                let ident = binding.ident;
                let borrow = (!in_key_fn).then(|| quote_spanned!(ident.span()=> &));
                stmts.extend(quote_spanned! {ident.span()=>
                    __cache_key.arg(#borrow #ident);
                });
            }
        }
        for tag in self.args.tags.iter().flat_map(|tags| &tags.value) {
            if let Some(value) = tag_value(tag) {
                stmts.extend(quote_spanned! {tag.span()=>
                    __cache_key.tag(#value);
                });
            }
        }
        // The label only matters to the call's stats, not to the key fn of invalidations.
        if let Some(label) = self.args.label.as_ref().filter(|_| !in_key_fn) {
            if let Some(value) = tag_value(&label.value) {
                stmts.extend(quote_spanned! {label.value.span()=>
                    __cache_key.label(#value);
                });
            }
        }
        stmts
    }
}

/// `::std::format!("user:{}", id)`, or `String::from("text")` for a tag without placeholders,
/// spanned at the tag's literal; `None` for a malformed template (`validate` reported it).
///
/// `#[cache_invalidate(tags = [...])]` formats its tags with the same code.
pub(crate) fn tag_value(tag: &LitStr) -> Option<TokenStream> {
    let span = tag.span();
    let pieces = tags::parse(&tag.value()).ok()?;
    let mut format = String::new();
    let mut args = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => format.push_str(&tags::escape(&text)),
            Piece::Placeholder {
                mut root, fields, ..
            } => {
                format.push_str("{}");
                root.set_span(span);
                let fields = fields.into_iter().map(|mut field| {
                    field.set_span(span);
                    field
                });
                args.push(quote_spanned!(span=> #root #(.#fields)*));
            }
        }
    }
    Some(if args.is_empty() {
        let text = LitStr::new(&tag.value(), span);
        quote_spanned!(span=> ::std::string::String::from(#text))
    } else {
        let format = LitStr::new(&format, span);
        quote_spanned!(span=> ::std::format!(#format, #(#args),*))
    })
}
