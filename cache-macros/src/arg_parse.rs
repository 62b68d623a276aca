//! Helpers shared by the argument parsers of `#[cached]`, `#[cache_invalidate]` and
//! `#[cache_put]`: one `set_once` for duplicates, value converters that keep spans, and the
//! unknown-argument error with its near-miss hint.

use proc_macro2::{Span, TokenTree};
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{Error, Expr, ExprLit, Ident, Lit, LitStr, Result, Token};

use crate::errors::Errors;

/// One argument's value together with the span of its key (the name before `=` or `(`).
pub(crate) struct Arg<T> {
    /// Where the argument's name is written; errors about the argument as a whole go here.
    pub(crate) key: Span,
    /// The parsed value.
    pub(crate) value: T,
}

/// Stores `value` in `slot`, rejecting a second copy of the argument at its key.
///
/// `value` is `None` when the value itself was invalid (its error is already recorded); the
/// duplicate check still runs so both problems are reported. `attr` is the attribute's name
/// as written in messages (`cached`, `cache_invalidate`).
pub(crate) fn set_once<T>(
    attr: &str,
    slot: &mut Option<Arg<T>>,
    name: &str,
    key: Span,
    value: Option<T>,
) -> Result<()> {
    if slot.is_some() {
        return Err(Error::new(
            key,
            format!("duplicate `#[{attr}]` argument `{name}`"),
        ));
    }
    if let Some(value) = value {
        *slot = Some(Arg { key, value });
    }
    Ok(())
}

/// Parses `= <expr>` and converts the expression with `convert`, recording its error.
pub(crate) fn parse_value<T>(
    input: ParseStream<'_>,
    errors: &mut Errors,
    convert: fn(&Expr) -> Result<T>,
) -> Result<Option<T>> {
    input.parse::<Token![=]>()?;
    let expr = input.parse::<Expr>()?;
    Ok(errors.check(convert(&expr)))
}

/// The literal inside `expr`, looking through invisible groups from `macro_rules!`.
pub(crate) fn literal(expr: &Expr) -> Option<&Lit> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        Expr::Group(group) => literal(&group.expr),
        _ => None,
    }
}

/// `cache = self.cache`: any expression but a literal.
pub(crate) fn cache(expr: &Expr) -> Result<Expr> {
    match literal(expr) {
        Some(_) => Err(Error::new_spanned(
            expr,
            "`cache` expects an expression whose value is a `Cache`, `Arc<Cache>` or `&Cache`, \
             like `cache = self.cache`; build the `Cache` (for example from a Redis URL) in code",
        )),
        None => Ok(expr.clone()),
    }
}

/// `tags = ["user:{id}", "static"]`: a non-empty array of string literals.
pub(crate) fn tags(expr: &Expr) -> Result<Vec<LitStr>> {
    let wrong_type = |at: &Expr| {
        Error::new_spanned(
            at,
            "`tags` expects an array of string literals, e.g. `tags = [\"user:{id}\"]`",
        )
    };
    let array = match expr {
        Expr::Array(array) => array,
        Expr::Group(group) => return tags(&group.expr),
        _ => return Err(wrong_type(expr)),
    };
    if array.elems.is_empty() {
        return Err(Error::new_spanned(
            array,
            "`tags` must not be empty; list at least one tag or drop `tags`",
        ));
    }
    array
        .elems
        .iter()
        .map(|elem| match literal(elem) {
            Some(Lit::Str(text)) => Ok(text.clone()),
            _ => Err(wrong_type(elem)),
        })
        .collect()
}

/// `name = true` or `name = false`.
pub(crate) fn boolean(name: &str, expr: &Expr) -> Result<bool> {
    match literal(expr) {
        Some(Lit::Bool(value)) => Ok(value.value),
        _ => Err(Error::new_spanned(
            expr,
            format!("`{name}` expects `true` or `false`"),
        )),
    }
}

/// `name = "text"`: a non-empty string literal; `example` is a whole valid argument.
pub(crate) fn non_empty_str(name: &str, example: &str, expr: &Expr) -> Result<LitStr> {
    match literal(expr) {
        Some(Lit::Str(text)) if text.value().is_empty() => Err(Error::new_spanned(
            text,
            format!("`{name}` must not be empty"),
        )),
        Some(Lit::Str(text)) => Ok(text.clone()),
        _ => Err(Error::new_spanned(
            expr,
            format!("`{name}` expects a string literal, like `{example}`"),
        )),
    }
}

/// What an attribute accepts, for the unknown-argument error.
pub(crate) struct Known {
    /// The attribute's name as written in messages (`cached`).
    pub(crate) attr: &'static str,
    /// What comes before the list of names (`one of`, `a target like ..., or one of`).
    pub(crate) expected: &'static str,
    /// Every argument name, in the order messages list them.
    pub(crate) names: &'static [&'static str],
    /// Names users reach for from other libraries, and the argument they mean.
    pub(crate) aliases: &'static [(&'static str, &'static str)],
}

impl Known {
    /// "`ttl`, `namespace`, ..." for error messages.
    pub(crate) fn list(&self) -> String {
        let quoted: Vec<String> = self.names.iter().map(|name| format!("`{name}`")).collect();
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

    /// The argument `written` probably means: a known alias, else the closest name within two
    /// edits.
    pub(crate) fn suggestion(&self, written: &str) -> Option<&'static str> {
        if let Some((_, meant)) = self.aliases.iter().find(|(alias, _)| *alias == written) {
            return Some(meant);
        }
        self.names
            .iter()
            .map(|name| (edit_distance(written, name), *name))
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
