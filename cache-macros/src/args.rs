//! Attribute arguments, declared once each.
//!
//! Each attribute lists its arguments in one [`arguments!`] invocation: the field that holds
//! the parsed value, the name as written, an example of the argument written right (the help
//! text of its errors), the names users reach for from other libraries, and the form of its
//! value. From that one list come the struct of parsed values, the table the unknown-argument
//! error lists, and the parser that dispatches on the name and rejects a second copy.
//!
//! Syntax errors (a missing `=`, an unbalanced list) stop parsing. Errors about one argument
//! (unknown name, duplicate, wrong value) are collected and parsing goes on, so the user sees
//! every such problem in one compile.

use proc_macro2::{Span, TokenTree};
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{Error, Ident, Result};

pub(crate) mod values;

/// One argument's value together with the span of its key (the name before `=` or `(`).
pub(crate) struct Arg<T> {
    /// Where the argument's name is written; errors about the argument as a whole go here.
    pub(crate) key: Span,
    /// The parsed value.
    pub(crate) value: T,
}

/// What an attribute says about one of its arguments, for messages.
pub(crate) struct Spec {
    /// The argument's name as written (`ttl`, `crate`).
    pub(crate) name: &'static str,
    /// The argument written right (`ttl = "5m"`), quoted by errors about its value.
    pub(crate) example: &'static str,
    /// Names users reach for from other libraries that mean this argument.
    pub(crate) aliases: &'static [&'static str],
}

/// Declares an attribute's arguments; see the module docs.
///
/// ```text
/// arguments! {
///     /// Docs of the struct.
///     pub(crate) struct CachedArgs {
///         /// Docs of the field.
///         ttl: u64 {
///             name: "ttl",
///             example: "ttl = \"5m\"",
///             aliases: ["time_to_live"],      // optional
///             value: assigned(values::duration),
///         },
///     }
/// }
/// ```
///
/// `value` names a parser in [`values`] (`assigned`, `list`, `flag`, `path`), with its
/// converter in parentheses when it takes one.
macro_rules! arguments {
    (
        $(#[$meta:meta])*
        pub(crate) struct $args:ident {
            $(
                $(#[$doc:meta])*
                $field:ident: $ty:ty {
                    name: $name:literal,
                    example: $example:literal,
                    $(aliases: [$($alias:literal),* $(,)?],)?
                    value: $form:ident $(($convert:path))? $(,)?
                }
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Default)]
        pub(crate) struct $args {
            $(
                $(#[$doc])*
                pub(crate) $field: ::core::option::Option<$crate::args::Arg<$ty>>,
            )*
        }

        impl $args {
            /// Every argument, in the order messages list them.
            pub(crate) const SPECS: &'static [$crate::args::Spec] = &[
                $(
                    $crate::args::Spec {
                        name: $name,
                        example: $example,
                        aliases: &[$($($alias),*)?],
                    },
                )*
            ];

            /// Parses the value of the argument called `name` (already consumed) into its
            /// field, recording argument errors in `errors`; `false` when no argument has
            /// that name. `attr` is the attribute's name as written in messages (`cached`).
            pub(crate) fn parse_named(
                &mut self,
                attr: &str,
                name: &::syn::Ident,
                input: ::syn::parse::ParseStream<'_>,
                errors: &mut $crate::errors::Errors,
            ) -> ::syn::Result<bool> {
                let written = ::syn::ext::IdentExt::unraw(name).to_string();
                $(
                    if written == $name {
                        const SPEC: $crate::args::Spec = $crate::args::Spec {
                            name: $name,
                            example: $example,
                            aliases: &[$($($alias),*)?],
                        };
                        let value = $crate::args::values::$form(
                            attr, &SPEC, input, errors $(, $convert)?
                        )?;
                        errors.check($crate::args::set_once(
                            attr, &SPEC, &mut self.$field, name.span(), value,
                        ));
                        return Ok(true);
                    }
                )*
                Ok(false)
            }
        }
    };
}
pub(crate) use arguments;

/// Stores `value` in `slot`, rejecting a second copy of the argument at its key.
///
/// `value` is `None` when the value itself was invalid (its error is already recorded); the
/// duplicate check still runs so both problems are reported. `attr` is the attribute's name
/// as written in messages.
pub(crate) fn set_once<T>(
    attr: &str,
    spec: &Spec,
    slot: &mut Option<Arg<T>>,
    key: Span,
    value: Option<T>,
) -> Result<()> {
    if slot.is_some() {
        return Err(Error::new(
            key,
            format!("duplicate `#[{attr}]` argument `{}`", spec.name),
        ));
    }
    if let Some(value) = value {
        *slot = Some(Arg { key, value });
    }
    Ok(())
}

/// What an attribute accepts, for the unknown-argument error.
pub(crate) struct Known {
    /// The attribute's name as written in messages (`cached`).
    pub(crate) attr: &'static str,
    /// What comes before the list of names (`one of`, `a target like ..., or one of`).
    pub(crate) expected: &'static str,
    /// Every argument, in the order messages list them.
    pub(crate) specs: &'static [Spec],
    /// The names of the arguments of `specs` this attribute accepts; `None`: all of them.
    pub(crate) only: Option<&'static [&'static str]>,
}

impl Known {
    /// The arguments this attribute accepts.
    fn accepted(&self) -> impl Iterator<Item = &'static Spec> + '_ {
        self.specs
            .iter()
            .filter(|spec| self.only.is_none_or(|only| only.contains(&spec.name)))
    }

    /// Whether this attribute accepts an argument called `name`.
    pub(crate) fn accepts(&self, name: &Ident) -> bool {
        let written = name.unraw().to_string();
        self.only
            .is_none_or(|only| only.contains(&written.as_str()))
    }

    /// "`ttl`, `namespace`, ..." for error messages.
    pub(crate) fn list(&self) -> String {
        let quoted: Vec<String> = self
            .accepted()
            .map(|spec| format!("`{}`", spec.name))
            .collect();
        quoted.join(", ")
    }

    /// The error for an argument name that is not known, with a hint when it is close.
    pub(crate) fn unknown(&self, name: &Ident) -> Error {
        let written = name.unraw().to_string();
        let mut message = format!(
            "unknown `#[{}]` argument `{written}`; expected {} {}",
            self.attr,
            self.expected,
            self.list()
        );
        if let Some(meant) = self.suggestion(&written) {
            message.push_str(&format!("; did you mean `{meant}`?"));
        }
        Error::new(name.span(), message)
    }

    /// The argument `written` probably means: the argument it is an alias of, else the
    /// closest name within two edits.
    pub(crate) fn suggestion(&self, written: &str) -> Option<&'static str> {
        if let Some(spec) = self.accepted().find(|spec| spec.aliases.contains(&written)) {
            return Some(spec.name);
        }
        self.accepted()
            .map(|spec| (edit_distance(written, spec.name), spec.name))
            .filter(|(distance, _)| *distance <= 2)
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, name)| name)
    }
}

/// Levenshtein distance (insertions, deletions, substitutions) between two short strings.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Skips the value of an unknown argument: every token tree up to the next top-level comma.
pub(crate) fn skip_to_comma(input: ParseStream<'_>) -> Result<()> {
    input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            if matches!(&tree, TokenTree::Punct(punct) if punct.as_char() == ',') {
                break;
            }
            rest = next;
        }
        Ok(((), rest))
    })
}
