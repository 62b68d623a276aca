//! Passwords out of Redis URLs, before a URL goes into a message, `Debug` or a log.

/// Removes passwords from a Redis URL before it goes into a message: the user info up to
/// the last `@` (even when an unencoded `/`, `?` or `#` in the password ends the URL's
/// authority early), and `pass=`/`password=` query parameters (unix-socket URLs).
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return if url.contains('@') {
            "***".to_owned()
        } else {
            url.to_owned()
        };
    };
    let mut out = format!("{scheme}://");
    let after = match rest.rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.split_once(':') {
                Some((user, _)) if !user.contains(['/', '?', '#']) => {
                    out.push_str(user);
                    out.push_str(":***@");
                }
                _ => out.push_str("***@"),
            }
            &rest[at + 1..]
        }
        None => rest,
    };
    match after.split_once('?') {
        Some((path, query)) => {
            out.push_str(path);
            out.push('?');
            let params: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _))
                        if k.eq_ignore_ascii_case("pass") || k.eq_ignore_ascii_case("password") =>
                    {
                        format!("{k}=***")
                    }
                    _ => kv.to_owned(),
                })
                .collect();
            out.push_str(&params.join("&"));
        }
        None => out.push_str(after),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("redis://user:s3cret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact_url("redis://:s3cret@host"), "redis://:***@host");
        assert_eq!(redact_url("redis://s3cret@host"), "redis://***@host");
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
        assert_eq!(redact_url("not a url"), "not a url");
        // Unencoded `/`, `?`, `#` in the password end the authority early for a URL parser;
        // the redaction still takes everything up to the last `@`.
        assert_eq!(
            redact_url("redis://alice:pw/x@127.0.0.1:1"),
            "redis://alice:***@127.0.0.1:1"
        );
        assert_eq!(
            redact_url("redis://alice:pw?x@127.0.0.1:1"),
            "redis://alice:***@127.0.0.1:1"
        );
        assert_eq!(
            redact_url("redis://alice:pw#x@127.0.0.1:1"),
            "redis://alice:***@127.0.0.1:1"
        );
        assert_eq!(redact_url("rediss://u:p%40w@h:1/2"), "rediss://u:***@h:1/2");
        // Unix sockets take the password as a query parameter.
        assert_eq!(
            redact_url("redis+unix:///tmp/r.sock?pass=pw"),
            "redis+unix:///tmp/r.sock?pass=***"
        );
        assert_eq!(
            redact_url("unix:///tmp/r.sock?db=1&pass=pw&user=u"),
            "unix:///tmp/r.sock?db=1&pass=***&user=u"
        );
    }
}
