//! `#[cached]`: parse the arguments, build the IR, validate it, then rewrite the body.
//!
//! Only the body changes. Attributes, visibility, the signature (generics, where clause,
//! receiver) are re-emitted as written, and the body runs as an `async move` block handed to
//! the runtime together with the call's key:
//!
//! ```text
//! <attrs> <vis> <sig> {
//!     <inner attrs>
//!     { let _ = <private>::assert_outcome::<Ret>; }        // or assert_value
//!     static __CACHE_SITE: <private>::Site = <private>::Site::new(<namespace>, <version>)...;
//!     let __cache_handle: &<root>::Cache = <private>::global();
//!     let mut __cache_key = <private>::KeyBuilder::new();
//!     __cache_key.arg(&id);                                  // one per key part
//!     <private>::cached_outcome(__cache_handle, &__CACHE_SITE, __cache_key, async move {
//!         if false { let __cache_fake_return: Ret = loop {}; return __cache_fake_return; }
//!         <body statements>
//!     }).await
//! }
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{AttrStyle, Error, Item, ItemFn, LitStr, Result};

use crate::args::CachedArgs;
use crate::ast::{CachedFn, Output};
use crate::paths::RuntimePath;

/// Expands `#[cached(args)] item`. On any error the item is re-emitted unchanged next to the
/// error, so the user sees only the error and no follow-up errors from callers.
pub(crate) fn cached(args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => function,
        Ok(_) => return with_error(item, not_a_fn()),
        Err(error) => return with_error(item, error),
    };
    match try_expand(args, &function) {
        Ok(expanded) => expanded,
        Err(error) => with_error(item, error),
    }
}

/// The phases: arguments → IR → validation → code.
fn try_expand(args: TokenStream, function: &ItemFn) -> Result<TokenStream> {
    let args: CachedArgs = syn::parse2(args)?;
    let cached = CachedFn::from_syn(function, args)?;
    cached.validate()?;
    Ok(cached.generate())
}

/// `item` as written, followed by `error` as `compile_error!`s.
fn with_error(mut item: TokenStream, error: Error) -> TokenStream {
    item.extend(error.to_compile_error());
    item
}

/// The error for `#[cached]` on something other than a function with a body.
fn not_a_fn() -> Error {
    Error::new(
        Span::call_site(),
        "`#[cached]` can only be applied to an async fn with a body",
    )
}

impl CachedFn<'_> {
    /// The function with its body replaced by the cached call.
    fn generate(&self) -> TokenStream {
        let ItemFn {
            attrs,
            vis,
            sig,
            block,
        } = self.original;
        let (outer, inner): (Vec<_>, Vec<_>) = attrs
            .iter()
            .partition(|attr| matches!(attr.style, AttrStyle::Outer));
        let runtime = RuntimePath::new(self.args.krate.as_ref().map(|arg| &arg.value));
        let private = runtime.private();
        let cache_type = runtime.cache();
        let Some(Output { ty: ret, .. }) = &self.output else {
            // `validate` rejects functions without a return type; keep the body as written.
            return self.original.to_token_stream();
        };

        let (assert, run) = if self.caches_outcome() {
            (quote!(assert_outcome), quote!(cached_outcome))
        } else {
            (quote!(assert_value), quote!(cached_plain))
        };
        let assert = quote_spanned! {ret.span()=>
            let _ = #private::#assert::<#ret>;
        };
        let site = self.site(&private);
        let handle = match &self.args.cache {
            Some(cache) => {
                let expr = &cache.value;
                quote_spanned!(expr.span()=> #private::AsCache::as_cache(&(#expr)))
            }
            None => quote!(#private::global()),
        };
        let key = self.key_parts(&private);
        let key_mut = (!key.is_empty).then(|| quote!(mut));
        let key_stmts = &key.stmts;
        let stmts = &block.stmts;
        // The call and the fake return are spanned at the return type (the body keeps its own
        // spans): a value type missing a bound is reported there, and rustc drops the call's
        // errors that repeat the assertion's.
        let call = quote_spanned! {ret.span()=>
            #private::#run(__cache_handle, &__CACHE_SITE, __cache_key, async move {
                #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop)]
                if false {
                    let __cache_fake_return: #ret = loop {};
                    return __cache_fake_return;
                }
                #(#stmts)*
            })
            .await
        };

        quote! {
            #(#outer)*
            #vis #sig {
                #(#inner)*
                #[allow(unused_imports, clippy::all)]
                {
                    #assert
                }
                static __CACHE_SITE: #private::Site = #site;
                let __cache_handle: &#cache_type = #handle;
                let #key_mut __cache_key = #private::KeyBuilder::new();
                #key_stmts
                #call
            }
        }
    }

    /// The `Site` constant: namespace, version, and the optional ttl and `cache_none` flag.
    fn site(&self, private: &TokenStream) -> TokenStream {
        let namespace = match &self.args.namespace {
            Some(namespace) => namespace.value.to_token_stream(),
            None => {
                let name = LitStr::new(&self.name().unraw().to_string(), self.name().span());
                quote!(::core::concat!(::core::module_path!(), "::", #name))
            }
        };
        let version = self.args.version.as_ref().map_or(1, |arg| arg.value);
        let mut site = quote!(#private::Site::new(#namespace, #version));
        if let Some(ttl) = &self.args.ttl {
            let millis = ttl.value;
            site.extend(quote! {
                .ttl(#private::core::time::Duration::from_millis(#millis))
            });
        }
        if self.args.cache_none.as_ref().is_some_and(|arg| arg.value) {
            site.extend(quote!(.cache_none(true)));
        }
        site
    }
}

#[cfg(test)]
mod tests;
