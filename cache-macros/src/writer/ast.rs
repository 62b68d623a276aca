//! The model of one fn under `#[cache_invalidate]` or `#[cache_put]`: its arguments and what
//! later phases need to know about the fn.

use syn::{ItemFn, LitStr, ReturnType, Type};

use super::args::{Attr, NamedArgs, WriterArgs};
use crate::cached::ast::{self, Shape};
use crate::paths::RuntimePath;
use crate::target::Target;

/// A fn under a writer attribute.
pub(crate) struct Writer<'a> {
    /// Which attribute this is.
    pub(crate) attr: Attr,
    /// The targets, in the order written.
    pub(crate) targets: Vec<Target>,
    /// The named arguments.
    pub(crate) args: NamedArgs,
    /// The function as written.
    pub(crate) original: &'a ItemFn,
    /// The declared return type (`()` without `->`).
    pub(crate) ret: Type,
    /// How the return value counts as success, judged as for `#[cached]`.
    pub(crate) shape: Shape,
    /// The signature `#[async_trait]` gave the fn, when it did (`original` is then the fn as
    /// written): the fn is emitted with it, its body boxed.
    pub(crate) boxed: Option<&'a syn::Signature>,
}

impl<'a> Writer<'a> {
    /// The model of `original` under the parsed `args`.
    pub(crate) fn from_syn(original: &'a ItemFn, args: WriterArgs) -> Self {
        let (ret, shape) = match &original.sig.output {
            ReturnType::Default => (syn::parse_quote!(()), Shape::Plain),
            ReturnType::Type(_, ty) => ((**ty).clone(), ast::shape(ty)),
        };
        Writer {
            attr: args.attr,
            targets: args.targets,
            args: args.named,
            original,
            ret,
            shape,
            boxed: None,
        }
    }

    /// The runtime path, from `crate = ...` or the default.
    pub(crate) fn runtime(&self) -> RuntimePath {
        RuntimePath::new(self.args.krate.as_ref().map(|arg| &arg.value))
    }

    /// The tag templates of `#[cache_invalidate(tags = [...])]`.
    pub(crate) fn tags(&self) -> &[LitStr] {
        self.args.tags.as_ref().map_or(&[], |tags| &tags.value)
    }
}
