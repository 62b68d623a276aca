//! `#[cache_targets]` on an impl block: the `#[cached]` methods in it become targets of
//! `#[cache_invalidate]` and `#[cache_put]`, whatever their visibility, in a trait impl too.
//!
//! The attribute tells each `#[cached]` method where it is (a marker first in its arguments,
//! `@in_impl` or `@in_trait_impl`), and the method's hidden items go where writers find them
//! as `Type::__cache_key_<name>`: in the impl itself for an inherent impl (the method's
//! `#[cached]` emits them there, with the method's visibility), or in an inherent impl of the
//! same type next to a trait impl, emitted here (`pub(crate)`: a trait impl can hold no other
//! items, and its methods have no visibility of their own).
//!
//! ```text
//! #[cache_targets]
//! impl UserRepo for PgRepo {
//!     #[cached(cache = self.cache)]
//!     async fn get(&self, id: u64) -> Option<User> { .. }
//! }
//! // becomes
//! impl UserRepo for PgRepo {
//!     #[cached(@in_trait_impl, cache = self.cache)]
//!     async fn get(&self, id: u64) -> Option<User> { .. }
//! }
//! impl PgRepo { pub(crate) fn __cache_key_get(&self, id: &u64) -> KeyTarget<User> { .. } .. }
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::{Attribute, Error, ImplItem, Item, ItemFn, ItemImpl, Meta};

use crate::cached::{self, ast::Placement};
use crate::errors::with_error;

/// Expands `#[cache_targets(args)] item`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut block = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Impl(block)) => block,
        Ok(_) => {
            let error = Error::new(
                Span::call_site(),
                "`#[cache_targets]` goes on an impl block whose methods are `#[cached]`",
            );
            return with_error(item, &error);
        }
        Err(error) => return with_error(item, &error),
    };
    if let Some(first) = args.into_iter().next() {
        let error = Error::new(first.span(), "`#[cache_targets]` takes no arguments");
        return with_error(item, &error);
    }
    let in_trait = block.trait_.is_some();
    let mut hidden = TokenStream::new();
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else {
            continue;
        };
        let Some(attr) = method.attrs.iter_mut().find(|attr| is_cached(attr)) else {
            continue;
        };
        let Ok(args) = attr_args(attr) else {
            // `#[cached = ..]`: the method's own expansion reports it.
            continue;
        };
        // The method's own `#[cached]` expands its body; told where it is, it puts its hidden
        // items in an inherent impl, and none in a trait impl, whose are emitted here.
        let marker = if in_trait {
            quote!(@in_trait_impl)
        } else {
            quote!(@in_impl)
        };
        let path = attr.path().clone();
        *attr = syn::parse_quote!(#[#path(#marker, #args)]);
        if in_trait {
            let function = ItemFn {
                attrs: Vec::new(),
                vis: method.vis.clone(),
                sig: method.sig.clone(),
                block: Box::new(method.block.clone()),
            };
            let placement = Placement::Impl(Some(syn::parse_quote!(pub(crate))));
            hidden.extend(cached::expand_fn(args, &function, placement).1);
        }
    }
    let mut out = block.to_token_stream();
    if !hidden.is_empty() {
        out.extend(inherent_impl(&block, &hidden));
    }
    out
}

/// Whether `attr` is `#[cached]` or `#[cached(..)]`, by the last segment of its path.
fn is_cached(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|last| last.ident == "cached")
}

/// The tokens between the parentheses of `#[cached(..)]`; none for `#[cached]`.
fn attr_args(attr: &Attribute) -> syn::Result<TokenStream> {
    match &attr.meta {
        Meta::Path(_) => Ok(TokenStream::new()),
        Meta::List(list) => Ok(list.tokens.clone()),
        Meta::NameValue(meta) => Err(Error::new_spanned(
            meta,
            "`#[cached = ..]` is not an attribute; write `#[cached(..)]`",
        )),
    }
}

/// `impl<generics> Type where .. { hidden }`: the hidden items of a trait impl's methods.
fn inherent_impl(block: &ItemImpl, hidden: &TokenStream) -> TokenStream {
    let generics = &block.generics;
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let self_ty = &block.self_ty;
    quote! {
        #[doc(hidden)]
        impl #impl_generics #self_ty #where_clause {
            #hidden
        }
    }
}
