//! `#[cached(batch)]`: a fn that loads many ids at once, cached id by id.
//!
//! The first typed parameter is the id list (`Vec<K>` or `&[K]`); the return type is a
//! `HashMap<K, V>`, a `Vec<V>` in the order of the ids, or a `Result` of one of them. Each id is
//! keyed alone, with the fn's namespace and version, exactly like a single-id
//! `#[cached] async fn get(id: K) -> V`, so single-item invalidation reaches batch entries. The
//! body runs only for the ids that missed, and sees only those:
//!
//! ```text
//! <attrs> <vis> <sig> {
//!     <inner attrs>
//!     static __CACHE_SITE: <private>::Site = <the site>;
//!     let __cache_handle: &<root>::Cache = <private>::global();   // or the `cache = expr` form
//!     let _ = &mut ids;                                           // only for `mut ids`
//!     let mut __cache_batch = <private>::batch_lookup::<K, <Ret as <private>::BatchOutput<K>>::Value>(
//!         __cache_handle, &__CACHE_SITE, ids).await;             // `ids.to_vec()` for `&[K]`
//!     if __cache_batch.is_complete() {
//!         return <private>::batch_finish(__cache_handle, &__CACHE_SITE, __cache_batch,
//!             <Ret as <private>::BatchOutput<K>>::empty()).await;
//!     }
//!     let ids = __cache_batch.take_missing();
//!         // `&[K]`: let __cache_missing = __cache_batch.take_missing();
//!         //         let ids: &[K] = &__cache_missing;
//!     let __cache_result = async move { <fake-return pin> <body statements> }.await;
//!     <private>::batch_finish(__cache_handle, &__CACHE_SITE, __cache_batch, __cache_result).await
//! }
//! ```
//!
//! A batch fn has no hidden key siblings: `#[cache_invalidate]` targets the single-id fn.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    Error, FnArg, GenericArgument, Ident, Pat, PatIdent, PathArguments, Type, TypeReference,
};

use super::ast::CachedFn;
use crate::errors::Errors;
use crate::paths::RuntimePath;

/// The error on a first parameter that is not an id list.
const IDS_MESSAGE: &str =
    "`#[cached(batch)]` needs the ids as the first parameter, as `Vec<K>` or `&[K]`";

/// The id list parameter of a batch fn.
pub(crate) struct Ids<'a> {
    /// The parameter's binding (`ids` in `mut ids: Vec<u64>`).
    pub(crate) pat: &'a PatIdent,
    /// The element type `K`.
    pub(crate) elem: &'a Type,
    /// Whether the parameter is `&[K]` rather than `Vec<K>`.
    pub(crate) slice: bool,
}

/// `K` of `Vec<K>`, as `(K, false)`, or of `&[K]`, as `(K, true)`.
fn id_list(ty: &Type) -> Option<(&Type, bool)> {
    match ty {
        Type::Group(group) => id_list(&group.elem),
        Type::Paren(paren) => id_list(&paren.elem),
        Type::Reference(TypeReference {
            mutability: None,
            elem,
            ..
        }) => match &**elem {
            Type::Slice(slice) => Some((&slice.elem, true)),
            _ => None,
        },
        _ => generic_args(ty, "Vec")
            .filter(|args| args.len() == 1)
            .map(|args| (args[0], false)),
    }
}

/// The type arguments of `ty` when it is a path whose last segment is `name<..>`.
fn generic_args<'a>(ty: &'a Type, name: &str) -> Option<Vec<&'a Type>> {
    match ty {
        Type::Group(group) => generic_args(&group.elem, name),
        Type::Paren(paren) => generic_args(&paren.elem, name),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            let PathArguments::AngleBracketed(generic) = &last.arguments else {
                return None;
            };
            if last.ident != name {
                return None;
            }
            Some(
                generic
                    .args
                    .iter()
                    .filter_map(|arg| match arg {
                        GenericArgument::Type(ty) => Some(ty),
                        _ => None,
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

/// Whether `ty` is `HashMap<K, V>`, `HashMap<K, V, S>` or `Vec<V>` (by last path segment).
fn is_collection(ty: &Type) -> bool {
    generic_args(ty, "HashMap").is_some_and(|args| matches!(args.len(), 2 | 3))
        || generic_args(ty, "Vec").is_some_and(|args| args.len() == 1)
}

/// Whether `ty` is a collection or a `Result` whose first type argument is one.
pub(crate) fn is_batch_output(ty: &Type) -> bool {
    is_collection(ty)
        || generic_args(ty, "Result")
            .and_then(|args| args.first().copied())
            .is_some_and(is_collection)
}

impl<'a> CachedFn<'a> {
    /// The id list parameter, or the error at the parameter (or the empty parameter list).
    pub(crate) fn batch_ids(&self) -> syn::Result<Ids<'a>> {
        let sig = &self.original.sig;
        let first = sig.inputs.iter().find_map(|input| match input {
            FnArg::Typed(typed) => Some(typed),
            FnArg::Receiver(_) => None,
        });
        let Some(first) = first else {
            return Err(Error::new(sig.paren_token.span.join(), IDS_MESSAGE));
        };
        let Some((elem, slice)) = id_list(&first.ty) else {
            return Err(Error::new_spanned(first, IDS_MESSAGE));
        };
        match &*first.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                Ok(Ids { pat, elem, slice })
            }
            pat => Err(Error::new_spanned(
                pat,
                "`#[cached(batch)]` needs the ids parameter bound to a plain name, \
                 like `ids: Vec<u64>`",
            )),
        }
    }

    /// The rules of `batch`: an id list first, a map or list returned, and none of the
    /// arguments that make or extend a per-call key, or judge a single value.
    pub(crate) fn check_batch(&self, errors: &mut Errors) {
        if self.args.batch.is_none() {
            return;
        }
        let args = &self.args;
        let conflicts = [
            ("key", args.key.as_ref().map(|arg| arg.key)),
            ("skip", args.skip.as_ref().map(|arg| arg.key)),
            ("tags", args.tags.as_ref().map(|arg| arg.key)),
            ("cache_none", args.cache_none.as_ref().map(|arg| arg.key)),
            (
                "stale_if_error",
                args.stale_if_error.as_ref().map(|arg| arg.key),
            ),
            ("lock", args.lock.as_ref().map(|arg| arg.key)),
        ];
        for (name, key) in conflicts {
            if let Some(key) = key {
                errors.push(Error::new(
                    key,
                    format!("`{name}` cannot be combined with `batch`; drop `{name}`"),
                ));
            }
        }
        if let Err(error) = self.batch_ids() {
            errors.push(error);
        }
        // Without a return type `check_output` has already said so.
        if let Some(output) = &self.output {
            if !is_batch_output(output.ty) {
                errors.push(Error::new_spanned(
                    output.ty,
                    "`#[cached(batch)]` needs a return type of `HashMap<K, V>`, `Vec<V>` \
                     (in the order of the ids) or a `Result` of one of them",
                ));
            }
        }
    }

    /// The body of a batch fn (see the module docs), after the inner attributes; `None` when
    /// validation would have refused the fn.
    pub(crate) fn batch_body(
        &self,
        runtime: &RuntimePath,
        ret: &Type,
        site: TokenStream,
        handle: TokenStream,
    ) -> Option<TokenStream> {
        let Ids { pat, elem, slice } = self.batch_ids().ok()?;
        let private = runtime.private();
        let ident: &Ident = &pat.ident;
        let mutability = &pat.mutability;
        // Spanned at the return type, so a type that is not a `BatchOutput` is reported there.
        let span = ret.span();
        let ret_private = runtime.private_at(span);
        let output = quote_spanned!(span=> <#ret as #ret_private::BatchOutput<#elem>>);
        let ids_arg = if slice {
            quote_spanned!(ident.span()=> #ident.to_vec())
        } else {
            quote!(#ident)
        };
        let rebind = if slice {
            quote! {
                let __cache_missing = __cache_batch.take_missing();
                let #mutability #ident: &[#elem] = &__cache_missing;
            }
        } else {
            quote! {
                let #mutability #ident = __cache_batch.take_missing();
            }
        };
        // A `mut` parameter is shadowed before the body can mutate it; this borrow keeps
        // `unused_mut` quiet without touching the signature.
        let used_mut = mutability.as_ref().map(|_| quote!(let _ = &mut #ident;));
        let stmts = &self.original.block.stmts;
        Some(quote! {
            static __CACHE_SITE: #private::Site = #site;
            #handle
            #used_mut
            let mut __cache_batch = #private::batch_lookup::<#elem, #output::Value>(
                __cache_handle, &__CACHE_SITE, #ids_arg
            ).await;
            if __cache_batch.is_complete() {
                return #private::batch_finish(
                    __cache_handle, &__CACHE_SITE, __cache_batch, #output::empty()
                ).await;
            }
            #rebind
            let __cache_result = async move {
                #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop)]
                if false {
                    let __cache_fake_return: #ret = loop {};
                    return __cache_fake_return;
                }
                #(#stmts)*
            }.await;
            #private::batch_finish(__cache_handle, &__CACHE_SITE, __cache_batch, __cache_result)
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{id_list, is_batch_output};
    use quote::ToTokens;

    fn ty(text: &str) -> syn::Type {
        match syn::parse_str(text) {
            Ok(ty) => ty,
            Err(error) => unreachable!("test type {text:?} does not parse: {error}"),
        }
    }

    fn ids(text: &str) -> Option<(String, bool)> {
        let ty = ty(text);
        id_list(&ty).map(|(elem, slice)| (elem.to_token_stream().to_string(), slice))
    }

    #[test]
    fn id_lists() {
        assert_eq!(ids("Vec<u64>"), Some(("u64".into(), false)));
        assert_eq!(ids("std::vec::Vec<String>"), Some(("String".into(), false)));
        assert_eq!(ids("&[u64]"), Some(("u64".into(), true)));
        assert_eq!(ids("&'a [Id]"), Some(("Id".into(), true)));
        assert_eq!(ids("&mut [u64]"), None);
        assert_eq!(ids("&Vec<u64>"), None);
        assert_eq!(ids("[u64; 3]"), None);
        assert_eq!(ids("Vec"), None);
        assert_eq!(ids("HashSet<u64>"), None);
        assert_eq!(ids("u64"), None);
    }

    #[test]
    fn outputs() {
        for good in [
            "HashMap<u64, User>",
            "std::collections::HashMap<u64, User, RandomState>",
            "Vec<User>",
            "Result<HashMap<u64, User>, DbError>",
            "anyhow::Result<Vec<User>>",
        ] {
            assert!(is_batch_output(&ty(good)), "{good}");
        }
        for bad in [
            "User",
            "HashMap<u64>",
            "BTreeMap<u64, User>",
            "Option<Vec<User>>",
            "Result<User, DbError>",
            "Vec<User, Global, Extra>",
            "Result",
        ] {
            assert!(!is_batch_output(&ty(bad)), "{bad}");
        }
    }
}
