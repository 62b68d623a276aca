//! The rules of a writer, checked on its model before any code is generated. Every broken
//! rule is reported, each at the token that breaks it.

use proc_macro2::Span;
use syn::{Error, FnArg, Result};

use super::args::Attr;
use super::ast::Writer;
use crate::cached::ast::collect_bindings;
use crate::errors::Errors;
use crate::tags;

impl Writer<'_> {
    /// Checks every rule, returning all violations combined.
    pub(crate) fn validate(&self) -> Result<()> {
        let mut errors = Errors::default();
        let sig = &self.original.sig;
        if sig.asyncness.is_none() {
            errors.push(Error::new_spanned(
                sig.fn_token,
                format!("`#[{}]` needs an async fn; add `async`", self.attr.name()),
            ));
        }
        let args = &self.args;
        match self.attr {
            Attr::Invalidate => {
                let nothing = self.targets.is_empty()
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
                if let (Some(before), Some(after)) = (&args.before, &args.after) {
                    if !before.value && !after.value {
                        errors.push(Error::new(
                            after.key,
                            "`before = false` and `after = false` leave nothing to do; \
                             drop `after = false` to invalidate after the body",
                        ));
                    }
                }
            }
            Attr::Put if self.targets.is_empty() => errors.push(Error::new(
                Span::call_site(),
                "`#[cache_put]` needs a target, the `#[cached]` call whose entry receives the \
                 return value, like `#[cache_put(get_user(id))]`",
            )),
            Attr::Put => {}
        }
        self.check_tags(&mut errors);
        errors.finish(())
    }

    /// Each placeholder of a tag names one of this fn's parameter bindings, or `self`.
    fn check_tags(&self, errors: &mut Errors) {
        let tags = self.tags();
        if tags.is_empty() {
            return;
        }
        let sig = &self.original.sig;
        let mut idents = Vec::new();
        let mut has_self = false;
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(_) => has_self = true,
                FnArg::Typed(typed) => collect_bindings(&typed.pat, &mut idents, errors),
            }
        }
        tags::check(tags, &idents, has_self, &sig.ident, errors);
    }
}
