//! The arguments of `#[cache_invalidate(...)]` and `#[cache_put(...)]`, parsed into typed
//! values that keep their spans. Both take targets (`get_user(id)`) in any order among their
//! named arguments; `#[cache_put]` accepts only `cache` and `crate` besides.
//!
//! As for `#[cached]`, syntax errors stop parsing, and errors about one argument are collected
//! so every such problem is reported in one compile.

use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{Expr, Ident, LitStr, Path, Result, Token};

use crate::arg_parse::{self, parse_value, set_once, skip_to_comma, Arg, Known};
use crate::errors::Errors;
use crate::target::Target;

/// Which attribute the arguments belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attr {
    /// `#[cache_invalidate]`.
    Invalidate,
    /// `#[cache_put]`.
    Put,
}

impl Attr {
    /// The attribute's name as written in messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Attr::Invalidate => "cache_invalidate",
            Attr::Put => "cache_put",
        }
    }

    /// What the attribute accepts, for the unknown-argument error.
    fn known(self) -> Known {
        match self {
            Attr::Invalidate => Known {
                attr: "cache_invalidate",
                expected: "a target like `get_user(id)` or `all(get_user)`, or one of",
                names: &[
                    "namespace",
                    "tags",
                    "pattern",
                    "before",
                    "after",
                    "cache",
                    "crate",
                ],
                aliases: &[
                    ("tag", "tags"),
                    ("prefix", "pattern"),
                    ("name", "namespace"),
                    ("key", "pattern"),
                ],
            },
            Attr::Put => Known {
                attr: "cache_put",
                expected: "a target like `get_user(id)`, or one of",
                names: &["cache", "crate"],
                aliases: &[],
            },
        }
    }
}

/// The parsed arguments; each named one is present at most once.
pub(crate) struct TargetArgs {
    /// The attribute they belong to.
    pub(crate) attr: Attr,
    /// `get_user(id)` and `all(get_user)`, in the order written.
    pub(crate) targets: Vec<Target>,
    /// `namespace = "users"`: every entry of that namespace.
    pub(crate) namespace: Option<Arg<LitStr>>,
    /// `tags = ["user:{id}"]`: tag templates over the fn's own parameters.
    pub(crate) tags: Option<Arg<Vec<LitStr>>>,
    /// `pattern = "users:*"`: every key matching it (only `*` is a wildcard).
    pub(crate) pattern: Option<Arg<LitStr>>,
    /// `before = true`: also invalidate before the body runs.
    pub(crate) before: Option<Arg<bool>>,
    /// `after = false`: do not invalidate after the body.
    pub(crate) after: Option<Arg<bool>>,
    /// `cache = expr`: the cache to use instead of the global one.
    pub(crate) cache: Option<Arg<Expr>>,
    /// `crate = path`: where the runtime crate is, when it is renamed.
    pub(crate) krate: Option<Arg<Path>>,
}

impl TargetArgs {
    /// Parses the arguments of `attr`.
    pub(crate) fn parse(input: ParseStream<'_>, attr: Attr) -> Result<Self> {
        let mut args = TargetArgs {
            attr,
            targets: Vec::new(),
            namespace: None,
            tags: None,
            pattern: None,
            before: None,
            after: None,
            cache: None,
            krate: None,
        };
        let mut errors = Errors::default();
        while !input.is_empty() {
            args.parse_one(input, &mut errors)?;
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        errors.finish(args)
    }

    /// Parses one target or `name = value` argument, recording argument errors in `errors`.
    fn parse_one(&mut self, input: ParseStream<'_>, errors: &mut Errors) -> Result<()> {
        let attr = self.attr.name();
        if input.peek(Token![crate]) && input.peek2(Token![=]) {
            let key = input.parse::<Token![crate]>()?.span;
            input.parse::<Token![=]>()?;
            let value = Some(input.call(Path::parse_mod_style)?);
            errors.check(set_once(attr, &mut self.krate, "crate", key, value));
            return Ok(());
        }
        if !(input.peek(Ident::peek_any) && input.peek2(Token![=])) {
            let expr = input.parse::<Expr>()?;
            if let Some(target) =
                errors.check(Target::from_expr(&expr, self.attr == Attr::Invalidate))
            {
                self.targets.push(target);
            }
            return Ok(());
        }
        let name = input.call(Ident::parse_any)?;
        let key = name.span();
        match (self.attr, name.unraw().to_string().as_str()) {
            (_, "cache") => {
                let value = parse_value(input, errors, arg_parse::cache)?;
                errors.check(set_once(attr, &mut self.cache, "cache", key, value));
            }
            (Attr::Invalidate, "namespace") => {
                let value = parse_value(input, errors, namespace)?;
                errors.check(set_once(attr, &mut self.namespace, "namespace", key, value));
            }
            (Attr::Invalidate, "tags") => {
                let value = parse_value(input, errors, arg_parse::tags)?;
                errors.check(set_once(attr, &mut self.tags, "tags", key, value));
            }
            (Attr::Invalidate, "pattern") => {
                let value = parse_value(input, errors, pattern)?;
                errors.check(set_once(attr, &mut self.pattern, "pattern", key, value));
            }
            (Attr::Invalidate, "before") => {
                let value = parse_value(input, errors, before)?;
                errors.check(set_once(attr, &mut self.before, "before", key, value));
            }
            (Attr::Invalidate, "after") => {
                let value = parse_value(input, errors, after)?;
                errors.check(set_once(attr, &mut self.after, "after", key, value));
            }
            _ => {
                errors.push(self.attr.known().unknown(&name));
                skip_to_comma(input)?;
            }
        }
        Ok(())
    }

    /// Whether to invalidate before the body (`before = true`; default no).
    pub(crate) fn before(&self) -> bool {
        self.before.as_ref().is_some_and(|arg| arg.value)
    }

    /// Whether to invalidate after the body (default yes).
    pub(crate) fn after(&self) -> bool {
        self.after.as_ref().is_none_or(|arg| arg.value)
    }
}

/// `namespace = "users"`.
fn namespace(expr: &Expr) -> Result<LitStr> {
    arg_parse::non_empty_str("namespace", "namespace = \"users\"", expr)
}

/// The most `*` wildcards a pattern may hold (the runtime's `MAX_WILDCARDS`).
const MAX_WILDCARDS: usize = 8;

/// `pattern = "users:*"`, with at most [`MAX_WILDCARDS`] wildcards (`\*` is a literal star).
fn pattern(expr: &Expr) -> Result<LitStr> {
    let pattern = arg_parse::non_empty_str("pattern", "pattern = \"users:*\"", expr)?;
    let wildcards = wildcards(&pattern.value());
    if wildcards > MAX_WILDCARDS {
        return Err(syn::Error::new_spanned(
            &pattern,
            format!(
                "`pattern` holds {wildcards} `*` wildcards, more than the {MAX_WILDCARDS} \
                 allowed; write `\\*` for a literal `*`"
            ),
        ));
    }
    Ok(pattern)
}

/// The `*` of `pattern` that are wildcards: not escaped as `\*` (`\\` is an escaped `\`).
fn wildcards(pattern: &str) -> usize {
    let mut count = 0;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => count += 1,
            '\\' if matches!(chars.peek(), Some('*' | '\\')) => {
                chars.next();
            }
            _ => {}
        }
    }
    count
}

/// `before = true`.
fn before(expr: &Expr) -> Result<bool> {
    arg_parse::boolean("before", expr)
}

/// `after = false`.
fn after(expr: &Expr) -> Result<bool> {
    arg_parse::boolean("after", expr)
}
