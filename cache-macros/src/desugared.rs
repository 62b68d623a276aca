//! Methods that `#[async_trait]` has already rewritten, which `#[cached]` and the writers see
//! when `#[async_trait]` sits above them (on the impl block, the order users write):
//!
//! ```text
//! fn get<'life0, 'async_trait>(&'life0 self, id: u64)
//!     -> Pin<Box<dyn Future<Output = User> + Send + 'async_trait>>
//! where 'life0: 'async_trait, Self: 'async_trait
//! { Box::pin(async move { <statements> }) }
//! ```
//!
//! [`Desugared::recognize`] turns such a method back into the `async fn` it was written as
//! (`async fn get(&self, id: u64) -> User { <statements> }`): the macros check it and build
//! its key and hidden items from that, and wrap what they generate for the body in
//! `Box::pin(async move { .. })` under the method's own signature.

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;
use syn::{
    AttrStyle, Block, Expr, GenericArgument, GenericParam, ItemFn, Lifetime, PathArguments,
    ReturnType, Signature, Stmt, Type, TypeParamBound, WherePredicate,
};

/// A method as `#[async_trait]` rewrote it.
pub(crate) struct Desugared<'a> {
    /// The signature as `#[async_trait]` wrote it, which the expansion keeps.
    pub(crate) signature: &'a Signature,
    /// The method as it was written: `async`, returning the future's output, with the
    /// statements of the boxed async block as its body.
    pub(crate) written: ItemFn,
}

impl<'a> Desugared<'a> {
    /// The method written back as an `async fn`, if `function` has `#[async_trait]`'s shape.
    pub(crate) fn recognize(function: &'a ItemFn) -> Option<Desugared<'a>> {
        let sig = &function.sig;
        if sig.asyncness.is_some() {
            return None;
        }
        let output = future_output(&sig.output)?;
        let block = boxed_async_block(&function.block)?;
        let mut written = function.clone();
        written.sig.asyncness = Some(syn::token::Async(sig.fn_token.span));
        written.sig.output = ReturnType::Type(Default::default(), Box::new(output.clone()));
        written.block = Box::new(block.clone());
        forget_lifetimes(&mut written.sig);
        Some(Desugared {
            signature: sig,
            written,
        })
    }
}

/// `function` with `body` (statements, after its inner attributes) as its body; under the
/// signature `#[async_trait]` gave it (`boxed`), with `body` in the box that returns.
pub(crate) fn emit(
    function: &ItemFn,
    boxed: Option<&Signature>,
    body: &TokenStream,
) -> TokenStream {
    let ItemFn {
        attrs, vis, sig, ..
    } = function;
    let (outer, inner): (Vec<_>, Vec<_>) = attrs
        .iter()
        .partition(|attr| matches!(attr.style, AttrStyle::Outer));
    let (sig, body) = match boxed {
        Some(boxed) => (boxed, quote!(::std::boxed::Box::pin(async move { #body }))),
        None => (sig, body.clone()),
    };
    quote! {
        #(#outer)*
        #vis #sig {
            #(#inner)*
            #body
        }
    }
}

/// `T` in `Pin<Box<dyn Future<Output = T> + ..>>`.
fn future_output(output: &ReturnType) -> Option<&Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let pinned = only_type_argument(ty, "Pin")?;
    let boxed = only_type_argument(pinned, "Box")?;
    let Type::TraitObject(object) = boxed else {
        return None;
    };
    object.bounds.iter().find_map(|bound| {
        let TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let last = bound.path.segments.last()?;
        if last.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
            _ => None,
        })
    })
}

/// The one type argument of a path type whose last segment is `name` (`Pin<X>` gives `X`).
fn only_type_argument<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    match (types.next(), types.next()) {
        (Some(ty), None) => Some(ty),
        _ => None,
    }
}

/// The block of `async move { .. }` in a body that is only `Box::pin(async move { .. })`.
fn boxed_async_block(block: &Block) -> Option<&Block> {
    let [Stmt::Expr(Expr::Call(call), None)] = block.stmts.as_slice() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    if func.path.segments.last()?.ident != "pin" || call.args.len() != 1 {
        return None;
    }
    match call.args.first()? {
        Expr::Async(body) if body.capture.is_some() => Some(&body.block),
        _ => None,
    }
}

/// Whether `lifetime` is one `#[async_trait]` introduced: `'async_trait`, `'life0`, ...
fn is_introduced(lifetime: &Lifetime) -> bool {
    let name = lifetime.ident.to_string();
    name == "async_trait"
        || name
            .strip_prefix("life")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Drops the lifetimes `#[async_trait]` introduced: from the generics and the where clause,
/// and as `'_` where the parameters name them.
fn forget_lifetimes(sig: &mut Signature) {
    let generics = &mut sig.generics;
    generics.params = std::mem::take(&mut generics.params)
        .into_iter()
        .filter(
            |param| !matches!(param, GenericParam::Lifetime(def) if is_introduced(&def.lifetime)),
        )
        .collect();
    if generics.params.is_empty() {
        generics.lt_token = None;
        generics.gt_token = None;
    }
    if let Some(clause) = &mut generics.where_clause {
        clause.predicates = std::mem::take(&mut clause.predicates)
            .into_iter()
            .filter(|predicate| !mentions_introduced(predicate))
            .collect();
        if clause.predicates.is_empty() {
            generics.where_clause = None;
        }
    }
    struct Elide;
    impl VisitMut for Elide {
        fn visit_lifetime_mut(&mut self, lifetime: &mut Lifetime) {
            if is_introduced(lifetime) {
                *lifetime = Lifetime::new("'_", lifetime.apostrophe);
            }
        }
    }
    for input in &mut sig.inputs {
        Elide.visit_fn_arg_mut(input);
    }
}

/// Whether a where-clause predicate names a lifetime `#[async_trait]` introduced.
fn mentions_introduced(predicate: &WherePredicate) -> bool {
    struct Finder(bool);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
            self.0 |= is_introduced(lifetime);
        }
    }
    let mut finder = Finder(false);
    syn::visit::Visit::visit_where_predicate(&mut finder, predicate);
    finder.0
}

#[cfg(test)]
mod tests {
    use quote::{quote, ToTokens};

    use super::Desugared;

    #[test]
    fn recognizes_async_trait_output() {
        let function: syn::ItemFn = syn::parse_quote! {
            fn get<'life0, 'async_trait>(&'life0 self, id: u64, name: &'life0 str)
                -> ::core::pin::Pin<Box<dyn ::core::future::Future<Output = Option<String>>
                    + ::core::marker::Send + 'async_trait>>
            where 'life0: 'async_trait, Self: 'async_trait, T: Clone
            {
                Box::pin(async move { let __self = self; None })
            }
        };
        let Some(desugared) = Desugared::recognize(&function) else {
            unreachable!("not recognized");
        };
        let written = desugared.written.to_token_stream().to_string();
        let expected = quote! {
            async fn get(&'_ self, id: u64, name: &'_ str) -> Option<String>
            where T: Clone
            { let __self = self; None }
        };
        assert_eq!(written, expected.to_string());
    }

    #[test]
    fn leaves_plain_fns_alone() {
        let function: syn::ItemFn = syn::parse_quote! {
            fn get(&self) -> Box<u8> { Box::new(1) }
        };
        assert!(Desugared::recognize(&function).is_none());
    }
}
