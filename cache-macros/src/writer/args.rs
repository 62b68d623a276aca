//! The arguments of `#[cache_invalidate(...)]` and `#[cache_put(...)]`, each declared once
//! (see [`arguments!`](crate::args::arguments)), and the targets written among them
//! (`get_user(id)`) in any order.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, LitStr, Path, Result, Token};

use crate::args::{arguments, skip_to_comma, values, Known};
use crate::errors::Errors;
use crate::target::Target;

arguments! {
    /// The named arguments of the writers; each is present at most once. `#[cache_put]`
    /// accepts only those in [`PUT_ARGS`].
    pub(crate) struct NamedArgs {
        /// `namespace = "users"`: every entry of that namespace.
        namespace: LitStr {
            name: "namespace",
            example: "namespace = \"users\"",
            aliases: ["name"],
            value: assigned(values::text),
        },
        /// `tags = ["user:{id}"]`: tag templates over the fn's own parameters.
        tags: Vec<LitStr> {
            name: "tags",
            example: "tags = [\"user:{id}\"]",
            aliases: ["tag"],
            value: assigned(values::tags),
        },
        /// `pattern = "users:*"`: every key matching it (only `*` is a wildcard, at most 8).
        pattern: LitStr {
            name: "pattern",
            example: "pattern = \"users:*\"",
            aliases: ["prefix", "key"],
            value: assigned(values::pattern),
        },
        /// `before = true`: also invalidate before the body runs.
        before: bool {
            name: "before",
            example: "before = true",
            value: assigned(values::boolean),
        },
        /// `after = false`: do not invalidate after the body.
        after: bool {
            name: "after",
            example: "after = false",
            value: assigned(values::boolean),
        },
        /// `cache = expr`: the cache to use instead of the global one.
        cache: Expr {
            name: "cache",
            example: "cache = self.cache",
            value: assigned(values::cache),
        },
        /// `crate = path`: where the runtime crate is, when it is renamed.
        krate: Path {
            name: "crate",
            example: "crate = my_cache",
            value: path,
        },
    }
}

/// The named arguments `#[cache_put]` accepts.
const PUT_ARGS: &[&str] = &["cache", "crate"];

/// Which attribute to parse the arguments of.
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
                specs: NamedArgs::SPECS,
                only: None,
            },
            Attr::Put => Known {
                attr: "cache_put",
                expected: "a target like `get_user(id)`, or one of",
                specs: NamedArgs::SPECS,
                only: Some(PUT_ARGS),
            },
        }
    }
}

/// The parsed arguments of a writer: its targets and its named arguments.
pub(crate) struct WriterArgs {
    /// Which attribute they belong to.
    pub(crate) attr: Attr,
    /// `get_user(id)` and `all(get_user)`, in the order written.
    pub(crate) targets: Vec<Target>,
    /// The named arguments.
    pub(crate) named: NamedArgs,
}

impl WriterArgs {
    /// Parses the arguments of `attr`, reporting every argument error together.
    pub(crate) fn parse(attr: Attr, tokens: TokenStream) -> Result<WriterArgs> {
        (|input: ParseStream<'_>| {
            let mut args = WriterArgs {
                attr,
                targets: Vec::new(),
                named: NamedArgs::default(),
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
        })
        .parse2(tokens)
    }

    /// Parses one target or `name = value` argument, recording argument errors in `errors`.
    fn parse_one(&mut self, input: ParseStream<'_>, errors: &mut Errors) -> Result<()> {
        let attr = self.attr;
        if !(input.peek(Ident::peek_any) && input.peek2(Token![=])) {
            let expr = input.parse::<Expr>()?;
            if let Some(target) = errors.check(Target::from_expr(&expr, attr == Attr::Invalidate)) {
                self.targets.push(target);
            }
            return Ok(());
        }
        let name = input.call(Ident::parse_any)?;
        let known = attr.known();
        if !known.accepts(&name) || !self.named.parse_named(attr.name(), &name, input, errors)? {
            errors.push(known.unknown(&name));
            skip_to_comma(input)?;
        }
        Ok(())
    }
}
