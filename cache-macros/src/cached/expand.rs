//! The code of a `#[cached]` fn. Only the body changes. Attributes, visibility, the signature (generics, where clause,
//! receiver) are re-emitted as written, and the body runs as an `async move` block handed to
//! the runtime together with the call's key:
//!
//! ```text
//! <attrs> <vis> <sig> {
//!     <inner attrs>
//!     { let _ = <private>::assert_outcome::<Ret>; }        // or assert_value
//!     static __CACHE_SITE: <private>::Site = <private>::Site::new(<namespace>, <version>)...;
//!     let __cache_handle: &<root>::Cache = <private>::global();
//!         // with `cache = expr`: let __cache_source = &(expr);
//!         //                      let __cache_handle = <private>::AsCache::as_cache(__cache_source);
//!     let mut __cache_key = <private>::KeyBuilder::new();
//!     __cache_key.arg(&id);                                  // one per key part
//!     __cache_key.tag(::std::format!("user:{}", <private>::tag_part(&(id))));  // per tag
//!     <private>::cached_outcome::<Ret, _>(__cache_handle, &__CACHE_SITE, &mut __cache_key, async move {
//!         if false { let __cache_fake_return: Ret = loop {}; return __cache_fake_return; }
//!         <body statements>
//!     }).await                                               // or cached_plain
//! }
//! ```

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Type};

use super::ast::{CachedFn, Output};
use crate::desugared::emit;
use crate::paths::RuntimePath;

impl CachedFn<'_> {
    /// The function with its body replaced by the cached call, and its hidden siblings.
    pub(crate) fn generate(&self) -> (TokenStream, TokenStream) {
        let Some(Output { ty: ret, .. }) = &self.output else {
            // `validate` rejects functions without a return type; keep the body as written.
            return (self.original.to_token_stream(), TokenStream::new());
        };
        let runtime = RuntimePath::new(self.args.krate.as_ref().map(|arg| &arg.value));
        let private = runtime.private();
        let (assert, call) = self.assert_and_call(&runtime, ret);
        let site = self.site(&private);
        let handle = runtime.handle(self.args.cache.as_ref().map(|arg| &arg.value));
        if self.args.batch.is_some() {
            let body = self
                .batch_body(&runtime, ret, site, handle)
                .unwrap_or_default();
            return (emit(self.original, self.boxed, &body), TokenStream::new());
        }
        let key_stmts = self.key_parts(false);
        let body = quote! {
            #[allow(unused_imports, clippy::all)]
            {
                #assert
            }
            static __CACHE_SITE: #private::Site = #site;
            #handle
            let mut __cache_key = #private::KeyBuilder::new();
            #key_stmts
            #call
        };
        (
            emit(self.original, self.boxed, &body),
            self.siblings(&runtime, ret),
        )
    }

    /// The assertion that the return type can be cached, and the call that runs the body
    /// through the cache, both spanned at the return type `ret` (the body keeps its spans).
    ///
    /// A value type missing a bound is then reported at the return type, not at the attribute.
    /// The call's path starts at the first token of `ret` and its parentheses sit on the last,
    /// so the call covers exactly the assertion's span and rustc drops the call's copies of the
    /// assertion's errors (the `.await`, a single token, still repeats the missing supertraits).
    fn assert_and_call(&self, runtime: &RuntimePath, ret: &Type) -> (TokenStream, TokenStream) {
        // `refresh` runs the body in the background, so it needs a detached body too.
        let detach = self.args.detach.as_ref().is_some_and(|arg| arg.value)
            || self.args.refresh.is_some()
            || self.args.soft_timeout.is_some();
        let (assert, run) = match (self.caches_outcome(), detach) {
            (true, false) => ("assert_outcome", "cached_outcome"),
            (true, true) => ("assert_outcome", "cached_outcome_detached"),
            (false, false) => ("assert_value", "cached_plain"),
            (false, true) => ("assert_value", "cached_plain_detached"),
        };
        let (first, last) = (ret.span(), last_span(ret));
        let private = runtime.private_at(first);
        let assert = Ident::new(assert, first);
        let assert = quote_spanned!(first=> let _ = #private::#assert::<#ret>;);

        let stmts = &self.original.block.stmts;
        let args = quote_spanned! {first=>
            __cache_handle, &__CACHE_SITE, &mut __cache_key, async move {
                #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop)]
                if false {
                    let __cache_fake_return: #ret = loop {};
                    return __cache_fake_return;
                }
                #(#stmts)*
            }
        };
        let mut args = Group::new(Delimiter::Parenthesis, args);
        args.set_span(last);
        let run = Ident::new(run, last);
        let call = quote_spanned!(first=> #private::#run::<#ret, _> #args .await);
        (assert, call)
    }

    /// The namespace: `namespace = "..."`, else `module_path!()` followed by `::name`.
    pub(crate) fn namespace(&self) -> TokenStream {
        match &self.args.namespace {
            Some(namespace) => namespace.value.to_token_stream(),
            None => {
                let name = LitStr::new(&self.name().unraw().to_string(), self.name().span());
                quote!(::core::concat!(::core::module_path!(), "::", #name))
            }
        }
    }

    /// The `Site` constant: namespace, version, and the optional ttl and `cache_none` flag.
    pub(crate) fn site(&self, private: &TokenStream) -> TokenStream {
        let namespace = self.namespace();
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
        if self.args.l1.as_ref().is_some_and(|arg| !arg.value) {
            site.extend(quote!(.l1(false)));
        }
        if let Some(soft) = &self.args.soft_timeout {
            let millis = soft.value;
            site.extend(quote! {
                .soft_timeout(#private::core::time::Duration::from_millis(#millis))
            });
        }
        if let Some(refresh) = &self.args.refresh {
            let millis = refresh.value;
            site.extend(quote! {
                .refresh(#private::core::time::Duration::from_millis(#millis))
            });
        }
        if let Some(stale) = &self.args.stale_if_error {
            let millis = stale.value;
            site.extend(quote! {
                .stale_if_error(#private::core::time::Duration::from_millis(#millis))
            });
        }
        if let Some(jitter) = &self.args.ttl_jitter {
            let ppm = jitter.value;
            site.extend(quote!(.ttl_jitter_ppm(#ppm)));
        }
        if self.args.lock.as_ref().is_some_and(|arg| arg.value) {
            site.extend(quote!(.lock(true)));
        }
        if self.args.compress.as_ref().is_some_and(|arg| !arg.value) {
            site.extend(quote!(.compress(false)));
        }
        if let Some(l1_ttl) = &self.args.l1_ttl {
            let millis = l1_ttl.value;
            site.extend(quote! {
                .l1_ttl(#private::core::time::Duration::from_millis(#millis))
            });
        }
        site
    }
}

/// The span of the last token of `tokens` (the closing delimiter of a trailing group).
fn last_span(tokens: &impl ToTokens) -> Span {
    match tokens.to_token_stream().into_iter().last() {
        Some(TokenTree::Group(group)) => group.span_close(),
        Some(tree) => tree.span(),
        None => Span::call_site(),
    }
}
