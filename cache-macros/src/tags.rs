//! The template language of `tags = ["user:{id}", ...]`: text with `{name}` or
//! `{name.field.field}` placeholders, and `{{` / `}}` for literal braces.
//!
//! `valid` reports a template that does not parse or names an unknown binding; `key` turns a
//! parsed template into a `format!` call.

use syn::ext::IdentExt;
use syn::parse::Parser;
use syn::{Error, Ident, LitStr};

use crate::errors::Errors;

/// One piece of a tag template.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Text copied as is (braces already unescaped).
    Text(String),
    /// `{root.field.field}`: a parameter binding (or `self`) and a field access chain on it.
    Placeholder {
        /// The placeholder as written, without braces (`user.org_id`), for messages.
        written: String,
        /// The binding: a parameter name or `self`.
        root: Ident,
        /// The fields accessed on it, in order.
        fields: Vec<Ident>,
    },
}

/// Parses `template`; the error says what is malformed, to follow "malformed tag \"...\": ".
pub(crate) fn parse(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '}' => {
                return Err("unmatched `}`; write `}}` for a literal `}`".to_owned());
            }
            '{' => {
                let mut written = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('{') | None => {
                            return Err("unclosed `{`; end the placeholder with `}`, \
                                        or write `{{` for a literal `{`"
                                .to_owned());
                        }
                        Some(c) => written.push(c),
                    }
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(placeholder(written)?);
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(pieces)
}

/// `{written}` as a binding and a field chain, or why it is not one.
fn placeholder(written: String) -> Result<Piece, String> {
    if written.is_empty() {
        return Err("empty placeholder `{}`; name a parameter, like `{id}`".to_owned());
    }
    let not_a_path = || {
        format!(
            "placeholder `{{{written}}}` is not a parameter name or a field path \
             like `{{user.id}}`"
        )
    };
    let mut segments = written.split('.');
    let root = segments
        .next()
        .and_then(|first| segment(first, true))
        .ok_or_else(not_a_path)?;
    let fields = segments
        .map(|field| segment(field, false))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(not_a_path)?;
    Ok(Piece::Placeholder {
        written,
        root,
        fields,
    })
}

/// One segment of a placeholder: a plain identifier that is not a keyword (`self` is allowed
/// as the root).
fn segment(text: &str, is_root: bool) -> Option<Ident> {
    // `parse_str` would skip whitespace and comments; allow identifier characters only.
    if text.is_empty() || !text.chars().all(|c| c == '_' || c.is_alphanumeric()) {
        return None;
    }
    if is_root && text == "self" {
        return Ident::parse_any.parse_str(text).ok();
    }
    syn::parse_str::<Ident>(text).ok()
}

/// Checks every template in `tags`: it must parse, and each placeholder must start at one of
/// `bindings` or at `self` when `has_self`. Errors point at the tag's string literal and name
/// `function`, the fn whose parameters the placeholders refer to.
///
/// A tag must also name one set of values: two placeholders need text between them that a
/// value never holds once escaped (see [`ambiguity`]).
pub(crate) fn check(
    tags: &[LitStr],
    bindings: &[&Ident],
    has_self: bool,
    function: &Ident,
    errors: &mut Errors,
) {
    check_templates("tag", tags, bindings, has_self, function, errors);
    for tag in tags {
        let template = tag.value();
        if let Some(problem) = parse(&template)
            .ok()
            .and_then(|pieces| ambiguity(&template, &pieces))
        {
            errors.push(Error::new_spanned(tag, problem));
        }
    }
}

/// Why `pieces` could give two calls' different values the same tag, if they could.
///
/// The runtime writes each placeholder value with letters, digits, `_`, `-`, `.` and `%XX`
/// escapes only (`tag_part`). A template whose placeholders are each followed, before the
/// next one, by a character outside that set is injective: the first such character after a
/// value ends it. Between adjacent placeholders, or placeholders separated by text of that
/// set only (`{a}{b}`, `{a}-{b}`), a value's end cannot be told.
fn ambiguity(template: &str, pieces: &[Piece]) -> Option<String> {
    let mut open: Option<&str> = None;
    for piece in pieces {
        match piece {
            Piece::Text(text) => {
                let separates = text
                    .chars()
                    .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '%')));
                if separates {
                    open = None;
                }
            }
            Piece::Placeholder { written, .. } => {
                if let Some(before) = open {
                    return Some(format!(
                        "ambiguous tag {template:?}: separate `{{{before}}}` and `{{{written}}}` \
                         with a character such as `:` or `/`; placeholder values are written \
                         with letters, digits, `_`, `-`, `.` and `%`, so text of those alone \
                         cannot tell where one value ends"
                    ));
                }
                open = Some(written);
            }
        }
    }
    None
}

/// [`check`] for templates of another kind (`what`: `"tag"`, `"label"`) in messages.
pub(crate) fn check_templates(
    what: &str,
    tags: &[LitStr],
    bindings: &[&Ident],
    has_self: bool,
    function: &Ident,
    errors: &mut Errors,
) {
    for tag in tags {
        let template = tag.value();
        let pieces = match parse(&template) {
            Ok(pieces) => pieces,
            Err(problem) => {
                errors.push(Error::new_spanned(
                    tag,
                    format!("malformed {what} {template:?}: {problem}"),
                ));
                continue;
            }
        };
        for piece in &pieces {
            let Piece::Placeholder { written, root, .. } = piece else {
                continue;
            };
            let is_self = root == "self" && has_self;
            if !is_self && !bindings.contains(&root) {
                errors.push(Error::new_spanned(
                    tag,
                    format!(
                        "unknown placeholder `{{{written}}}` in {what} {template:?}; \
                         `{function}` has no parameter `{root}`"
                    ),
                ));
            }
        }
    }
}

/// `text` as a `format!` string: braces doubled.
pub(crate) fn escape(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

#[cfg(test)]
mod tests {
    use super::{parse, Piece};

    /// The template with placeholders shown as `<written>`, or the error.
    fn shown(template: &str) -> Result<String, String> {
        let pieces = parse(template)?;
        Ok(pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.clone(),
                Piece::Placeholder { written, .. } => format!("<{written}>"),
            })
            .collect())
    }

    #[test]
    fn parses() {
        assert_eq!(shown("user:{id}"), Ok("user:<id>".to_owned()));
        assert_eq!(
            shown("org:{user.org_id}"),
            Ok("org:<user.org_id>".to_owned())
        );
        assert_eq!(
            shown("{self.tenant}/{a}{b}"),
            Ok("<self.tenant>/<a><b>".to_owned())
        );
        assert_eq!(shown("static-tag"), Ok("static-tag".to_owned()));
        assert_eq!(
            shown("braces:{{literal}}"),
            Ok("braces:{literal}".to_owned())
        );
        assert_eq!(shown("{{{id}}}"), Ok("{<id>}".to_owned()));
        assert_eq!(shown("ünï:{ünï}"), Ok("ünï:<ünï>".to_owned()));
        assert_eq!(shown(""), Ok(String::new()));
    }

    #[test]
    fn ambiguous_templates() {
        let problem = |template: &str| super::ambiguity(template, &parse(template).ok()?);
        for fine in [
            "org:{o}:user:{u}",
            "{a}/{b}",
            "{a}x:{b}",
            "{a}",
            "{a}-x",
            "x-{a}",
            "user:{id}",
            "{a} {b}",
            "{a}{{{b}",
        ] {
            assert_eq!(problem(fine), None, "{fine:?}");
        }
        for bad in [
            "{a}{b}",
            "{a}-{b}",
            "{a}x{b}",
            "{a}.{b}",
            "{a}%{b}",
            "x:{a}_{b}:y",
        ] {
            assert!(problem(bad).is_some(), "{bad:?}");
        }
        assert_eq!(
            problem("{a}-{b}").as_deref(),
            Some(
                "ambiguous tag \"{a}-{b}\": separate `{a}` and `{b}` with a character such as \
                 `:` or `/`; placeholder values are written with letters, digits, `_`, `-`, `.` \
                 and `%`, so text of those alone cannot tell where one value ends"
            )
        );
    }

    #[test]
    fn rejects() {
        for bad in [
            "{id", "a{b{c}}", "}", "a}b", "{}", "{ id }", "{id:?}", "{a..b}", "{a.}", "{.a}",
            "{0}", "{a.0}", "{type}", "{a.self}", "{_}", "{r#type}", "{a/*x*/}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
