//! Values substituted into tag templates, escaped so one template never gives two calls'
//! different values the same tag.

use std::fmt::{self, Display, Write};

/// A value as a tag template writes it: its `Display` text with every byte other than an
/// ASCII letter, digit, `_`, `-` or `.` written as `%XX` (upper-case hex), `%` included.
///
/// `#[cached(tags = ["org:{o}:user:{u}"])]` and `#[cache_invalidate(tags = [...])]` write
/// every placeholder this way, so the separators of a template only ever come from the
/// template: `o = "a:user:b", u = "c"` gives `org:a%3Auser%3Ab:user:c`, and
/// `o = "a", u = "b:user:c"` gives `org:a:user:b%3Auser%3Ac`, two tags. Ids, numbers,
/// UUIDs and dotted names are written as they are.
///
/// A tag written by hand for [`Cache::invalidate_tag`](crate::Cache::invalidate_tag) or
/// [`Cache::set_with_tags`](crate::Cache::set_with_tags) must escape its values the same way to
/// name the entries a template tagged; `tag_part` does it:
///
/// ```
/// use cache_runtime::tag_part;
/// let (org, user) = ("acme:eu", "jo");
/// let tag = format!("org:{}:user:{}", tag_part(org), tag_part(user));
/// assert_eq!(tag, "org:acme%3Aeu:user:jo");
/// assert_eq!(tag_part(&42u64).to_string(), "42");
/// ```
pub fn tag_part<T: Display + ?Sized>(value: &T) -> TagPart<'_, T> {
    TagPart(value)
}

/// A value escaped for a tag; see [`tag_part`].
#[derive(Clone, Copy)]
pub struct TagPart<'a, T: ?Sized>(&'a T);

impl<T: Display + ?Sized> Display for TagPart<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(Escaping(f), "{}", self.0)
    }
}

impl<T: Display + ?Sized> fmt::Debug for TagPart<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TagPart(\"{self}\")")
    }
}

/// Writes what it is given escaped into the formatter.
struct Escaping<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl Write for Escaping<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        // Kept bytes go out a run at a time (most values are one run). A run is ASCII and
        // lies between escaped bytes, so its ends are character boundaries.
        let mut start = 0;
        for (i, &b) in text.as_bytes().iter().enumerate() {
            if super::is_kept(b) {
                continue;
            }
            if start < i {
                self.0.write_str(text.get(start..i).unwrap_or_default())?;
            }
            self.0.write_char('%')?;
            self.0.write_char(char::from(HEX[usize::from(b >> 4)]))?;
            self.0.write_char(char::from(HEX[usize::from(b & 0xf)]))?;
            start = i + 1;
        }
        self.0.write_str(text.get(start..).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::tag_part;

    #[test]
    fn values_are_escaped() {
        assert_eq!(tag_part("a:user:b").to_string(), "a%3Auser%3Ab");
        assert_eq!(tag_part("100%").to_string(), "100%25");
        assert_eq!(tag_part("é").to_string(), "%C3%A9");
        assert_eq!(tag_part("a b*c").to_string(), "a%20b%2Ac");
        assert_eq!(
            tag_part("550e8400-e29b.v1_x").to_string(),
            "550e8400-e29b.v1_x"
        );
        assert_eq!(tag_part(&-5i32).to_string(), "-5");
        assert_eq!(tag_part("").to_string(), "");
        assert_eq!(tag_part("🔑:").to_string(), "%F0%9F%94%91%3A");
    }

    #[test]
    fn the_issue_example_gives_two_tags() {
        let tag = |o: &str, u: &str| format!("org:{}:user:{}", tag_part(o), tag_part(u));
        assert_ne!(tag("a:user:b", "c"), tag("a", "b:user:c"));
        assert_eq!(tag("a:user:b", "c"), "org:a%3Auser%3Ab:user:c");
        assert_eq!(tag("a", "b:user:c"), "org:a:user:b%3Auser%3Ac");
    }
}
