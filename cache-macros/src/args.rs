//! The arguments of `#[cached(...)]`, parsed into typed values that keep their spans.
//!
//! Syntax errors (a missing `=`, an unbalanced list) stop parsing. Errors about one argument
//! (unknown name, duplicate, wrong value) are collected and parsing goes on, so the user sees
//! every such problem in one compile.

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Error, Expr, Ident, Lit, LitStr, Path, Result, Token};

pub(crate) use crate::arg_parse::Arg;
use crate::arg_parse::{self, cache, literal, parse_value, skip_to_comma, tags, Known};
use crate::errors::Errors;

/// Every argument name, in the order error messages list them.
const NAMES: &[&str] = &[
    "ttl",
    "namespace",
    "key",
    "skip",
    "version",
    "cache",
    "cache_none",
    "tags",
    "label",
    "l1",
    "l1_ttl",
    "lock",
    "compress",
    "ttl_jitter",
    "stale_if_error",
    "detach",
    "refresh",
    "soft_timeout",
    "batch",
    "crate",
];

/// Names users reach for from other caching libraries, and the argument they mean.
const ALIASES: &[(&str, &str)] = &[
    ("time_to_live", "ttl"),
    ("expire", "ttl"),
    ("expires", "ttl"),
    ("ttl_secs", "ttl"),
    ("name", "namespace"),
    ("prefix", "namespace"),
    ("ignore", "skip"),
    ("exclude", "skip"),
    ("convert", "key"),
];

/// What `#[cached]` accepts, for the unknown-argument error.
const KNOWN: Known = Known {
    attr: "cached",
    expected: "one of",
    names: NAMES,
    aliases: ALIASES,
};

/// The parsed `#[cached(...)]` arguments; each is present at most once.
#[derive(Default)]
pub(crate) struct CachedArgs {
    /// `ttl = 300` or `ttl = "10m"`, in milliseconds (always > 0).
    pub(crate) ttl: Option<Arg<u64>>,
    /// `namespace = "users"` (never empty).
    pub(crate) namespace: Option<Arg<LitStr>>,
    /// `key = expr`: the only thing fed to the key builder.
    pub(crate) key: Option<Arg<Expr>>,
    /// `skip(a, b)`: parameter bindings left out of the key.
    pub(crate) skip: Option<Arg<Vec<Ident>>>,
    /// `version = 2`: the schema version of the cached value.
    pub(crate) version: Option<Arg<u32>>,
    /// `cache = expr`: the cache to use instead of the global one.
    pub(crate) cache: Option<Arg<Expr>>,
    /// `cache_none = true`: cache `None` results of an `Option`-returning fn.
    pub(crate) cache_none: Option<Arg<bool>>,
    /// `tags = ["user:{id}"]`: tag templates (never empty), checked and expanded by `tags`.
    pub(crate) tags: Option<Arg<Vec<LitStr>>>,
    /// `label = "user {id}"`: a template like a tag's, the human-readable name of a call's
    /// arguments in the top keys of the namespace's stats.
    pub(crate) label: Option<Arg<LitStr>>,
    /// `l1 = false`: keep this fn's entries out of the in-process tier.
    pub(crate) l1: Option<Arg<bool>>,
    /// `l1_ttl = "5s"`: the longest an entry stays in the in-process tier, in milliseconds.
    pub(crate) l1_ttl: Option<Arg<u64>>,
    /// `lock = true`: wait for another process's fill instead of running the body too.
    pub(crate) lock: Option<Arg<bool>>,
    /// `compress = false`: store this fn's values uncompressed, whatever their size.
    pub(crate) compress: Option<Arg<bool>>,
    /// `ttl_jitter = 0.1`: the fraction of the TTL to shorten entries by at random, in
    /// millionths.
    pub(crate) ttl_jitter: Option<Arg<u32>>,
    /// `stale_if_error = "1h"`: keep entries this long past their TTL to stand in for an
    /// `Err`, in milliseconds.
    pub(crate) stale_if_error: Option<Arg<u64>>,
    /// `batch`: the first parameter is a list of ids, each cached alone.
    pub(crate) batch: Option<Arg<()>>,
    /// `detach = true`: run the body on a spawned task, so a dropped caller does not
    /// cancel the fill (the body must be `Send + 'static`).
    pub(crate) detach: Option<Arg<bool>>,
    /// `refresh = "1m"`: on a hit older than this, recompute in the background (implies
    /// `detach`), in milliseconds.
    pub(crate) refresh: Option<Arg<u64>>,
    /// `soft_timeout = "200ms"`: with a stale value at hand, wait at most this for the body
    /// (implies `detach`; needs `stale_if_error`), in milliseconds.
    pub(crate) soft_timeout: Option<Arg<u64>>,
    /// `crate = path`: where the runtime crate is, when it is renamed.
    pub(crate) krate: Option<Arg<Path>>,
}

impl Parse for CachedArgs {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let mut args = CachedArgs::default();
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
}

impl CachedArgs {
    /// Parses one `name = value` or `skip(...)` argument, recording argument errors in `errors`.
    fn parse_one(&mut self, input: ParseStream<'_>, errors: &mut Errors) -> Result<()> {
        if input.peek(kw::ttl) {
            let key = input.parse::<kw::ttl>()?.span;
            let value = parse_value(input, errors, ttl_millis)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.ttl,
                "ttl",
                key,
                value,
            ));
        } else if input.peek(kw::namespace) {
            let key = input.parse::<kw::namespace>()?.span;
            let value = parse_value(input, errors, namespace)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.namespace,
                "namespace",
                key,
                value,
            ));
        } else if input.peek(kw::key) {
            let key = input.parse::<kw::key>()?.span;
            input.parse::<Token![=]>()?;
            let value = Some(input.parse::<Expr>()?);
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.key,
                "key",
                key,
                value,
            ));
        } else if input.peek(kw::skip) {
            let key = input.parse::<kw::skip>()?.span;
            let value = Some(parse_skip(input, errors)?);
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.skip,
                "skip",
                key,
                value,
            ));
        } else if input.peek(kw::version) {
            let key = input.parse::<kw::version>()?.span;
            let value = parse_value(input, errors, version)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.version,
                "version",
                key,
                value,
            ));
        } else if input.peek(kw::l1_ttl) {
            let key = input.parse::<kw::l1_ttl>()?.span;
            let value = parse_value(input, errors, l1_ttl_millis)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.l1_ttl,
                "l1_ttl",
                key,
                value,
            ));
        } else if input.peek(kw::soft_timeout) {
            let key = input.parse::<kw::soft_timeout>()?.span;
            let value = parse_value(input, errors, soft_timeout_millis)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.soft_timeout,
                "soft_timeout",
                key,
                value,
            ));
        } else if input.peek(kw::refresh) {
            let key = input.parse::<kw::refresh>()?.span;
            let value = parse_value(input, errors, refresh_millis)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.refresh,
                "refresh",
                key,
                value,
            ));
        } else if input.peek(kw::detach) {
            let key = input.parse::<kw::detach>()?.span;
            let value = parse_value(input, errors, detach)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.detach,
                "detach",
                key,
                value,
            ));
        } else if input.peek(kw::stale_if_error) {
            let key = input.parse::<kw::stale_if_error>()?.span;
            let value = parse_value(input, errors, stale_millis)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.stale_if_error,
                "stale_if_error",
                key,
                value,
            ));
        } else if input.peek(kw::ttl_jitter) {
            let key = input.parse::<kw::ttl_jitter>()?.span;
            let value = parse_value(input, errors, ttl_jitter)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.ttl_jitter,
                "ttl_jitter",
                key,
                value,
            ));
        } else if input.peek(kw::lock) {
            let key = input.parse::<kw::lock>()?.span;
            let value = parse_value(input, errors, lock)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.lock,
                "lock",
                key,
                value,
            ));
        } else if input.peek(kw::compress) {
            let key = input.parse::<kw::compress>()?.span;
            let value = parse_value(input, errors, compress)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.compress,
                "compress",
                key,
                value,
            ));
        } else if input.peek(kw::l1) {
            let key = input.parse::<kw::l1>()?.span;
            let value = parse_value(input, errors, l1)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.l1,
                "l1",
                key,
                value,
            ));
        } else if input.peek(kw::cache_none) {
            let key = input.parse::<kw::cache_none>()?.span;
            let value = parse_value(input, errors, cache_none)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.cache_none,
                "cache_none",
                key,
                value,
            ));
        } else if input.peek(kw::cache) {
            let key = input.parse::<kw::cache>()?.span;
            let value = parse_value(input, errors, cache)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.cache,
                "cache",
                key,
                value,
            ));
        } else if input.peek(kw::label) {
            let key = input.parse::<kw::label>()?.span;
            let value = parse_value(input, errors, label)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.label,
                "label",
                key,
                value,
            ));
        } else if input.peek(kw::tags) {
            let key = input.parse::<kw::tags>()?.span;
            let value = parse_value(input, errors, tags)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.tags,
                "tags",
                key,
                value,
            ));
        } else if input.peek(kw::batch) {
            let key = input.parse::<kw::batch>()?.span;
            let value = parse_flag("batch", input, errors)?;
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.batch,
                "batch",
                key,
                value,
            ));
        } else if input.peek(Token![crate]) {
            let key = input.parse::<Token![crate]>()?.span;
            input.parse::<Token![=]>()?;
            let value = Some(input.call(Path::parse_mod_style)?);
            errors.check(arg_parse::set_once(
                "cached",
                &mut self.krate,
                "crate",
                key,
                value,
            ));
        } else if input.peek(Ident::peek_any) {
            let name = input.call(Ident::parse_any)?;
            errors.push(KNOWN.unknown(&name));
            skip_to_comma(input)?;
        } else {
            return Err(input.error(format!(
                "expected a `#[cached]` argument, one of {}",
                KNOWN.list()
            )));
        }
        Ok(())
    }
}

/// `ttl = 300` (seconds) or `ttl = "10m"`, as milliseconds.
fn ttl_millis(expr: &Expr) -> Result<u64> {
    duration_millis("ttl", expr)
}

/// `l1_ttl = 5` (seconds) or `l1_ttl = "5s"`, as milliseconds.
fn l1_ttl_millis(expr: &Expr) -> Result<u64> {
    duration_millis("l1_ttl", expr)
}

/// `stale_if_error = "1h"`, as milliseconds.
fn stale_millis(expr: &Expr) -> Result<u64> {
    duration_millis("stale_if_error", expr)
}

/// `soft_timeout = "200ms"`, as milliseconds.
fn soft_timeout_millis(expr: &Expr) -> Result<u64> {
    duration_millis("soft_timeout", expr)
}

/// `refresh = "1m"`, as milliseconds.
fn refresh_millis(expr: &Expr) -> Result<u64> {
    duration_millis("refresh", expr)
}

/// `detach = true`.
fn detach(expr: &Expr) -> Result<bool> {
    arg_parse::boolean("detach", expr)
}

/// `l1 = false`.
fn l1(expr: &Expr) -> Result<bool> {
    arg_parse::boolean("l1", expr)
}

/// `ttl_jitter = 0.1`: a float literal from 0.0 to 1.0, as millionths.
fn ttl_jitter(expr: &Expr) -> Result<u32> {
    let fraction = match literal(expr) {
        Some(Lit::Float(float)) => float.base10_parse::<f64>().ok(),
        Some(Lit::Int(int)) => int.base10_parse::<u8>().ok().map(f64::from),
        _ => None,
    };
    match fraction {
        Some(f) if (0.0..=1.0).contains(&f) => Ok((f * 1_000_000.0).round() as u32),
        _ => Err(Error::new_spanned(
            expr,
            "`ttl_jitter` expects a fraction from 0.0 to 1.0, like `ttl_jitter = 0.1`",
        )),
    }
}

/// `lock = true`.
fn lock(expr: &Expr) -> Result<bool> {
    arg_parse::boolean("lock", expr)
}

/// `compress = false`.
fn compress(expr: &Expr) -> Result<bool> {
    arg_parse::boolean("compress", expr)
}

/// A duration argument: a number of seconds or a string with a unit, as milliseconds.
fn duration_millis(name: &str, expr: &Expr) -> Result<u64> {
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
                     like `{name} = 300` or `{name} = \"5m\"`"
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

/// `namespace = "users"`.
/// `label = "user {id}"`.
fn label(expr: &Expr) -> Result<LitStr> {
    arg_parse::non_empty_str("label", "label = \"user {id}\"", expr)
}

fn namespace(expr: &Expr) -> Result<LitStr> {
    arg_parse::non_empty_str("namespace", "namespace = \"users\"", expr)
}

/// `version = 2`.
fn version(expr: &Expr) -> Result<u32> {
    match literal(expr) {
        Some(Lit::Int(int)) => int
            .base10_parse()
            .map_err(|_| Error::new_spanned(int, "`version` must fit in a `u32`")),
        _ => Err(Error::new_spanned(
            expr,
            "`version` expects an integer literal, like `version = 2`",
        )),
    }
}

/// `cache_none = true`.
fn cache_none(expr: &Expr) -> Result<bool> {
    arg_parse::boolean("cache_none", expr)
}

/// A bare keyword argument such as `batch`: `Some(())`, or `None` after recording an error at
/// the value of `batch = value` or `batch(...)`.
fn parse_flag(name: &str, input: ParseStream<'_>, errors: &mut Errors) -> Result<Option<()>> {
    let message = format!("`{name}` takes no value; write `#[cached({name})]`");
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

/// `skip(a, b, self)`: the names, each at most once.
fn parse_skip(input: ParseStream<'_>, errors: &mut Errors) -> Result<Vec<Ident>> {
    if input.peek(Token![=]) {
        return Err(input.error("`skip` takes a list of parameter names, like `skip(pool, tx)`"));
    }
    let content;
    syn::parenthesized!(content in input);
    let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
    let mut unique: Vec<Ident> = Vec::with_capacity(names.len());
    for name in names {
        if unique.contains(&name) {
            errors.push(Error::new(
                name.span(),
                format!("`skip` names `{name}` twice"),
            ));
        } else {
            unique.push(name);
        }
    }
    Ok(unique)
}

/// The argument names as `syn` keywords.
mod kw {
    syn::custom_keyword!(ttl);
    syn::custom_keyword!(namespace);
    syn::custom_keyword!(key);
    syn::custom_keyword!(skip);
    syn::custom_keyword!(version);
    syn::custom_keyword!(cache);
    syn::custom_keyword!(cache_none);
    syn::custom_keyword!(tags);
    syn::custom_keyword!(label);
    syn::custom_keyword!(l1);
    syn::custom_keyword!(l1_ttl);
    syn::custom_keyword!(lock);
    syn::custom_keyword!(compress);
    syn::custom_keyword!(ttl_jitter);
    syn::custom_keyword!(stale_if_error);
    syn::custom_keyword!(detach);
    syn::custom_keyword!(refresh);
    syn::custom_keyword!(soft_timeout);
    syn::custom_keyword!(batch);
}

#[cfg(test)]
mod tests {
    use super::{parse_duration, KNOWN};
    use crate::arg_parse::edit_distance;

    fn suggestion(written: &str) -> Option<&'static str> {
        KNOWN.suggestion(written)
    }

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

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("tll", "ttl"), 1);
        assert_eq!(suggestion("tll"), Some("ttl"));
        assert_eq!(suggestion("namepsace"), Some("namespace"));
        assert_eq!(suggestion("skipp"), Some("skip"));
        assert_eq!(suggestion("cache_nones"), Some("cache_none"));
        assert_eq!(suggestion("time_to_live"), Some("ttl"));
        assert_eq!(suggestion("foo"), None);
    }
}
