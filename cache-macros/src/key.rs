//! The statements that feed one call's key parts into `__cache_key` (a `KeyBuilder`).
//!
//! Each statement is spanned at the user's token it comes from, so a part that is not
//! `Serialize` is reported at that parameter (or at the `key = ...` expression).

use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::spanned::Spanned;

use crate::ast::CachedFn;

/// The generated key statements.
pub(crate) struct KeyParts {
    /// `__cache_key.arg(..);` statements, in order.
    pub(crate) stmts: TokenStream,
    /// Whether there are none (then `__cache_key` needs no `mut`).
    pub(crate) is_empty: bool,
}

impl CachedFn<'_> {
    /// The key statements: `key = expr` alone, or every parameter binding that is not skipped,
    /// in parameter order (what `cache_runtime::key_for` reproduces by hand).
    pub(crate) fn key_parts(&self) -> KeyParts {
        let mut stmts = TokenStream::new();
        if let Some(key) = &self.args.key {
            let expr = &key.value;
            stmts.extend(quote_spanned! {expr.span()=>
                __cache_key.arg(&(#expr));
            });
        } else {
            for binding in self.bindings.iter().filter(|binding| !binding.skipped) {
                let ident = binding.ident;
                stmts.extend(quote_spanned! {ident.span()=>
                    __cache_key.arg(&#ident);
                });
            }
        }
        KeyParts {
            is_empty: stmts.is_empty(),
            stmts,
        }
    }
}
