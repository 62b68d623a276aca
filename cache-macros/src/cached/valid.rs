//! Rules across the function and its arguments, checked on the IR before any code is generated.
//! Every broken rule is reported, each at the token that breaks it.

use syn::visit::Visit;
use syn::{
    Error, FnArg, Ident, Pat, Receiver, Result, Type, TypeImplTrait, TypeParamBound, TypeReference,
};

use super::ast::{collect_bindings, first_impl_trait, CachedFn, Shape};
use crate::errors::Errors;
use crate::tags;

impl CachedFn<'_> {
    /// Checks every rule, returning all violations combined.
    pub(crate) fn validate(&self) -> Result<()> {
        let mut errors = Errors::default();
        self.check_signature(&mut errors);
        self.check_output(&mut errors);
        if self.args.batch.is_some() {
            // `key`, `skip`, `tags`, `cache_none` and `stale_if_error` are refused outright
            // next to `batch`; their own rules would only repeat that.
            self.check_batch(&mut errors);
        } else {
            self.check_skip(&mut errors);
            self.check_cache_none(&mut errors);
            self.check_stale_if_error(&mut errors);
            self.check_soft_timeout(&mut errors);
            self.check_tags(&mut errors);
            self.check_label(&mut errors);
        }
        self.check_l1(&mut errors);
        errors.finish(())
    }

    /// `async` is required; `const`, `extern` and variadic functions are refused.
    fn check_signature(&self, errors: &mut Errors) {
        let sig = &self.original.sig;
        if let Some(constness) = &sig.constness {
            errors.push(Error::new_spanned(
                constness,
                "`#[cached]` cannot be used on a `const fn`",
            ));
        }
        if let Some(abi) = &sig.abi {
            errors.push(Error::new_spanned(
                abi,
                "`#[cached]` cannot be used on an `extern` fn",
            ));
        }
        if let Some(variadic) = &sig.variadic {
            errors.push(Error::new_spanned(
                variadic,
                "`#[cached]` cannot be used on a variadic fn",
            ));
        }
        if sig.asyncness.is_none() {
            errors.push(Error::new_spanned(
                sig.fn_token,
                "`#[cached]` needs an async fn; add `async` or cache the value by hand",
            ));
        }
        if let Some(receiver) = self.receiver.filter(|receiver| takes_mut_self(receiver)) {
            errors.push(Error::new_spanned(
                receiver,
                "`#[cached]` cannot be used on a method that takes `&mut self`: a hit returns \
                 the stored value without running the body, so the body's changes to `self` \
                 would be skipped; take `&self`, or cache a `&self` method that this one calls",
            ));
        }
    }

    /// The function must return a value that can be stored: not nothing, not `()`, not
    /// `impl Trait`.
    fn check_output(&self, errors: &mut Errors) {
        let sig = &self.original.sig;
        let Some(output) = &self.output else {
            errors.push(Error::new_spanned(
                sig,
                "`#[cached]` needs a return value to cache; \
                 a function returning `()` has nothing to store",
            ));
            return;
        };
        if matches!(output.ty, Type::Tuple(unit) if unit.elems.is_empty()) {
            errors.push(Error::new_spanned(
                output.ty,
                "`#[cached]` needs a return value to cache; `()` has nothing to store",
            ));
        }
        if let Some(impl_trait) = first_impl_trait(output.ty) {
            let message = if is_impl_into_response(impl_trait) {
                // An axum handler's usual return type: its response is not data to store.
                "`#[cached]` cannot store an `impl IntoResponse` value, which is a response \
                 rather than data; return a serializable type that is also a response, such as \
                 `Result<cache_runtime::web::Json<T>, E>` (feature `axum`), or cache a function \
                 the handler calls"
            } else {
                "`#[cached]` cannot store an `impl Trait` value; name the concrete type"
            };
            errors.push(Error::new_spanned(impl_trait, message));
        }
    }

    /// Every name in `skip(...)` must be bound by a parameter (or be `self` in a method), and
    /// `skip` means nothing next to `key`.
    fn check_skip(&self, errors: &mut Errors) {
        let Some(skip) = &self.args.skip else {
            return;
        };
        if self.args.key.is_some() {
            errors.push(Error::new(
                skip.key,
                "`skip` has no effect together with `key`, which alone makes the key; drop `skip`",
            ));
        }
        for name in &skip.value {
            let is_self = name == "self" && self.receiver.is_some();
            let is_binding = self.bindings.iter().any(|binding| binding.ident == name);
            if !is_self && !is_binding {
                let mut message = format!(
                    "`skip` names `{name}`, which is not a parameter of `{}`",
                    self.name()
                );
                if let Some(names) = self.names_bound_by_struct_pattern(name) {
                    // `skip(State)` for `State(db): State<Db>`: the pattern's bindings are the
                    // parameter's names, not the extractor's type.
                    message.push_str(&format!(
                        "; to leave out the `{name}(..)` parameter, skip the names its pattern \
                         binds: `skip({names})`"
                    ));
                }
                errors.push(Error::new(name.span(), message));
            }
        }
    }

    /// The names bound by a parameter destructured as `name(..)` or `name { .. }` (an
    /// extractor such as `State(db): State<Db>`), joined with `, `; `None` when no parameter
    /// is destructured with that type name or its pattern binds nothing.
    fn names_bound_by_struct_pattern(&self, name: &Ident) -> Option<String> {
        self.original.sig.inputs.iter().find_map(|input| {
            let FnArg::Typed(typed) = input else {
                return None;
            };
            let path = match &*typed.pat {
                Pat::TupleStruct(tuple) => &tuple.path,
                Pat::Struct(fields) => &fields.path,
                _ => return None,
            };
            if path.segments.last().is_none_or(|last| last.ident != *name) {
                return None;
            }
            let mut names = Vec::new();
            collect_bindings(&typed.pat, &mut names, &mut Errors::default());
            let names: Vec<String> = names.iter().map(ToString::to_string).collect();
            (!names.is_empty()).then(|| names.join(", "))
        })
    }

    /// `cache_none` only makes sense when the function returns an `Option`.
    fn check_cache_none(&self, errors: &mut Errors) {
        let Some(cache_none) = &self.args.cache_none else {
            return;
        };
        let returns_option = self
            .output
            .as_ref()
            .is_some_and(|output| output.shape == Shape::Option);
        if !returns_option {
            errors.push(Error::new(
                cache_none.key,
                format!(
                    "`cache_none` applies only to a function returning `Option<_>`, \
                     and `{}` does not; drop `cache_none`",
                    self.name()
                ),
            ));
        }
    }

    /// A stale value stands in for an `Err`, so `stale_if_error` needs a `Result` return.
    fn check_stale_if_error(&self, errors: &mut Errors) {
        let Some(stale) = &self.args.stale_if_error else {
            return;
        };
        let returns_result = self
            .output
            .as_ref()
            .is_some_and(|output| output.shape == Shape::Result);
        if !returns_result {
            errors.push(Error::new(
                stale.key,
                format!(
                    "`stale_if_error` applies only to a function returning `Result<_, _>`, \
                     and `{}` does not; drop `stale_if_error`",
                    self.name()
                ),
            ));
        }
    }

    /// A soft timeout answers with a stale value, which only `stale_if_error` keeps.
    fn check_soft_timeout(&self, errors: &mut Errors) {
        if let (Some(soft), None) = (&self.args.soft_timeout, &self.args.stale_if_error) {
            errors.push(Error::new(
                soft.key,
                "`soft_timeout` answers with a stale value, and stale values are kept only with \
                 `stale_if_error`; add `stale_if_error = \"1h\"` (or another window)",
            ));
        }
    }

    /// `l1_ttl` says how long entries stay in L1, which `l1 = false` turns off.
    fn check_l1(&self, errors: &mut Errors) {
        if let (Some(l1), Some(l1_ttl)) = (&self.args.l1, &self.args.l1_ttl) {
            if !l1.value {
                errors.push(Error::new(
                    l1_ttl.key,
                    "`l1_ttl` has no effect with `l1 = false`; drop `l1_ttl` or `l1 = false`",
                ));
            }
        }
    }

    /// Every tag template must parse, and each placeholder must start at a parameter binding
    /// (skipped or not) or at `self` in a method. Errors point at the tag's string literal.
    /// A `label` template follows the rules of a tag's.
    fn check_label(&self, errors: &mut Errors) {
        let Some(label) = &self.args.label else {
            return;
        };
        let bindings: Vec<&Ident> = self.bindings.iter().map(|binding| binding.ident).collect();
        tags::check_templates(
            "label",
            std::slice::from_ref(&label.value),
            &bindings,
            self.receiver.is_some(),
            self.name(),
            errors,
        );
    }

    fn check_tags(&self, errors: &mut Errors) {
        let Some(tags) = &self.args.tags else {
            return;
        };
        let bindings: Vec<&Ident> = self.bindings.iter().map(|binding| binding.ident).collect();
        tags::check(
            &tags.value,
            &bindings,
            self.receiver.is_some(),
            self.name(),
            errors,
        );
    }
}

/// Whether the receiver lends `self` mutably: `&mut self`, `self: &mut Self`, or a type holding
/// `&mut` (`self: Pin<&mut Self>`).
fn takes_mut_self(receiver: &Receiver) -> bool {
    struct MutRef(bool);
    impl<'ast> Visit<'ast> for MutRef {
        fn visit_type_reference(&mut self, node: &'ast TypeReference) {
            self.0 |= node.mutability.is_some();
            syn::visit::visit_type_reference(self, node);
        }
    }
    let mut finder = MutRef(false);
    finder.visit_type(&receiver.ty);
    finder.0
}

/// Whether `impl_trait` is `impl IntoResponse` (any path ending in `IntoResponse`), alone or
/// with other bounds.
fn is_impl_into_response(impl_trait: &TypeImplTrait) -> bool {
    impl_trait.bounds.iter().any(|bound| {
        matches!(bound, TypeParamBound::Trait(bound)
            if bound.path.segments.last().is_some_and(|last| last.ident == "IntoResponse"))
    })
}
