//! The hidden siblings of a `#[cached]` fn, which `#[cache_invalidate]` and `#[cache_put]`
//! call to find its entries. They reuse the cached fn's own site and key statements, so the
//! key they compute cannot drift from the key the cached fn reads and writes:
//!
//! ```text
//! #[doc(hidden)] <vis> fn __cache_key_<name><generics>(&self?, <key-relevant params by ref>)
//!     -> <private>::KeyTarget<Value> <where clause>
//! {
//!     static __CACHE_SITE: <private>::Site = <the cached fn's site>;
//!     let mut __cache_key = <private>::KeyBuilder::new();
//!     <the cached fn's key statements>
//!     <private>::KeyTarget::new(&__CACHE_SITE, &mut __cache_key)
//! }
//! #[doc(hidden)] <vis> const fn __cache_ns_<name>() -> &'static str { <namespace> }
//! ```
//!
//! A parameter `pat: Ty` becomes `pat: &Ty` (its bindings then bind by reference, and
//! `KeyBuilder::arg` hashes `&&T` like `&T`). Free fns always get the siblings; methods only
//! when they have an explicit visibility, because a trait impl can hold neither a visibility
//! nor extra items.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{ExprPath, FnArg, Ident, Macro, PatIdent, PatType, Type, Visibility};

use super::ast::{collect_bindings, first_impl_trait, CachedFn};
use crate::errors::Errors;
use crate::paths::RuntimePath;
use crate::tags::{self, Piece};

impl CachedFn<'_> {
    /// The key fn and the namespace fn, or nothing for a method without a visibility.
    pub(crate) fn siblings(&self, runtime: &RuntimePath, ret: &Type) -> TokenStream {
        let private = runtime.private();
        let value = if self.caches_outcome() {
            quote!(<#ret as #private::Outcome>::Value)
        } else {
            quote!(#ret)
        };
        let site = self.site(&private);
        let key_stmts = self.key_parts(true);
        let key_body = quote! {
            static __CACHE_SITE: #private::Site = #site;
            let mut __cache_key = #private::KeyBuilder::new();
            #key_stmts
            #private::KeyTarget::new(&__CACHE_SITE, &mut __cache_key)
        };
        self.sibling_items(runtime, &value, &key_body, &self.namespace())
    }

    /// Stand-ins for the siblings of a fn whose expansion failed: the same signatures, with
    /// bodies that are never run (the crate does not compile). A writer naming the fn then
    /// compiles, so the fn's mistake is reported once, at the fn.
    pub(crate) fn stand_ins(&self) -> TokenStream {
        if self.args.batch.is_some() {
            return TokenStream::new();
        }
        let runtime = RuntimePath::new(self.args.krate.as_ref().map(|arg| &arg.value));
        let private = runtime.private();
        // A return type that could not be cached stands for `()`: only a `#[cache_put]` of
        // that value would notice, and the fn's own error says why.
        let value = match &self.output {
            Some(output) if first_impl_trait(output.ty).is_none() => {
                let ret = output.ty;
                if self.caches_outcome() {
                    quote!(<#ret as #private::Outcome>::Value)
                } else {
                    quote!(#ret)
                }
            }
            _ => quote!(()),
        };
        self.sibling_items(&runtime, &value, &quote!(loop {}), &quote!(""))
    }

    /// The key fn returning a `KeyTarget<value>` with body `key_body`, and the namespace fn
    /// returning `namespace`; nothing for a method without a visibility.
    fn sibling_items(
        &self,
        runtime: &RuntimePath,
        value: &TokenStream,
        key_body: &TokenStream,
        namespace: &TokenStream,
    ) -> TokenStream {
        let vis = &self.original.vis;
        if self.receiver.is_some() && matches!(vis, Visibility::Inherited) {
            return TokenStream::new();
        }
        let private = runtime.private();
        let (key_fn, ns_fn) = sibling_names(self.name());
        let receiver = self.receiver.map(|_| quote!(&self,));
        let params = self.key_params();
        let generics = &self.original.sig.generics;
        let where_clause = &generics.where_clause;
        let allow = quote! {
            #[doc(hidden)]
            #[allow(
                non_snake_case,
                dead_code,
                unused_variables,
                unreachable_pub,
                missing_docs,
                clippy::all
            )]
        };
        quote! {
            #allow
            #vis fn #key_fn #generics (#receiver #(#params),*) -> #private::KeyTarget<#value>
            #where_clause
            {
                #key_body
            }
            #allow
            #vis const fn #ns_fn() -> &'static str {
                #namespace
            }
        }
    }

    /// Every typed parameter with a binding the key or a tag uses, as `pat: &Ty`, in order.
    fn key_params(&self) -> Vec<TokenStream> {
        let used = self.key_names();
        let mut params = Vec::new();
        for input in &self.original.sig.inputs {
            let FnArg::Typed(PatType { pat, ty, .. }) = input else {
                continue;
            };
            let mut bindings = Vec::new();
            collect_bindings(pat, &mut bindings, &mut Errors::default());
            if bindings.iter().any(|ident| used.contains(*ident)) {
                let mut pat = (**pat).clone();
                PlainBindings.visit_pat_mut(&mut pat);
                params.push(quote!(#pat: &#ty));
            }
        }
        params
    }

    /// The names the key statements read: the `key = ...` expression's names, or every
    /// binding not skipped, plus the root of every tag placeholder.
    fn key_names(&self) -> HashSet<Ident> {
        let mut names = HashSet::new();
        match &self.args.key {
            Some(key) => NamesIn(&mut names).visit_expr(&key.value),
            None => names.extend(
                self.bindings
                    .iter()
                    .filter(|binding| !binding.skipped)
                    .map(|binding| binding.ident.clone()),
            ),
        }
        for tag in self.args.tags.iter().flat_map(|tags| &tags.value) {
            for piece in tags::parse(&tag.value()).unwrap_or_default() {
                if let Piece::Placeholder { root, .. } = piece {
                    names.insert(root);
                }
            }
        }
        names
    }
}

/// `__cache_key_<name>` and `__cache_ns_<name>`, at the name's span.
pub(crate) fn sibling_names(name: &Ident) -> (Ident, Ident) {
    let plain = name.unraw();
    (
        format_ident!("__cache_key_{}", plain, span = name.span()),
        format_ident!("__cache_ns_{}", plain, span = name.span()),
    )
}

/// Drops `ref` and `mut` from bindings: matched against `&Ty`, every binding is then a
/// reference by default binding modes (`mut` would move out of the reference).
struct PlainBindings;

impl VisitMut for PlainBindings {
    fn visit_pat_ident_mut(&mut self, node: &mut PatIdent) {
        node.by_ref = None;
        node.mutability = None;
        syn::visit_mut::visit_pat_ident_mut(self, node);
    }
}

/// Collects the single-segment paths of an expression (the names it reads), and every
/// identifier inside macro calls, whose tokens are not parsed.
struct NamesIn<'a>(&'a mut HashSet<Ident>);

impl<'ast> Visit<'ast> for NamesIn<'_> {
    fn visit_expr_path(&mut self, node: &'ast ExprPath) {
        if node.qself.is_none() {
            if let Some(ident) = node.path.get_ident() {
                self.0.insert(ident.clone());
            }
        }
        syn::visit::visit_expr_path(self, node);
    }

    fn visit_macro(&mut self, node: &'ast Macro) {
        idents_in(node.tokens.clone(), self.0);
    }
}

/// Every identifier in `tokens`, including inside groups.
fn idents_in(tokens: TokenStream, out: &mut HashSet<Ident>) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => {
                out.insert(ident);
            }
            TokenTree::Group(group) => idents_in(group.stream(), out),
            TokenTree::Punct(_) | TokenTree::Literal(_) => {}
        }
    }
}
