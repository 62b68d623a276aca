//! The targets of `#[cache_invalidate(...)]` and `#[cache_put(...)]`: calls that name a
//! `#[cached]` fn and one entry of it (`get_user(id)`), or `all(get_user)` for every entry.
//!
//! A target is rewritten into calls of the hidden siblings that `#[cached]` emits, found the
//! way Rust finds the fn itself:
//!
//! - a free fn's siblings are associated fns of a struct that has the fn's name in the type
//!   namespace, so `get_user(id)` becomes `get_user::key(&(id))` wherever `get_user` is in
//!   scope (defined there, or brought by `use`), and `users::get_user(id)` becomes
//!   `users::get_user::key(&(id))`;
//! - a method's (or an associated fn's) siblings sit next to it: `Self::get(self, id)` becomes
//!   `Self::__cache_key_get(&(self), &(id))`, and `<T as Repo>::get(..)` becomes
//!   `<T>::__cache_key_get(..)` (the siblings are inherent, see `#[cache_targets]`).
//!
//! A path names an associated fn when its segment before the fn is `Self`, a type (by Rust's
//! naming convention, an upper-case first letter), has generic arguments, or is `<T>`;
//! otherwise it names a module. Every token keeps the span of the user's target, so a wrong
//! arity, a wrong argument type, or a fn that is not `#[cached]` is reported at the target.

use proc_macro2::{Delimiter, Group, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Error, Expr, ExprCall, ExprPath, Ident, Path, PathArguments, Result};

use crate::cached::{sibling_names, SiblingNames};
use crate::paths::RuntimePath;

/// One target of `#[cache_invalidate]` or `#[cache_put]`.
pub(crate) enum Target {
    /// `get_user(id)`: the entry of that call.
    Key(ExprCall),
    /// `all(get_user)`: every entry of that fn.
    All(ExprPath),
}

impl Target {
    /// The target written as `expr`; `all(..)` only when `allow_all` (in `#[cache_invalidate]`).
    pub(crate) fn from_expr(expr: &Expr, allow_all: bool) -> Result<Target> {
        match expr {
            Expr::Group(group) => Target::from_expr(&group.expr, allow_all),
            Expr::Call(call) => match &*call.func {
                Expr::Path(ExprPath {
                    qself: None, path, ..
                }) if allow_all && path.is_ident("all") => all_target(call),
                Expr::Path(_) => Ok(Target::Key(call.clone())),
                _ => Err(not_a_target(expr, allow_all)),
            },
            Expr::Path(ExprPath {
                qself: None, path, ..
            }) => {
                let written = path.to_token_stream().to_string().replace(' ', "");
                let mut message = format!(
                    "`{written}` is not a call; write the target with the arguments of its \
                     entry, like `{written}(id)`"
                );
                if allow_all {
                    message.push_str(&format!(", or `all({written})` for every entry"));
                }
                Err(Error::new_spanned(expr, message))
            }
            Expr::MethodCall(call) => Err(Error::new_spanned(
                expr,
                format!(
                    "a target is a path call, not a method call; write it as `Self::{}(self, ..)`",
                    call.method
                ),
            )),
            _ => Err(not_a_target(expr, allow_all)),
        }
    }

    /// The span of the target as written (its first token), for statements about it.
    pub(crate) fn span(&self) -> Span {
        match self {
            Target::Key(call) => call.func.span(),
            Target::All(path) => path.span(),
        }
    }
}

/// `all(path)`: exactly one path without `<..>` on it.
fn all_target(call: &ExprCall) -> Result<Target> {
    let mut args = call.args.iter();
    match (args.next(), args.next()) {
        (Some(Expr::Path(path)), None) => Ok(Target::All(path.clone())),
        _ => Err(Error::new_spanned(
            call,
            "`all` takes the path of one `#[cached]` fn, like `all(get_user)` or \
             `all(Self::get)`",
        )),
    }
}

/// The error for an expression that is not a target.
fn not_a_target(expr: &Expr, allow_all: bool) -> Error {
    let message = if allow_all {
        "expected a target, a call of a `#[cached]` fn like `get_user(id)` or \
         `Self::get(self, id)`, or `all(get_user)`, or a named argument"
    } else {
        "expected a target, a call of a `#[cached]` fn like `get_user(id)` or \
         `Self::get(self, id)`, or a named argument"
    };
    Error::new_spanned(expr, message)
}

/// Which hidden sibling of a `#[cached]` fn to call.
#[derive(Clone, Copy)]
enum Sibling {
    /// The key of one call, with the target's generic arguments.
    Key,
    /// The cache one call reads from.
    Source,
    /// The namespace, and the cache when it needs no argument.
    Namespace,
}

/// `get_user::key::<T>(&(a), &(b))` (or `Self::__cache_key_get::<T>(..)`): the hidden key
/// fn's call for the target `get_user::<T>(a, b)`, every token at the user's span.
pub(crate) fn key_call(call: &ExprCall) -> TokenStream {
    sibling_call(call, Sibling::Key)
}

/// The call of the hidden fn giving the cache that the target's call reads from.
pub(crate) fn source_call(call: &ExprCall) -> TokenStream {
    sibling_call(call, Sibling::Source)
}

/// The call of `sibling` with the target's arguments, borrowed.
fn sibling_call(call: &ExprCall, sibling: Sibling) -> TokenStream {
    let Expr::Path(path) = &*call.func else {
        return TokenStream::new();
    };
    let path = sibling_path(path, sibling);
    let args = call.args.iter().map(|arg| {
        let span = arg.span();
        let mut group = Group::new(Delimiter::Parenthesis, arg.to_token_stream());
        group.set_span(span);
        quote_spanned!(span=> &#group)
    });
    let mut group = Group::new(Delimiter::Parenthesis, quote!(#(#args),*));
    group.set_span(call.paren_token.span.join());
    quote!(#path #group)
}

/// The namespace fn's call for `all(path)`: the namespace and the cache's source, as a tuple.
pub(crate) fn ns_call(path: &ExprPath) -> TokenStream {
    let span = path
        .path
        .segments
        .last()
        .map_or_else(|| path.span(), |last| last.ident.span());
    let path = sibling_path(path, Sibling::Namespace);
    let mut group = Group::new(Delimiter::Parenthesis, TokenStream::new());
    group.set_span(span);
    quote!(#path #group)
}

/// The path of `sibling` for the fn at `path`: `f::key`, `m::f::source`, `Self::__cache_ns_f`,
/// `<T>::__cache_key_f::<G>`. Generic arguments written on the fn go to the key fn only.
fn sibling_path(path: &ExprPath, sibling: Sibling) -> TokenStream {
    let segments: Vec<_> = path.path.segments.iter().collect();
    let Some((last, parents)) = segments.split_last() else {
        return TokenStream::new();
    };
    let generics = match sibling {
        Sibling::Key => last.arguments.to_token_stream(),
        Sibling::Source | Sibling::Namespace => TokenStream::new(),
    };
    let names = sibling_names(&last.ident);
    let span = last.ident.span();
    if let Some(qself) = &path.qself {
        // `<T as Trait>::f` and `<T>::f`: the siblings are inherent items of `T`.
        let ty = &qself.ty;
        let rest = &parents[qself.position.min(parents.len())..];
        let name = associated(&names, sibling);
        return quote_spanned!(span=> <#ty>:: #(#rest::)* #name #generics);
    }
    let leading = &path.path.leading_colon;
    let parents = parents.iter();
    if is_free(&path.path) {
        let ident = &last.ident;
        let name = Ident::new(
            match sibling {
                Sibling::Key => "key",
                Sibling::Source => "source",
                Sibling::Namespace => "namespace",
            },
            span,
        );
        quote_spanned!(span=> #leading #(#parents::)* #ident::#name #generics)
    } else {
        let name = associated(&names, sibling);
        quote_spanned!(span=> #leading #(#parents::)* #name #generics)
    }
}

/// The name of an associated sibling.
fn associated(names: &SiblingNames, sibling: Sibling) -> Ident {
    match sibling {
        Sibling::Key => names.key.clone(),
        Sibling::Source => names.source.clone(),
        Sibling::Namespace => names.namespace.clone(),
    }
}

/// Whether `path` names a free fn: one segment, or a module before the fn (`crate`, `self`,
/// `super`, or a name starting with a lower-case letter, without generic arguments).
fn is_free(path: &Path) -> bool {
    let segments: Vec<_> = path.segments.iter().collect();
    let [.., parent, _] = segments.as_slice() else {
        return true;
    };
    if !matches!(parent.arguments, PathArguments::None) {
        return false;
    }
    let name = parent.ident.unraw().to_string();
    matches!(name.as_str(), "crate" | "self" | "super")
        || name
            .chars()
            .next()
            .is_some_and(|c| c.is_lowercase() || c == '_')
}

/// For a target that names an associated fn (`Self::get(self, id)`), a trait declared in the
/// writer's body whose fns stand in for the hidden siblings when the type has none: a method
/// that is not `#[cached]`, that has no visibility, or that sits in a trait impl without
/// `#[cache_targets]`. A path through a type finds the type's own items first, so this never
/// hides real siblings; when it is used, its `where Self: NotATarget` fails with an error
/// that says what to add, where rustc would say "no function named `__cache_key_get`".
/// Nothing for a free fn's target.
pub(crate) fn fallback(
    target: &Target,
    index: usize,
    put: bool,
    runtime: &RuntimePath,
) -> TokenStream {
    let (path, arity) = match target {
        Target::Key(call) => match &*call.func {
            Expr::Path(path) => (path, call.args.len()),
            _ => return TokenStream::new(),
        },
        Target::All(path) => (path, 0),
    };
    let Some(last) = path.path.segments.last() else {
        return TokenStream::new();
    };
    if path.qself.is_none() && is_free(&path.path) {
        return TokenStream::new();
    }
    let span = last.ident.span();
    let SiblingNames {
        key,
        source,
        namespace,
    } = sibling_names(&last.ident);
    let private = runtime.private_at(span);
    let cache = runtime.cache();
    let name = Ident::new(&format!("__CacheTarget{index}"), span);
    let params: Vec<Ident> = (0..arity)
        .map(|i| Ident::new(&format!("__A{i}"), span))
        .collect();
    // A `#[cache_put]` infers the value type from the fn's return, an invalidation has none.
    let (value_param, value) = if put {
        (quote!(__V,), quote!(__V))
    } else {
        (TokenStream::new(), quote!(()))
    };
    quote_spanned! {span=>
        #[allow(non_camel_case_types, non_snake_case, dead_code, clippy::all)]
        trait #name {
            fn #key<#value_param #(#params),*>(#(_: #params),*) -> #private::KeyTarget<#value>
            where
                Self: #private::NotATarget,
            {
                loop {}
            }
            fn #source<#(#params),*>(#(_: #params),*) -> &'static #cache {
                loop {}
            }
            fn #namespace() -> (&'static str, &'static #cache)
            where
                Self: #private::NotATarget,
            {
                loop {}
            }
        }
        impl<__T: ?::core::marker::Sized> #name for __T {}
    }
}
