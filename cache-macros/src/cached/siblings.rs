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
//! #[doc(hidden)] <vis> fn __cache_src_<name>(&self?, _: &impl ?Sized, ..) -> <Source>
//! { <the cache: `global()`, or a clone of `cache = expr`'s, or `UnknownCache`> }
//! #[doc(hidden)] <vis> fn __cache_ns_<name>() -> (&'static str, <Source>) { (<namespace>, ..) }
//! ```
//!
//! The source fn is what a writer without `cache = ...` acts on: the cache the fn reads from,
//! computed from the target's own arguments. When `cache = expr` reads a parameter the target
//! does not pass (a skipped one, or `self` for `all(..)`), the source is `UnknownCache`, which
//! a writer refuses at compile time (its error says to give the writer `cache = ...`).
//!
//! A parameter `pat: Ty` becomes `pat: &Ty` (its bindings then bind by reference, and
//! `KeyBuilder::arg` hashes `&&T` like `&T`). Free fns always get the siblings; methods only
//! when they have an explicit visibility, because a trait impl can hold neither a visibility
//! nor extra items.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote, ToTokens};
use syn::ext::IdentExt;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{ExprPath, FnArg, Ident, Macro, PatIdent, PatType, Type, Visibility};

use super::ast::{collect_bindings, first_impl_trait, CachedFn, Placement};
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
        let namespace = self.namespace();
        let sources = [self.source(runtime, true), self.source(runtime, false)];
        self.sibling_items(runtime, &value, &key_body, &namespace, sources)
    }

    /// The type and body of a source fn: the cache this fn reads from, as a writer finds it
    /// from the target's receiver (`with_self`) or from nothing (`all(..)`).
    ///
    /// The source fn takes the target's arguments but reads only `self`: a `cache = expr` that
    /// reads another parameter, or `self` without `with_self`, or names a generic parameter,
    /// is `UnknownCache`, and a writer without `cache = ...` is refused.
    fn source(&self, runtime: &RuntimePath, with_self: bool) -> (TokenStream, TokenStream) {
        let private = runtime.private();
        let cache_type = runtime.cache();
        let Some(cache) = &self.args.cache else {
            return (quote!(&'static #cache_type), quote!(#private::global()));
        };
        let expr = &cache.value;
        let mut read = HashSet::new();
        NamesIn(&mut read).visit_expr(expr);
        let reads_param = read.iter().any(|name| {
            (name == "self" && !with_self)
                || self.bindings.iter().any(|binding| binding.ident == name)
        });
        let mut mentioned = HashSet::new();
        idents_in(expr.to_token_stream(), &mut mentioned);
        let names_generic = self
            .original
            .sig
            .generics
            .type_params()
            .any(|param| mentioned.contains(&param.ident));
        if reads_param || names_generic {
            return (
                quote!(#private::UnknownCache),
                quote!(#private::UnknownCache),
            );
        }
        (
            cache_type.clone(),
            quote! {
                let __cache_source = &(#expr);
                #cache_type::clone(#private::AsCache::as_cache(__cache_source))
            },
        )
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
        let cache_type = runtime.cache();
        let source = (quote!(&'static #cache_type), quote!(loop {}));
        let sources = [source.clone(), source];
        self.sibling_items(&runtime, &value, &quote!(loop {}), &quote!(""), sources)
    }

    /// The key fn returning a `KeyTarget<value>` with body `key_body`, the source fn, and the
    /// namespace fn returning `namespace` and the source without arguments; `sources` are the
    /// (type, body) of the source with the key fn's arguments and without any. Nothing for a
    /// method without a visibility.
    fn sibling_items(
        &self,
        runtime: &RuntimePath,
        value: &TokenStream,
        key_body: &TokenStream,
        namespace: &TokenStream,
        sources: [(TokenStream, TokenStream); 2],
    ) -> TokenStream {
        let (vis, form) = match &self.placement {
            Placement::Alone if self.is_free() => (&self.original.vis, Form::Free),
            Placement::Alone
                if self.receiver.is_some()
                    && matches!(self.original.vis, Visibility::Inherited) =>
            {
                return TokenStream::new();
            }
            Placement::Alone => (&self.original.vis, Form::Associated),
            Placement::Impl(Some(vis)) => (vis, Form::Associated),
            Placement::Impl(None) => (&self.original.vis, Form::Associated),
            Placement::TraitImpl => return TokenStream::new(),
        };
        let private = runtime.private();
        let SiblingNames {
            key: key_fn,
            source: src_fn,
            namespace: ns_fn,
        } = sibling_names(self.name());
        let [(src_type, src_body), (all_type, all_body)] = sources;
        let receiver = self.receiver.map(|_| quote!(&self,));
        let params = self.key_params();
        // The source fn reads only `self`: its other parameters take anything, so that it needs
        // none of the fn's generics.
        let holes = params
            .iter()
            .map(|_| quote!(_: &impl ?::core::marker::Sized));
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
                private_interfaces,
                unreachable_code,
                clippy::all
            )]
        };
        let (key_fn, src_fn, ns_fn) = match form {
            Form::Associated => (key_fn, src_fn, ns_fn),
            Form::Free => {
                let span = self.name().span();
                (
                    Ident::new("key", span),
                    Ident::new("source", span),
                    Ident::new("namespace", span),
                )
            }
        };
        let fns = quote! {
            #allow
            #vis fn #key_fn #generics (#receiver #(#params),*) -> #private::KeyTarget<#value>
            #where_clause
            {
                #key_body
            }
            #allow
            #vis fn #src_fn (#receiver #(#holes),*) -> #src_type {
                #src_body
            }
            #allow
            #vis fn #ns_fn() -> (&'static str, #all_type) {
                (#namespace, { #all_body })
            }
        };
        match form {
            Form::Associated => fns,
            Form::Free => self.free_items(&private, vis, &fns),
        }
    }

    /// The siblings of a free fn, as associated fns of a struct that has the fn's name in the
    /// type namespace, so that `use path::get_user;` brings them along with the fn and a
    /// writer reaches them as `get_user::key(..)`. The struct is glob-imported, so an item of
    /// the same name written in the module shadows it instead of clashing.
    fn free_items(
        &self,
        private: &TokenStream,
        vis: &Visibility,
        fns: &TokenStream,
    ) -> TokenStream {
        let name = self.name();
        let holder = format_ident!("__cache_fn_{}", name.unraw(), span = name.span());
        // Written by a macro of the runtime, whose name is what rustc's errors say when the fn
        // is in fact in an impl block (see `__private::add_cache_targets_to_the_impl_block`).
        quote! {
            #private::add_cache_targets_to_the_impl_block! { #vis #holder #name { #fns } }
        }
    }

    /// Whether the siblings go next to a free fn: no receiver, and no `Self` in the signature
    /// or the body (an associated fn without `self` usually names `Self`; one that does not
    /// needs `#[cache_targets]` on its impl block).
    fn is_free(&self) -> bool {
        if self.receiver.is_some() {
            return false;
        }
        let mut idents = HashSet::new();
        idents_in(self.original.sig.to_token_stream(), &mut idents);
        idents_in(self.original.block.to_token_stream(), &mut idents);
        !idents.iter().any(|ident| ident == "Self")
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

/// Where the siblings are emitted: as associated fns next to the fn (in a module or an impl),
/// or, for a free fn, on the struct that carries its name in the type namespace.
enum Form {
    Associated,
    Free,
}

/// The names of the hidden siblings of the `#[cached]` fn `name`.
pub(crate) struct SiblingNames {
    /// `__cache_key_<name>`: the key of one call.
    pub(crate) key: Ident,
    /// `__cache_src_<name>`: the cache one call reads from.
    pub(crate) source: Ident,
    /// `__cache_ns_<name>`: the namespace, and the cache when no argument is needed for it.
    pub(crate) namespace: Ident,
}

/// The hidden siblings' names, at the name's span.
pub(crate) fn sibling_names(name: &Ident) -> SiblingNames {
    let plain = name.unraw();
    SiblingNames {
        key: format_ident!("__cache_key_{}", plain, span = name.span()),
        source: format_ident!("__cache_src_{}", plain, span = name.span()),
        namespace: format_ident!("__cache_ns_{}", plain, span = name.span()),
    }
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
