//! The IR of one `#[cached]` function: what later phases need to know, with references to the
//! user's tokens so errors and generated code can point at them.

use syn::visit::Visit;
use syn::{
    Error, FnArg, GenericArgument, Ident, ItemFn, Pat, PathArguments, Receiver, ReturnType, Type,
    TypeImplTrait,
};

use super::args::CachedArgs;
use crate::errors::Errors;

/// A `#[cached]` function: its arguments, its parameters and its return shape.
pub(crate) struct CachedFn<'a> {
    /// The parsed `#[cached(...)]` arguments.
    pub(crate) args: CachedArgs,
    /// The function as written.
    pub(crate) original: &'a ItemFn,
    /// `self`, `&self`, `&mut self` or `self: Type`, when the function is a method.
    pub(crate) receiver: Option<&'a Receiver>,
    /// Every name bound by the typed parameters, in order.
    pub(crate) bindings: Vec<Binding<'a>>,
    /// The declared return type; `None` when there is no `->`.
    pub(crate) output: Option<Output<'a>>,
    /// Where the fn is, as far as the macro knows.
    pub(crate) placement: Placement,
    /// The signature `#[async_trait]` gave the fn, when it did: the fn is then emitted with
    /// it, its body boxed (`original` is the fn as written, `async`).
    pub(crate) boxed: Option<&'a syn::Signature>,
}

/// Where a `#[cached]` fn is.
#[derive(Clone)]
pub(crate) enum Placement {
    /// Under its own `#[cached]`: in a module, or in an impl the macro cannot see.
    Alone,
    /// In an impl under `#[cache_targets]`: its siblings are associated fns, with this
    /// visibility (`None`: the fn's own).
    Impl(Option<syn::Visibility>),
    /// In a trait impl under `#[cache_targets]`, which emits the siblings elsewhere.
    TraitImpl,
}

/// One name bound by a parameter pattern (`id` in `id: u64` and in `Path(id): Path<u64>`).
pub(crate) struct Binding<'a> {
    /// The bound name; its span is where key errors about it point.
    pub(crate) ident: &'a Ident,
    /// Whether `skip(...)` leaves it out of the key.
    pub(crate) skipped: bool,
}

/// The declared return type and its syntactic shape.
pub(crate) struct Output<'a> {
    /// The type after `->`.
    pub(crate) ty: &'a Type,
    /// How the runtime treats the value, judged by the type's last path segment.
    pub(crate) shape: Shape,
}

/// How the runtime caches a return value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Shape {
    /// Any other type: every value is cached.
    Plain,
    /// `Result<..>` (or an alias ending in `Result` with generic arguments): `Ok` is cached.
    Result,
    /// `Option<..>`: `Some` is cached (and `None` too with `cache_none = true`).
    Option,
}

impl<'a> CachedFn<'a> {
    /// Builds the IR, with the errors about parameter patterns whose bindings cannot be seen
    /// (their other bindings are kept).
    pub(crate) fn from_syn(original: &'a ItemFn, args: CachedArgs) -> (Self, Errors) {
        let mut errors = Errors::default();
        let mut receiver = None;
        let mut idents = Vec::new();
        for input in &original.sig.inputs {
            match input {
                FnArg::Receiver(r) => receiver = Some(r),
                FnArg::Typed(typed) => collect_bindings(&typed.pat, &mut idents, &mut errors),
            }
        }
        let skipped: &[Ident] = args.skip.as_ref().map_or(&[], |skip| &skip.value);
        // `cache = cache` names a parameter that holds the cache: it is never part of the key.
        let cache_param = args.cache.as_ref().and_then(|cache| match &cache.value {
            syn::Expr::Path(path) if path.qself.is_none() => path.path.get_ident(),
            _ => None,
        });
        let bindings = idents
            .into_iter()
            .map(|ident| Binding {
                ident,
                skipped: skipped.contains(ident) || cache_param == Some(ident),
            })
            .collect();
        let output = match &original.sig.output {
            ReturnType::Default => None,
            ReturnType::Type(_, ty) => Some(Output {
                ty,
                shape: shape(ty),
            }),
        };
        let cached = CachedFn {
            args,
            original,
            receiver,
            bindings,
            output,
            placement: Placement::Alone,
            boxed: None,
        };
        (cached, errors)
    }

    /// The function's name, for messages.
    pub(crate) fn name(&self) -> &'a Ident {
        &self.original.sig.ident
    }

    /// Whether the runtime sees an `Outcome` (`Result`/`Option`, caching only the success),
    /// rather than a plain value; `Option` with `cache_none = true` is a plain value.
    pub(crate) fn caches_outcome(&self) -> bool {
        let cache_none = self.args.cache_none.as_ref().is_some_and(|arg| arg.value);
        match self.output.as_ref().map(|output| output.shape) {
            Some(Shape::Result) => true,
            Some(Shape::Option) => !cache_none,
            Some(Shape::Plain) | None => false,
        }
    }
}

/// Pushes every name `pat` binds; `_`, `..`, literals and paths bind nothing.
pub(crate) fn collect_bindings<'a>(pat: &'a Pat, out: &mut Vec<&'a Ident>, errors: &mut Errors) {
    match pat {
        Pat::Ident(binding) => {
            out.push(&binding.ident);
            if let Some((_, sub)) = &binding.subpat {
                collect_bindings(sub, out, errors);
            }
        }
        Pat::Tuple(tuple) => tuple
            .elems
            .iter()
            .for_each(|elem| collect_bindings(elem, out, errors)),
        Pat::TupleStruct(tuple) => tuple
            .elems
            .iter()
            .for_each(|elem| collect_bindings(elem, out, errors)),
        Pat::Slice(slice) => slice
            .elems
            .iter()
            .for_each(|elem| collect_bindings(elem, out, errors)),
        Pat::Struct(fields) => fields
            .fields
            .iter()
            .for_each(|field| collect_bindings(&field.pat, out, errors)),
        Pat::Reference(reference) => collect_bindings(&reference.pat, out, errors),
        Pat::Paren(paren) => collect_bindings(&paren.pat, out, errors),
        Pat::Type(typed) => collect_bindings(&typed.pat, out, errors),
        // Every alternative binds the same names.
        Pat::Or(or) => {
            if let Some(first) = or.cases.first() {
                collect_bindings(first, out, errors);
            }
        }
        Pat::Wild(_)
        | Pat::Rest(_)
        | Pat::Lit(_)
        | Pat::Range(_)
        | Pat::Path(_)
        | Pat::Const(_) => {}
        Pat::Macro(_) => errors.push(Error::new_spanned(
            pat,
            "`#[cached]` cannot see the names a macro in a parameter pattern binds; write the \
             pattern out (`Path(id): Path<u64>`) or bind the parameter to a plain name \
             (`id: u64`)",
        )),
        _ => errors.push(Error::new_spanned(
            pat,
            "`#[cached]` cannot see the names this pattern binds; bind the parameter to a \
             plain name (`id: u64`) or destructure it (`Path(id): Path<u64>`)",
        )),
    }
}

/// The shape of a return type, judged by its last path segment and whether it has `<..>`.
pub(crate) fn shape(ty: &Type) -> Shape {
    match ty {
        Type::Group(group) => shape(&group.elem),
        Type::Paren(paren) => shape(&paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return Shape::Plain;
            };
            let has_type_arg = matches!(
                &last.arguments,
                PathArguments::AngleBracketed(generic)
                    if generic.args.iter().any(|arg| matches!(arg, GenericArgument::Type(_)))
            );
            match last.ident.to_string().as_str() {
                "Result" if has_type_arg => Shape::Result,
                "Option" if has_type_arg => Shape::Option,
                _ => Shape::Plain,
            }
        }
        _ => Shape::Plain,
    }
}

/// The first `impl Trait` anywhere inside `ty`.
pub(crate) fn first_impl_trait(ty: &Type) -> Option<&TypeImplTrait> {
    struct Finder<'ast>(Option<&'ast TypeImplTrait>);
    impl<'ast> Visit<'ast> for Finder<'ast> {
        fn visit_type_impl_trait(&mut self, node: &'ast TypeImplTrait) {
            if self.0.is_none() {
                self.0 = Some(node);
            }
        }
    }
    let mut finder = Finder(None);
    finder.visit_type(ty);
    finder.0
}

#[cfg(test)]
mod tests {
    use super::{shape, Shape};

    fn shape_of(ty: &str) -> Shape {
        match syn::parse_str(ty) {
            Ok(ty) => shape(&ty),
            Err(error) => unreachable!("test type {ty:?} does not parse: {error}"),
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(shape_of("Result<User, Error>"), Shape::Result);
        assert_eq!(shape_of("std::io::Result<User>"), Shape::Result);
        assert_eq!(shape_of("anyhow::Result<User>"), Shape::Result);
        assert_eq!(shape_of("Option<User>"), Shape::Option);
        assert_eq!(shape_of("::core::option::Option<Vec<u8>>"), Shape::Option);
        assert_eq!(shape_of("(Option<u8>)"), Shape::Option);
        assert_eq!(shape_of("User"), Shape::Plain);
        assert_eq!(shape_of("Result"), Shape::Plain);
        assert_eq!(shape_of("Vec<Option<u8>>"), Shape::Plain);
        assert_eq!(shape_of("<T as Trait>::Result<u8>"), Shape::Plain);
        assert_eq!(shape_of("(u8, u8)"), Shape::Plain);
    }
}
