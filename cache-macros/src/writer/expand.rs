//! The code of a writer: the body wrapped between what runs before it and after it.
//!
//! `#[cache_invalidate]`:
//!
//! ```text
//! <attrs> <vis> <sig> {
//!     <inner attrs>
//!     let __cache_handle: &<root>::Cache = <private>::global();   // or the `cache = ` form
//!     let mut __cache_plan = <private>::Plan::new();
//!     <private>::plan_key(__cache_handle, &mut __cache_plan, __cache_key_get_user(&(id)));
//!     <private>::plan_all(&mut __cache_plan, __cache_ns_get_orders());
//!     __cache_plan.namespace("users");                       // `namespace`, `tags`, `pattern`
//!     <private>::invalidate(__cache_handle, &__cache_plan).await;        // if `before = true`
//!     let __cache_result = async move {
//!         if false { let __cache_fake_return: Ret = loop {}; return __cache_fake_return; }
//!         <body statements>
//!     }.await;
//!     <private>::invalidate_if_ok(__cache_handle, &__cache_plan, &__cache_result).await;
//!         // `Result` return; any other shape: <private>::invalidate(..); none if `after = false`
//!     __cache_result
//! }
//! ```

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Type;

use super::args::Attr;
use super::ast::Writer;
use crate::cached::ast::Shape;
use crate::cached::key::tag_value;
use crate::desugared::emit;
use crate::paths::RuntimePath;
use crate::target::{self, Target};

impl Writer<'_> {
    /// The fn with its body wrapped.
    pub(crate) fn generate(&self) -> TokenStream {
        match self.attr {
            Attr::Invalidate => self.invalidate(),
            Attr::Put => self.put(),
        }
    }

    /// `let __cache_handle = ...;`: the global cache, or the `cache = expr` form of `#[cached]`.
    pub(crate) fn handle(&self, runtime: &RuntimePath) -> TokenStream {
        runtime.handle(self.args.cache.as_ref().map(|arg| &arg.value))
    }

    /// `async move { <fake return> <body> }.await`, whose value is the body's.
    fn body(&self) -> TokenStream {
        let ret = &self.ret;
        let stmts = &self.original.block.stmts;
        let fake_return = quote_spanned! {ret.span()=>
            #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop)]
            if false {
                let __cache_fake_return: #ret = loop {};
                return __cache_fake_return;
            }
        };
        quote! {
            async move {
                #fake_return
                #(#stmts)*
            }
            .await
        }
    }

    /// The fn with the body wrapped in `before`, then the body, then `after`.
    pub(crate) fn wrap(&self, before: TokenStream, after: TokenStream) -> TokenStream {
        let body = self.body();
        let is_unit = matches!(&self.ret, Type::Tuple(unit) if unit.elems.is_empty());
        let allow_unit = is_unit.then(|| quote!(#[allow(clippy::let_unit_value)]));
        let run = if after.is_empty() {
            body
        } else {
            quote! {
                #allow_unit
                let __cache_result = #body;
                #after
                __cache_result
            }
        };
        emit(self.original, self.boxed, &quote!(#before #run))
    }

    /// The `#[cache_invalidate]` expansion.
    fn invalidate(&self) -> TokenStream {
        let args = &self.args;
        let runtime = self.runtime();
        let private = runtime.private();
        let mut before = TokenStream::new();
        // Without `cache = ...`, each target gets the cache its `#[cached]` fn reads from, and
        // its own plan: the first target's is the main one, which `namespace`, `tags` and
        // `pattern` join.
        let mut plans = Vec::new();
        if args.cache.is_some() || self.targets.is_empty() {
            before.extend(self.handle(&runtime));
        }
        before.extend(quote!(let mut __cache_plan = #private::Plan::new();));
        for (index, target) in self.targets.iter().enumerate() {
            before.extend(target::fallback(target, index, false, &runtime));
            let span = target.span();
            let (handle, plan) = if args.cache.is_some() {
                (
                    Ident::new("__cache_handle", span),
                    Ident::new("__cache_plan", span),
                )
            } else {
                let (handle, source) = self.target_handle(&runtime, index, target);
                before.extend(source);
                if index == 0 {
                    let cache = runtime.cache();
                    before.extend(quote!(let __cache_handle: &#cache = #handle;));
                    (
                        Ident::new("__cache_handle", span),
                        Ident::new("__cache_plan", span),
                    )
                } else {
                    let plan = Ident::new(&format!("__cache_plan_{index}"), span);
                    before.extend(quote!(let mut #plan = #private::Plan::new();));
                    plans.push((handle.clone(), plan.clone()));
                    (handle, plan)
                }
            };
            before.extend(match target {
                Target::Key(call) => {
                    let key = target::key_call(call);
                    quote_spanned! {span=>
                        #private::plan_key(#handle, &mut #plan, #key);
                    }
                }
                Target::All(path) => {
                    let ns = target::ns_call(path);
                    quote_spanned! {span=>
                        #private::plan_all(&mut #plan, #ns.0);
                    }
                }
            });
        }
        plans.insert(
            0,
            (
                Ident::new("__cache_handle", Span::call_site()),
                Ident::new("__cache_plan", Span::call_site()),
            ),
        );
        if let Some(namespace) = &args.namespace {
            let namespace = &namespace.value;
            before.extend(quote!(__cache_plan.namespace(#namespace);));
        }
        for tag in self.tags() {
            if let Some(value) = tag_value(tag, Some(&private)) {
                before.extend(quote_spanned!(tag.span()=> __cache_plan.tag(#value);));
            }
        }
        if let Some(pattern) = &args.pattern {
            let pattern = &pattern.value;
            before.extend(quote!(__cache_plan.pattern(#pattern);));
        }
        let run_before = args.before.as_ref().is_some_and(|arg| arg.value);
        if run_before {
            for (handle, plan) in &plans {
                before.extend(quote!(#private::invalidate(#handle, &#plan).await;));
            }
        }
        let run_after = args.after.as_ref().is_none_or(|arg| arg.value);
        let mut after = TokenStream::new();
        for (handle, plan) in plans.iter().filter(|_| run_after) {
            after.extend(match self.shape {
                Shape::Result => quote! {
                    #private::invalidate_if_ok(#handle, &#plan, &__cache_result).await;
                },
                _ => quote! {
                    #private::invalidate(#handle, &#plan).await;
                },
            });
        }
        self.wrap(before, after)
    }

    /// For the target at `index` of a writer without `cache = ...`: the statements that find
    /// the cache its `#[cached]` fn reads from, and the name of the `&Cache` they bind.
    pub(crate) fn target_handle(
        &self,
        runtime: &RuntimePath,
        index: usize,
        target: &Target,
    ) -> (Ident, TokenStream) {
        let span = target.span();
        let private = runtime.private_at(span);
        let source = Ident::new(&format!("__cache_source_{index}"), span);
        let handle = Ident::new(&format!("__cache_handle_{index}"), span);
        let bind = match target {
            Target::Key(call) => {
                let call = target::source_call(call);
                quote_spanned!(span=> let #source = #call;)
            }
            Target::All(path) => {
                let call = target::ns_call(path);
                quote_spanned!(span=> let #source = #call.1;)
            }
        };
        let cache = runtime.cache();
        let stmts = quote_spanned! {span=>
            #bind
            let #handle: &#cache = #private::target_cache(&#source);
        };
        (handle, stmts)
    }
}
