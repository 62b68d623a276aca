//! `#[cache_put]`: write the fn's return value to the entries of `#[cached]` calls.
//!
//! ```text
//! <attrs> <vis> <sig> {
//!     <inner attrs>
//!     let __cache_handle: &<root>::Cache = <private>::global();   // or the `cache = ` form
//!     let __cache_put_0 = __cache_key_get_user(&(id));            // one per target
//!     let __cache_result = async move { <fake return> <body statements> }.await;
//!     <private>::put_outcome(__cache_handle, __cache_put_0, &__cache_result).await;
//!         // `Result`/`Option` return; a plain return uses <private>::put_plain
//!     __cache_result
//! }
//! ```
//!
//! Each target's statements carry the target's span, so a value type that differs from the
//! target's is reported at the target in the attribute.

use proc_macro2::{Delimiter, Group, Ident, TokenStream};
use quote::quote_spanned;

use super::ast::Writer;
use crate::cached::ast::Shape;
use crate::target::{self, Target};

impl Writer<'_> {
    /// The `#[cache_put]` expansion.
    pub(crate) fn put(&self) -> TokenStream {
        let runtime = self.runtime();
        // Without `cache = ...`, each target writes to the cache its `#[cached]` fn reads from.
        let shared = self.args.cache.is_some();
        let mut before = if shared {
            self.handle(&runtime)
        } else {
            TokenStream::new()
        };
        let mut after = TokenStream::new();
        let store = if self.shape == Shape::Plain {
            "put_plain"
        } else {
            "put_outcome"
        };
        for (index, target) in self.targets.iter().enumerate() {
            let Target::Key(call) = target else {
                continue;
            };
            before.extend(target::fallback(target, index, true, &runtime));
            let span = target.span();
            let handle = if shared {
                Ident::new("__cache_handle", span)
            } else {
                let (handle, stmts) = self.target_handle(&runtime, index, target);
                before.extend(stmts);
                handle
            };
            let name = Ident::new(&format!("__cache_put_{index}"), span);
            let key = target::key_call(call);
            before.extend(quote_spanned!(span=> let #name = #key;));
            let private = runtime.private_at(span);
            let store = Ident::new(store, span);
            let mut args = Group::new(
                Delimiter::Parenthesis,
                quote_spanned!(span=> #handle, #name, &__cache_result),
            );
            // The call and its `.await` both sit on the target's name: rustc then reports a
            // value type mismatch once, at the target.
            args.set_span(span);
            after.extend(quote_spanned!(span=> #private::#store #args .await;));
        }
        self.wrap(before, after)
    }
}
