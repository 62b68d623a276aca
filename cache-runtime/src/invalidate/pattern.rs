//! Key patterns: only `*` is a wildcard; all other text is literal.
//!
//! Redis SCAN patterns give `?`, `[`, `]` and `\` meaning too. User text is escaped before it
//! reaches Redis, so `clear_pattern("user[1]*")` removes keys starting with `user[1]` and
//! nothing else, and the memory store matches with the same rule.

/// Escapes every glob metacharacter of `text` (including `*`) for a Redis pattern.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn escape_literal(text: &str, out: &mut String) {
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A Redis MATCH pattern for `{prefix}:{pattern}` where only `*` in `pattern` is a wildcard.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn redis_pattern(prefix: &str, pattern: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + pattern.len() + 8);
    escape_literal(prefix, &mut out);
    out.push(':');
    for (i, part) in pattern.split('*').enumerate() {
        if i > 0 {
            out.push('*');
        }
        escape_literal(part, &mut out);
    }
    out
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (also empty)
/// and everything else matches itself.
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return text.is_empty();
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        // No `*` at all: exact match.
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_patterns_escape_everything_but_star() {
        assert_eq!(redis_pattern("cache", "users:*"), "cache:users:*");
        assert_eq!(redis_pattern("c*", "a?b[c]\\*"), "c\\*:a\\?b\\[c\\]\\\\*");
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
}
