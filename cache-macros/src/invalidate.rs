//! `#[cache_invalidate]` (and the parts `#[cache_put]` shares): parse the arguments, check
//! the fn, then wrap the body. The signature is re-emitted as written; the targets are
//! computed before the body (which may move the arguments) and applied after it:
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

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{AttrStyle, Attribute, Error, FnArg, Ident, Item, ItemFn, Result, ReturnType, Type};

use crate::ast::{self, Shape};
use crate::errors::Errors;
use crate::invalidate_args::{Attr, TargetArgs};
use crate::key::tag_value;
use crate::paths::RuntimePath;
use crate::tags;
use crate::target::{self, Target};

/// Expands `#[cache_invalidate(args)] item` or `#[cache_put(args)] item`. On any error the
/// item is re-emitted unchanged next to the error.
pub(crate) fn expand(attr: Attr, args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Fn(function)) => function,
        Ok(_) => return with_error(item, not_a_fn(attr)),
        Err(error) => return with_error(item, error),
    };
    let parsed = (|input: ParseStream<'_>| TargetArgs::parse(input, attr)).parse2(args);
    let wrapped = parsed.and_then(|args| {
        let wrapped = Wrapped {
            args,
            original: &function,
        };
        wrapped.validate()?;
        Ok(wrapped)
    });
    match wrapped {
        Ok(wrapped) if attr == Attr::Put => wrapped.put(),
        Ok(wrapped) => wrapped.invalidate(),
        Err(error) => with_error(item, error),
    }
}

/// `item` as written, followed by `error` as `compile_error!`s.
fn with_error(mut item: TokenStream, error: Error) -> TokenStream {
    item.extend(error.to_compile_error());
    item
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

/// A fn under `#[cache_invalidate]` or `#[cache_put]`, with its parsed arguments.
pub(crate) struct Wrapped<'a> {
    /// The parsed arguments.
    pub(crate) args: TargetArgs,
    /// The function as written.
    pub(crate) original: &'a ItemFn,
}

impl Wrapped<'_> {
    /// Checks every rule, returning all violations combined.
    fn validate(&self) -> Result<()> {
        let mut errors = Errors::default();
        let attr = self.args.attr.name();
        let sig = &self.original.sig;
        if sig.asyncness.is_none() {
            errors.push(Error::new_spanned(
                sig.fn_token,
                format!("`#[{attr}]` needs an async fn; add `async`"),
            ));
        }
        let args = &self.args;
        match args.attr {
            Attr::Invalidate => {
                let nothing = args.targets.is_empty()
                    && args.namespace.is_none()
                    && args.tags.is_none()
                    && args.pattern.is_none();
                if nothing {
                    errors.push(Error::new(
                        Span::call_site(),
                        "`#[cache_invalidate]` needs something to invalidate: a target like \
                         `get_user(id)` or `all(get_user)`, or `namespace`, `tags` or `pattern`",
                    ));
                }
            }
            Attr::Put if args.targets.is_empty() => errors.push(Error::new(
                Span::call_site(),
                "`#[cache_put]` needs a target, the `#[cached]` call whose entry receives the \
                 return value, like `#[cache_put(get_user(id))]`",
            )),
            Attr::Put => {}
        }
        if let (Some(before), Some(after)) = (&args.before, &args.after) {
            if !before.value && !after.value {
                errors.push(Error::new(
                    after.key,
                    "`before = false` and `after = false` leave nothing to do; \
                     drop `after = false` to invalidate after the body",
                ));
            }
        }
        if let Some(tags) = &args.tags {
            let mut idents = Vec::new();
            let mut has_self = false;
            for input in &sig.inputs {
                match input {
                    FnArg::Receiver(_) => has_self = true,
                    FnArg::Typed(typed) => {
                        ast::collect_bindings(&typed.pat, &mut idents, &mut errors)
                    }
                }
            }
            tags::check(&tags.value, &idents, has_self, &sig.ident, &mut errors);
        }
        errors.finish(())
    }

    /// The runtime path, from `crate = ...` or the default.
    pub(crate) fn runtime(&self) -> RuntimePath {
        RuntimePath::new(self.args.krate.as_ref().map(|arg| &arg.value))
    }

    /// The declared return type (`()` without `->`) and its shape.
    pub(crate) fn output(&self) -> (Type, Shape) {
        match &self.original.sig.output {
            ReturnType::Default => (syn::parse_quote!(()), Shape::Plain),
            ReturnType::Type(_, ty) => ((**ty).clone(), ast::shape(ty)),
        }
    }

    /// The outer attributes, and the inner ones to put back first in the body.
    pub(crate) fn attrs(&self) -> (Vec<&Attribute>, Vec<&Attribute>) {
        self.original
            .attrs
            .iter()
            .partition(|attr| matches!(attr.style, AttrStyle::Outer))
    }

    /// `let __cache_handle = ...;`: the global cache, or the `cache = expr` form of `#[cached]`.
    pub(crate) fn handle(&self, runtime: &RuntimePath) -> TokenStream {
        let cache_type = runtime.cache();
        match &self.args.cache {
            Some(cache) => {
                let expr = &cache.value;
                let private = runtime.private_at(expr.span());
                quote_spanned! {expr.span()=>
                    let __cache_source = &(#expr);
                    let __cache_handle: &#cache_type = #private::AsCache::as_cache(__cache_source);
                }
            }
            None => {
                let private = runtime.private();
                quote! {
                    let __cache_handle: &#cache_type = #private::global();
                }
            }
        }
    }

    /// `async move { <fake return> <body> }.await`, whose value is the body's.
    pub(crate) fn body(&self, ret: &Type) -> TokenStream {
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
    pub(crate) fn wrap(&self, before: TokenStream, ret: &Type, after: TokenStream) -> TokenStream {
        let ItemFn { vis, sig, .. } = self.original;
        let (outer, inner) = self.attrs();
        let body = self.body(ret);
        let is_unit = matches!(ret, Type::Tuple(unit) if unit.elems.is_empty());
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
        quote! {
            #(#outer)*
            #vis #sig {
                #(#inner)*
                #before
                #run
            }
        }
    }

    /// The `#[cache_invalidate]` expansion.
    fn invalidate(&self) -> TokenStream {
        let runtime = self.runtime();
        let private = runtime.private();
        let (ret, shape) = self.output();
        let mut before = self.handle(&runtime);
        before.extend(quote!(let mut __cache_plan = #private::Plan::new();));
        for target in &self.args.targets {
            before.extend(match target {
                Target::Key(call) => {
                    let key = target::key_call(call);
                    quote_spanned! {target.span()=>
                        #private::plan_key(__cache_handle, &mut __cache_plan, #key);
                    }
                }
                Target::All(path) => {
                    let ns = target::ns_call(path);
                    quote_spanned! {target.span()=>
                        #private::plan_all(&mut __cache_plan, #ns);
                    }
                }
            });
        }
        if let Some(namespace) = &self.args.namespace {
            let namespace = &namespace.value;
            before.extend(quote!(__cache_plan.namespace(#namespace);));
        }
        for tag in self.args.tags.iter().flat_map(|tags| &tags.value) {
            if let Some(value) = tag_value(tag) {
                before.extend(quote_spanned!(tag.span()=> __cache_plan.tag(#value);));
            }
        }
        if let Some(pattern) = &self.args.pattern {
            let pattern = &pattern.value;
            before.extend(quote!(__cache_plan.pattern(#pattern);));
        }
        if self.args.before() {
            before.extend(quote!(#private::invalidate(__cache_handle, &__cache_plan).await;));
        }
        let after = match (self.args.after(), shape) {
            (false, _) => TokenStream::new(),
            (true, Shape::Result) => quote! {
                #private::invalidate_if_ok(__cache_handle, &__cache_plan, &__cache_result).await;
            },
            (true, _) => quote! {
                #private::invalidate(__cache_handle, &__cache_plan).await;
            },
        };
        self.wrap(before, &ret, after)
    }
}

/// `__cache_put_<i>`: the name of the i-th put target.
pub(crate) fn put_name(index: usize, span: Span) -> Ident {
    Ident::new(&format!("__cache_put_{index}"), span)
}
