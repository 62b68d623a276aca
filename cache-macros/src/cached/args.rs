//! The arguments of `#[cached(...)]`, each declared once: its field, name, example, aliases
//! and value form (see [`arguments!`](crate::args::arguments)).

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Expr, Ident, LitStr, Path, Token};

use crate::args::{arguments, skip_to_comma, values, Known};
use crate::errors::Errors;

arguments! {
    /// The parsed `#[cached(...)]` arguments; each is present at most once.
    pub(crate) struct CachedArgs {
        /// `ttl = 300` or `ttl = "10m"`, in milliseconds (always > 0).
        ttl: u64 {
            name: "ttl",
            example: "ttl = \"5m\"",
            aliases: ["time_to_live", "expire", "expires", "ttl_secs"],
            value: assigned(values::duration),
        },
        /// `namespace = "users"` (never empty).
        namespace: LitStr {
            name: "namespace",
            example: "namespace = \"users\"",
            aliases: ["name", "prefix"],
            value: assigned(values::text),
        },
        /// `key = expr`: the only thing fed to the key builder.
        key: Expr {
            name: "key",
            example: "key = (user.id, page)",
            aliases: ["convert"],
            value: expr,
        },
        /// `skip(a, b)`: parameter bindings left out of the key.
        skip: Vec<Ident> {
            name: "skip",
            example: "skip(pool, tx)",
            aliases: ["ignore", "exclude"],
            value: names,
        },
        /// `version = 2`: the schema version of the cached value.
        version: u32 {
            name: "version",
            example: "version = 2",
            value: assigned(values::version),
        },
        /// `cache = expr`: the cache to use instead of the global one.
        cache: Expr {
            name: "cache",
            example: "cache = self.cache",
            value: assigned(values::cache),
        },
        /// `cache_none = true`: cache `None` results of an `Option`-returning fn.
        cache_none: bool {
            name: "cache_none",
            example: "cache_none = true",
            value: assigned(values::boolean),
        },
        /// `tags = ["user:{id}"]`: tag templates (never empty), checked and expanded by `tags`.
        tags: Vec<LitStr> {
            name: "tags",
            example: "tags = [\"user:{id}\"]",
            value: assigned(values::tags),
        },
        /// `label = "user {id}"`: a template like a tag's, the human-readable name of a call's
        /// arguments in the top keys of the namespace's stats.
        label: LitStr {
            name: "label",
            example: "label = \"user {id}\"",
            value: assigned(values::text),
        },
        /// `l1 = false`: keep this fn's entries out of the in-process tier.
        l1: bool {
            name: "l1",
            example: "l1 = false",
            value: assigned(values::boolean),
        },
        /// `l1_ttl = "5s"`: the longest an entry stays in the in-process tier, in milliseconds.
        l1_ttl: u64 {
            name: "l1_ttl",
            example: "l1_ttl = \"5s\"",
            value: assigned(values::duration),
        },
        /// `lock = true`: wait for another process's fill instead of running the body too.
        lock: bool {
            name: "lock",
            example: "lock = true",
            value: assigned(values::boolean),
        },
        /// `compress = false`: store this fn's values uncompressed, whatever their size.
        compress: bool {
            name: "compress",
            example: "compress = false",
            value: assigned(values::boolean),
        },
        /// `ttl_jitter = 0.1`: the fraction of the TTL to shorten entries by at random, in
        /// millionths.
        ttl_jitter: u32 {
            name: "ttl_jitter",
            example: "ttl_jitter = 0.1",
            value: assigned(values::fraction),
        },
        /// `stale_if_error = "1h"`: keep entries this long past their TTL to stand in for an
        /// `Err`, in milliseconds.
        stale_if_error: u64 {
            name: "stale_if_error",
            example: "stale_if_error = \"1h\"",
            value: assigned(values::duration),
        },
        /// `detach = true`: run the body on a spawned task, so a dropped caller does not
        /// cancel the fill (the body must be `Send + 'static`).
        detach: bool {
            name: "detach",
            example: "detach = true",
            value: assigned(values::boolean),
        },
        /// `refresh = "1m"`: on a hit older than this, recompute in the background (implies
        /// `detach`), in milliseconds.
        refresh: u64 {
            name: "refresh",
            example: "refresh = \"1m\"",
            value: assigned(values::duration),
        },
        /// `soft_timeout = "200ms"`: with a stale value at hand, wait at most this for the body
        /// (implies `detach`; needs `stale_if_error`), in milliseconds.
        soft_timeout: u64 {
            name: "soft_timeout",
            example: "soft_timeout = \"200ms\"",
            value: assigned(values::duration),
        },
        /// `batch`: the first parameter is a list of ids, each cached alone.
        batch: () {
            name: "batch",
            example: "batch",
            value: flag,
        },
        /// `crate = path`: where the runtime crate is, when it is renamed.
        krate: Path {
            name: "crate",
            example: "crate = my_cache",
            value: path,
        },
    }
}

/// What `#[cached]` accepts, for the unknown-argument error.
const KNOWN: Known = Known {
    attr: "cached",
    expected: "one of",
    specs: CachedArgs::SPECS,
    only: None,
};

impl CachedArgs {
    /// Parses `tokens`, keeping every argument that parsed even when others did not (so a
    /// failed expansion can still emit the fn's targets), with the errors found.
    ///
    /// A syntax error stops parsing and is the only error reported; argument errors are all
    /// reported together.
    pub(crate) fn parse(tokens: TokenStream) -> (CachedArgs, Errors) {
        let mut args = CachedArgs::default();
        let mut errors = Errors::default();
        let parsed = (|input: ParseStream<'_>| args.parse_all(input, &mut errors)).parse2(tokens);
        if let Err(syntax) = parsed {
            errors = Errors::default();
            errors.push(syntax);
        }
        (args, errors)
    }

    /// Parses every `name = value`, `name(...)` or `name` argument.
    fn parse_all(&mut self, input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<()> {
        while !input.is_empty() {
            if !input.peek(Ident::peek_any) {
                return Err(input.error(format!(
                    "expected a `#[cached]` argument, one of {}",
                    KNOWN.list()
                )));
            }
            let name = input.call(Ident::parse_any)?;
            if !self.parse_named(KNOWN.attr, &name, input, errors)? {
                errors.push(KNOWN.unknown(&name));
                skip_to_comma(input)?;
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::KNOWN;
    use crate::args::edit_distance;

    #[test]
    fn suggestions() {
        assert_eq!(edit_distance("tll", "ttl"), 1);
        assert_eq!(KNOWN.suggestion("tll"), Some("ttl"));
        assert_eq!(KNOWN.suggestion("namepsace"), Some("namespace"));
        assert_eq!(KNOWN.suggestion("skipp"), Some("skip"));
        assert_eq!(KNOWN.suggestion("cache_nones"), Some("cache_none"));
        assert_eq!(KNOWN.suggestion("time_to_live"), Some("ttl"));
        assert_eq!(KNOWN.suggestion("convert"), Some("key"));
        assert_eq!(KNOWN.suggestion("foo"), None);
    }
}
