//! The forms an argument's value takes, and the converters of `name = value` values.
//!
//! A form parses what follows the argument's name and returns `None` after recording an error
//! about the value (parsing goes on); it returns `Err` only for a syntax error. A converter
//! turns the expression of `name = <expr>` into the argument's typed value, with an error at
//! the expression that quotes the argument's example.

use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Error, Expr, ExprLit, Ident, Lit, LitStr, Path, Result, Token};

use super::Spec;
use crate::errors::Errors;

/// `name = <expr>`, converted with `convert`.
pub(crate) fn assigned<T>(
    _: &str,
    spec: &Spec,
    input: ParseStream<'_>,
    errors: &mut Errors,
    convert: fn(&Spec, &Expr) -> Result<T>,
) -> Result<Option<T>> {
    input.parse::<Token![=]>()?;
    let expr = input.parse::<Expr>()?;
    Ok(errors.check(convert(spec, &expr)))
}

/// `name = <any expression>`, kept as written.
pub(crate) fn expr(
    _: &str,
    _: &Spec,
    input: ParseStream<'_>,
    _: &mut Errors,
) -> Result<Option<Expr>> {
    input.parse::<Token![=]>()?;
    input.parse().map(Some)
}

/// `name = some::path`, as written in `use` (no generic arguments).
pub(crate) fn path(
    _: &str,
    _: &Spec,
    input: ParseStream<'_>,
    _: &mut Errors,
) -> Result<Option<Path>> {
    input.parse::<Token![=]>()?;
    input.call(Path::parse_mod_style).map(Some)
}

/// A bare name such as `batch`: `Some(())`, or `None` after recording an error at the value
/// of `batch = value` or `batch(...)`.
pub(crate) fn flag(
    attr: &str,
    spec: &Spec,
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> Result<Option<()>> {
    let message = format!(
        "`{}` takes no value; write `#[{attr}({})]`",
        spec.name, spec.example
    );
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        let value = input.parse::<Expr>()?;
        errors.push(Error::new_spanned(value, message));
        return Ok(None);
    }
    if input.peek(syn::token::Paren) {
        let content;
        let parens = syn::parenthesized!(content in input);
        content.parse::<proc_macro2::TokenStream>()?;
        errors.push(Error::new(parens.span.join(), message));
        return Ok(None);
    }
    Ok(Some(()))
}

/// `name(a, b, self)`: identifiers, each at most once.
pub(crate) fn names(
    _: &str,
    spec: &Spec,
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> Result<Option<Vec<Ident>>> {
    if input.peek(Token![=]) {
        return Err(input.error(format!(
            "`{}` takes a list of parameter names, like `{}`",
            spec.name, spec.example
        )));
    }
    let content;
    syn::parenthesized!(content in input);
    let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
    let mut unique: Vec<Ident> = Vec::with_capacity(names.len());
    for name in names {
        if unique.contains(&name) {
            errors.push(Error::new(
                name.span(),
                format!("`{}` names `{name}` twice", spec.name),
            ));
        } else {
            unique.push(name);
        }
    }
    Ok(Some(unique))
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
pub(crate) fn cache(spec: &Spec, expr: &Expr) -> Result<Expr> {
    match literal(expr) {
        Some(_) => Err(Error::new_spanned(
            expr,
            format!(
                "`{}` expects an expression whose value is a `Cache`, `Arc<Cache>` or `&Cache`, \
                 like `{}`; build the `Cache` (for example from a Redis URL) in code",
                spec.name, spec.example
            ),
        )),
        None => Ok(expr.clone()),
    }
}

/// `tags = ["user:{id}", "static"]`: a non-empty array of string literals.
pub(crate) fn tags(spec: &Spec, expr: &Expr) -> Result<Vec<LitStr>> {
    let wrong_type = |at: &Expr| {
        Error::new_spanned(
            at,
            format!(
                "`{}` expects an array of string literals, e.g. `{}`",
                spec.name, spec.example
            ),
        )
    };
    let array = match expr {
        Expr::Array(array) => array,
        Expr::Group(group) => return tags(spec, &group.expr),
        _ => return Err(wrong_type(expr)),
    };
    if array.elems.is_empty() {
        return Err(Error::new_spanned(
            array,
            format!(
                "`{0}` must not be empty; list at least one tag or drop `{0}`",
                spec.name
            ),
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
pub(crate) fn boolean(spec: &Spec, expr: &Expr) -> Result<bool> {
    match literal(expr) {
        Some(Lit::Bool(value)) => Ok(value.value),
        _ => Err(Error::new_spanned(
            expr,
            format!("`{}` expects `true` or `false`", spec.name),
        )),
    }
}

/// `name = "text"`: a non-empty string literal.
pub(crate) fn text(spec: &Spec, expr: &Expr) -> Result<LitStr> {
    match literal(expr) {
        Some(Lit::Str(text)) if text.value().is_empty() => Err(Error::new_spanned(
            text,
            format!("`{}` must not be empty", spec.name),
        )),
        Some(Lit::Str(text)) => Ok(text.clone()),
        _ => Err(Error::new_spanned(
            expr,
            format!(
                "`{}` expects a string literal, like `{}`",
                spec.name, spec.example
            ),
        )),
    }
}

/// The most `*` wildcards a pattern may hold (the runtime's `MAX_WILDCARDS`).
const MAX_WILDCARDS: usize = 8;

/// `pattern = "users:*"`: a non-empty string literal with at most [`MAX_WILDCARDS`]
/// wildcards (`\*` is a literal star, `\\` a literal backslash).
pub(crate) fn pattern(spec: &Spec, expr: &Expr) -> Result<LitStr> {
    let pattern = text(spec, expr)?;
    let wildcards = wildcards(&pattern.value());
    if wildcards > MAX_WILDCARDS {
        return Err(Error::new_spanned(
            &pattern,
            format!(
                "`{}` holds {wildcards} `*` wildcards, more than the {MAX_WILDCARDS} allowed; \
                 write `\\*` for a literal `*`",
                spec.name
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

/// `version = 2`: an integer literal that fits in a `u32`.
pub(crate) fn version(spec: &Spec, expr: &Expr) -> Result<u32> {
    match literal(expr) {
        Some(Lit::Int(int)) => int
            .base10_parse()
            .map_err(|_| Error::new_spanned(int, format!("`{}` must fit in a `u32`", spec.name))),
        _ => Err(Error::new_spanned(
            expr,
            format!(
                "`{}` expects an integer literal, like `{}`",
                spec.name, spec.example
            ),
        )),
    }
}

/// `ttl_jitter = 0.1`: a float literal from 0.0 to 1.0, as millionths.
pub(crate) fn fraction(spec: &Spec, expr: &Expr) -> Result<u32> {
    let fraction = match literal(expr) {
        Some(Lit::Float(float)) => float.base10_parse::<f64>().ok(),
        Some(Lit::Int(int)) => int.base10_parse::<u8>().ok().map(f64::from),
        _ => None,
    };
    match fraction {
        Some(f) if (0.0..=1.0).contains(&f) => Ok((f * 1_000_000.0).round() as u32),
        _ => Err(Error::new_spanned(
            expr,
            format!(
                "`{}` expects a fraction from 0.0 to 1.0, like `{}`",
                spec.name, spec.example
            ),
        )),
    }
}

/// A duration: a number of seconds or a string with a unit, as milliseconds (never zero).
pub(crate) fn duration(spec: &Spec, expr: &Expr) -> Result<u64> {
    let name = spec.name;
    let millis = match literal(expr) {
        Some(Lit::Int(int)) => {
            let seconds: u64 = int.base10_parse()?;
            seconds.checked_mul(1000)
        }
        Some(Lit::Str(text)) => parse_duration(&text.value()).ok_or_else(|| {
            Error::new_spanned(
                text,
                format!(
                    "invalid `{name}` {:?}; expected a number of seconds or a string like \
                     \"90s\", \"10m\", \"1h\", \"1d\"",
                    text.value()
                ),
            )
        })?,
        _ => {
            return Err(Error::new_spanned(
                expr,
                format!(
                    "`{name}` expects a number of seconds or a duration string, \
                     like `{name} = 300` or `{}`",
                    spec.example
                ),
            ))
        }
    };
    match millis {
        Some(0) => Err(Error::new_spanned(
            expr,
            format!("`{name}` must be greater than zero"),
        )),
        Some(millis) => Ok(millis),
        None => Err(Error::new_spanned(expr, format!("`{name}` is too large"))),
    }
}

/// Parses `"<digits><unit>"` with unit `ms`, `s`, `m`, `h` or `d` into milliseconds.
///
/// `None` means the text is not a duration; `Some(None)` means it overflows `u64`.
fn parse_duration(text: &str) -> Option<Option<u64>> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(split);
    let scale: u64 = match unit {
        "ms" => 1,
        "s" => 1000,
        "m" => 60 * 1000,
        "h" => 60 * 60 * 1000,
        "d" => 24 * 60 * 60 * 1000,
        _ => return None,
    };
    if digits.is_empty() {
        return None;
    }
    Some(
        digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(scale)),
    )
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Some(Some(500)));
        assert_eq!(parse_duration("90s"), Some(Some(90_000)));
        assert_eq!(parse_duration("10m"), Some(Some(600_000)));
        assert_eq!(parse_duration("1h"), Some(Some(3_600_000)));
        assert_eq!(parse_duration("1d"), Some(Some(86_400_000)));
        assert_eq!(parse_duration("0s"), Some(Some(0)));
        assert_eq!(parse_duration("99999999999999999999d"), Some(None));
        for bad in ["", "10", "10x", "s", "1.5h", " 1h", "1h ", "1h30m", "-1s"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }
}
