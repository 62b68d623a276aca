//! Where generated code finds the runtime: `::cache_runtime` by default, or the path given by
//! `crate = some::path` when the dependency is renamed or re-exported.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, Path};

/// The runtime crate's path, as generated code writes it.
pub(crate) struct RuntimePath {
    root: TokenStream,
}

impl RuntimePath {
    /// The path of `crate = path` if given, else `::cache_runtime`.
    pub(crate) fn new(custom: Option<&Path>) -> Self {
        let root = match custom {
            Some(path) => path.to_token_stream(),
            None => quote!(::cache_runtime),
        };
        RuntimePath { root }
    }

    /// `<root>::__private`: everything generated code calls.
    pub(crate) fn private(&self) -> TokenStream {
        let root = &self.root;
        quote!(#root::__private)
    }

    /// `<root>::__private` with every token at `span`, so that an error about an expression
    /// starting with this path is reported at `span` rather than at the attribute.
    pub(crate) fn private_at(&self, span: Span) -> TokenStream {
        respan(self.private(), span)
    }

    /// `<root>::Cache`: the type of the cache handle.
    pub(crate) fn cache(&self) -> TokenStream {
        let root = &self.root;
        quote!(#root::Cache)
    }

    /// `let __cache_handle: &Cache = ...;`: the cache of `cache = expr`, or the global one.
    ///
    /// `expr` is borrowed in its own `let`, which keeps a temporary (`&self.cache`,
    /// `make_cache()`) alive for the whole call; a value that is not a cache is reported at
    /// `expr`.
    pub(crate) fn handle(&self, cache: Option<&Expr>) -> TokenStream {
        let cache_type = self.cache();
        match cache {
            Some(expr) => {
                let private = self.private_at(expr.span());
                quote_spanned! {expr.span()=>
                    let __cache_source = &(#expr);
                    let __cache_handle: &#cache_type = #private::AsCache::as_cache(__cache_source);
                }
            }
            None => {
                let private = self.private();
                quote! {
                    let __cache_handle: &#cache_type = #private::global();
                }
            }
        }
    }
}

/// `tokens` with every token, including those inside groups, at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(group) = &tree {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = TokenTree::Group(inner);
            }
            tree.set_span(span);
            tree
        })
        .collect()
}
