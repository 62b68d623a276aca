//! Key patterns: `*` is the only wildcard; all other text is literal.
//!
//! Redis SCAN patterns give `?`, `[`, `]` and `\` meaning too. User text is escaped before it
//! reaches Redis, so `clear_pattern("user[1]*")` removes keys starting with `user[1]` and
//! nothing else, and the memory store matches with the same rule.
//!
//! `\*` matches a literal `*` and `\\` a literal `\` (a `\` before anything else matches
//! itself), so keys holding stars can be matched too. A pattern holds at most
//! [`MAX_WILDCARDS`] wildcards: matching costs grow with their number, on the server too.

use std::borrow::Cow;

use crate::error::{Error, Result};

/// The most `*` wildcards one pattern may hold.
pub const MAX_WILDCARDS: usize = 8;

/// A pattern split at its wildcards: the literal text between them, unescaped.
pub(crate) struct Pattern<'a> {
    /// One more than the wildcards: the text before the first, between each, after the last.
    parts: Vec<Cow<'a, str>>,
}

impl<'a> Pattern<'a> {
    /// Splits `text` at its unescaped `*`, whatever their number (see [`check`]).
    pub(crate) fn new(text: &'a str) -> Self {
        let mut parts = Vec::new();
        // The current part: borrowed from `start` while it holds no escape, else `owned`.
        let mut start = 0;
        let mut owned: Option<String> = None;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '*' => {
                    parts.push(match owned.take() {
                        Some(part) => Cow::Owned(part),
                        None => Cow::Borrowed(&text[start..i]),
                    });
                    start = i + 1;
                }
                '\\' if matches!(chars.peek(), Some((_, '*' | '\\'))) => {
                    let part = owned.get_or_insert_with(|| text[start..i].to_owned());
                    if let Some((_, escaped)) = chars.next() {
                        part.push(escaped);
                    }
                }
                c => {
                    if let Some(part) = &mut owned {
                        part.push(c);
                    }
                }
            }
        }
        parts.push(match owned {
            Some(part) => Cow::Owned(part),
            None => Cow::Borrowed(&text[start..]),
        });
        Pattern { parts }
    }

    /// How many wildcards it holds.
    pub(crate) fn wildcards(&self) -> usize {
        self.parts.len() - 1
    }

    /// Whether `text` matches: each wildcard matches any run of characters (also empty),
    /// everything else matches itself.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let Some((first, rest_parts)) = self.parts.split_first() else {
            return text.is_empty();
        };
        let Some(mut rest) = text.strip_prefix(first.as_ref()) else {
            return false;
        };
        let Some((last, middle)) = rest_parts.split_last() else {
            // No wildcard: exact match.
            return rest.is_empty();
        };
        // The leftmost match of each middle part leaves the most room for the rest.
        for part in middle {
            match rest.find(part.as_ref()) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last.as_ref())
    }

    /// A Redis MATCH glob for `{prefix}:{pattern}`: the prefix and every literal part escaped,
    /// the wildcards as `*`.
    #[cfg(feature = "redis")]
    pub(crate) fn redis_glob(&self, prefix: &str) -> String {
        let len: usize = self.parts.iter().map(|p| p.len() + 1).sum();
        let mut out = String::with_capacity(prefix.len() + len + 8);
        escape_literal(prefix, &mut out);
        out.push(':');
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                out.push('*');
            }
            escape_literal(part, &mut out);
        }
        out
    }
}

/// Refuses a pattern with more than [`MAX_WILDCARDS`] wildcards.
///
/// # Errors
/// [`Error::Pattern`] saying how many it holds.
pub(crate) fn check(text: &str) -> Result<()> {
    let wildcards = Pattern::new(text).wildcards();
    if wildcards > MAX_WILDCARDS {
        return Err(Error::Pattern(format!(
            "the pattern holds {wildcards} `*` wildcards, more than the {MAX_WILDCARDS} allowed; \
             write `\\*` for a literal `*`"
        )));
    }
    Ok(())
}

/// Escapes every glob metacharacter of `text` (including `*`) for a Redis pattern.
#[cfg(feature = "redis")]
pub(crate) fn escape_literal(text: &str, out: &mut String) {
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A Redis MATCH pattern for `{prefix}:{pattern}` where only `*` in `pattern` is a wildcard.
#[cfg(feature = "redis")]
pub(crate) fn redis_pattern(prefix: &str, pattern: &str) -> String {
    Pattern::new(pattern).redis_glob(prefix)
}

/// Whether `text` matches `pattern` (see [`Pattern::matches`]).
#[cfg(test)]
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    Pattern::new(pattern).matches(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "redis")]
    fn redis_patterns_escape_everything_but_star() {
        assert_eq!(redis_pattern("cache", "users:*"), "cache:users:*");
        assert_eq!(redis_pattern("c*", "a?b[c]\\*"), "c\\*:a\\?b\\[c\\]\\*");
        assert_eq!(redis_pattern("c", "a\\x*"), "c:a\\\\x*");
        assert_eq!(redis_pattern("c", "a\\\\*"), "c:a\\\\*");
    }

    #[test]
    fn literal_matching() {
        assert!(matches("users:*", "users:v1.0:abc"));
        assert!(!matches("users:*", "user:v1"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "a-b-c"));
        assert!(matches("a*b*c", "abc"));
        assert!(!matches("a*b*c", "ab"));
        assert!(matches("a?[x]", "a?[x]"));
        assert!(!matches("a?", "ab"));
        assert!(matches("ab*ab", "abab"));
        assert!(!matches("ab*ab", "aba"));
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exact2"));
    }

    #[test]
    fn escaped_stars_and_backslashes_are_literal() {
        assert!(matches("a\\*b", "a*b"));
        assert!(!matches("a\\*b", "axb"));
        assert!(matches("a\\**", "a*xyz"));
        assert!(!matches("a\\**", "axyz"));
        assert!(matches("a\\\\*", "a\\xyz"));
        assert!(!matches("a\\\\*", "axyz"));
        // A backslash before anything else matches itself.
        assert!(matches("a\\b", "a\\b"));
        assert!(matches("a\\", "a\\"));
        assert_eq!(Pattern::new("a\\*b\\*c").wildcards(), 0);
        assert_eq!(Pattern::new("a\\\\*b").wildcards(), 1);
    }

    #[test]
    fn wildcards_are_bounded() {
        assert!(check(&"a*".repeat(MAX_WILDCARDS)).is_ok());
        assert!(check(&"a\\*".repeat(100)).is_ok());
        match check(&"*".repeat(MAX_WILDCARDS + 1)) {
            Err(Error::Pattern(message)) => assert_eq!(
                message,
                "the pattern holds 9 `*` wildcards, more than the 8 allowed; write `\\*` for a \
                 literal `*`"
            ),
            other => unreachable!("{other:?}"),
        }
    }
}
