//! Hostile input: glob and separator characters, control bytes, NUL, unicode look-alikes,
//! empty and 1 MB strings, as `#[cached]` arguments, namespaces, patterns, tags and keys.
//!
//! Arguments are hashed, so a key never carries their text and always has one length;
//! namespaces and tags are escaped and patterns only know `*`, so user text never widens a
//! deletion or reaches into another namespace or tag.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cached, key_for, Cache, CacheKey};

use crate::fixture::{Counts, Fixture};

const MB: usize = 1 << 20;

/// The hostile strings every check here runs over: each glob metacharacter, the key
/// separator, cluster hash-tag braces, line breaks, NUL, the empty string, unicode that
/// looks alike but differs in bytes (combining vs precomposed), right-to-left text and its
/// override character, emoji (also a ZWJ sequence), near-miss shapes of one another, and
/// 1 MB strings.
pub fn hostile_inputs() -> Vec<String> {
    let mut inputs: Vec<String> = [
        "*",
        "?",
        "[",
        "]",
        "\\",
        ":",
        "{",
        "}",
        "\n",
        "\r",
        "\r\n",
        "\0",
        "a\0b",
        "",
        " ",
        "e\u{301}",
        "\u{e9}",
        "\u{202e}cba",
        "שלום",
        "🔑",
        "👨\u{200d}👩\u{200d}👧",
        "a*",
        "ab",
        "a",
        "a:b",
        ":b",
        "a?",
        "a[b]",
        "[a-z]",
        "\\*",
        "%2A",
        "{a}:b",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    inputs.push("x".repeat(MB));
    inputs.push(format!("{}*", "x".repeat(MB)));
    inputs.push("é".repeat(MB / 2));
    inputs
}

/// [`hostile_inputs`] without the 1 MB ones.
pub fn short_hostile_inputs() -> Vec<String> {
    let mut inputs = hostile_inputs();
    inputs.retain(|s| s.len() < 1024);
    inputs
}

/// A short label of an input for assertion messages (never the 1 MB text itself).
fn label(s: &str) -> String {
    if s.len() > 40 {
        let start: String = s.chars().take(4).collect();
        format!("<{} bytes starting {start:?}>", s.len())
    } else {
        format!("{s:?}")
    }
}

fn runs(calls: &AtomicUsize) -> usize {
    calls.load(SeqCst)
}

#[cached(namespace = "hostile.args", cache = cache, skip(cache, calls))]
async fn echo(text: String, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    text
}

#[cached(namespace = "hostile.pair", cache = cache, skip(cache, calls))]
async fn pair(a: String, b: String, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    format!("{a}|{b}")
}

/// The head every `hostile.args` key starts with (namespace, version, value type).
fn head_of(key: &CacheKey) -> &str {
    let text = key.as_str();
    &text[..text.len() - 32]
}

/// Asserts `key` reads `{head}{32 lowercase hex digits}` and nothing else.
fn assert_digest_key(key: &CacheKey, head: &str, input: &str) {
    let text = key.as_str();
    assert_eq!(
        text.len(),
        head.len() + 32,
        "key of {} is {} bytes",
        label(input),
        text.len()
    );
    assert!(text.starts_with(head), "key of {}: {text}", label(input));
    assert!(
        text[head.len()..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "digest of {}: {text}",
        label(input)
    );
}

/// `#[cached]` `String` arguments never reach the key: every hostile input gets a key of
/// the same length, made of the namespace head and a hex digest only; no two share an
/// entry (each value comes back as written), and the second round is all hits.
pub async fn cached_string_args_are_hashed(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    let inputs = hostile_inputs();
    let n = inputs.len();
    let keys: Vec<CacheKey> = inputs
        .iter()
        .map(|s| key_for::<String>("hostile.args", 1, &(s.as_str(),)).unwrap())
        .collect();
    let head = head_of(&keys[0]).to_owned();
    assert!(head.starts_with("hostile.args:v1."), "{head}");
    assert_eq!(head.len(), "hostile.args:v1.".len() + 8 + 1);
    for (key, input) in keys.iter().zip(&inputs) {
        assert_digest_key(key, &head, input);
        // Only the namespace's letters, `.`, `:` and hex digits: none of the hostile text.
        assert!(
            key.as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._:".contains(&b)),
            "{}",
            key.as_str()
        );
    }
    let distinct: HashSet<&CacheKey> = keys.iter().collect();
    assert_eq!(distinct.len(), n, "two hostile arguments share a key");

    let before = fx.counts();
    for input in &inputs {
        assert_eq!(
            &echo(input.clone(), c, &calls).await,
            input,
            "{}",
            label(input)
        );
    }
    assert_eq!(runs(&calls), n);
    for input in &inputs {
        assert_eq!(
            &echo(input.clone(), c, &calls).await,
            input,
            "{}",
            label(input)
        );
    }
    assert_eq!(runs(&calls), n);
    assert_eq!(
        fx.counts().since(before),
        Counts::calls(n as u64, n as u64, n as u64)
    );
    for key in &keys {
        fx.assert_stored(key.as_str()).await;
    }
    if fx.on_redis() {
        // Exactly these keys, each `{prefix}:` + the fixed-length key.
        let mut want: Vec<String> = keys.iter().map(|k| k.as_str().to_owned()).collect();
        want.sort();
        assert_eq!(fx.stored_keys().await, want);
        let longest = fx.raw_keys().await.iter().map(String::len).max();
        assert_eq!(longest, Some(fx.prefix.len() + 1 + head.len() + 32));
    }
}

/// Two hostile `String` arguments split at different places, or swapped, are different
/// entries: `("a:", "b")` is not `("a", ":b")`, `("*", "")` is not `("", "*")`.
pub async fn cached_hostile_pairs_keep_boundaries(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    let big = "x".repeat(MB);
    let pairs: Vec<(String, String)> = [
        ("a:", "b"),
        ("a", ":b"),
        ("a:b", ""),
        ("", "a:b"),
        ("*", ""),
        ("", "*"),
        ("\0", ""),
        ("", "\0"),
        ("\0", "\0"),
        ("\r", "\n"),
        ("\r\n", ""),
        ("[", "]"),
        ("[]", ""),
        ("", ""),
        ("e\u{301}", ""),
        ("e", "\u{301}"),
        ("\u{e9}", ""),
    ]
    .iter()
    .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
    .chain([
        (big.clone(), String::new()),
        (String::new(), big.clone()),
        (big[1..].to_owned(), "x".to_owned()),
    ])
    .collect();
    let n = pairs.len();
    let keys: HashSet<CacheKey> = pairs
        .iter()
        .map(|(a, b)| key_for::<String>("hostile.pair", 1, &(a.as_str(), b.as_str())).unwrap())
        .collect();
    assert_eq!(keys.len(), n, "two argument pairs share a key");
    for key in &keys {
        assert_eq!(key.as_str().len(), "hostile.pair:v1.".len() + 8 + 1 + 32);
    }
    for _round in 0..2 {
        for (a, b) in &pairs {
            assert_eq!(
                pair(a.clone(), b.clone(), c, &calls).await,
                format!("{a}|{b}"),
                "({}, {})",
                label(a),
                label(b)
            );
        }
    }
    assert_eq!(runs(&calls), n);
    assert_eq!(fx.counts(), Counts::calls(n as u64, n as u64, n as u64));
}

/// The namespaces [`clear_namespace_is_literal`] writes, ordered so that each one that
/// looks like a wider match of a later one comes first (`"a*"` before `"ab"`, `"a"` before
/// `"a:b"` and `":b"`), then checked again in reverse.
fn hostile_namespaces() -> Vec<String> {
    let mut namespaces = hostile_inputs();
    // `::` folds to `.` (a Rust path); `a::b` is `a.b` by design, so keep only one of them.
    namespaces.push("a.b".to_owned());
    namespaces.push("#tag".to_owned());
    namespaces
}

/// Writes three entries (two arguments at version 1, one at version 2) in every namespace.
async fn fill_namespaces(c: &Cache, namespaces: &[String]) -> Vec<[CacheKey; 3]> {
    let mut all = Vec::new();
    for (i, ns) in namespaces.iter().enumerate() {
        let keys = [
            key_for::<u64>(ns, 1, &(1u64,)).unwrap(),
            key_for::<u64>(ns, 1, &(2u64,)).unwrap(),
            key_for::<u64>(ns, 2, &(1u64,)).unwrap(),
        ];
        for key in &keys {
            c.set(key, &(i as u64), None).await.unwrap();
        }
        all.push(keys);
    }
    all
}

/// Manual keys that contain a hostile namespace's raw text; no namespace clear may reach them.
const BYSTANDERS: [&str; 8] = ["*", "*:1", "a*:1", "?:1", "[:1", "\\:1", "{:1", "#tag:x"];

/// `clear_namespace(hostile)` deletes exactly the three entries of that namespace, every
/// version, and nothing of any other namespace: `"a*"` leaves `"ab"`, `"a"` leaves `"a:b"`
/// and `":b"`, `"?"` leaves `"a"`, `""` leaves everything else; the same in reverse order.
/// Manual keys holding the raw namespace text (`"*:1"`) are never touched.
pub async fn clear_namespace_is_literal(fx: &Fixture) {
    let c = &fx.cache;
    for key in BYSTANDERS {
        c.set(key, &0u64, None).await.unwrap();
    }
    let namespaces = hostile_namespaces();
    for reverse in [false, true] {
        let keys = fill_namespaces(c, &namespaces).await;
        let mut order: Vec<usize> = (0..namespaces.len()).collect();
        if reverse {
            order.reverse();
        }
        for (step, &i) in order.iter().enumerate() {
            let ns = &namespaces[i];
            assert_eq!(
                c.clear_namespace(ns).await.unwrap(),
                3,
                "clear_namespace({})",
                label(ns)
            );
            for key in &keys[i] {
                fx.assert_not_stored(key.as_str()).await;
            }
            for &j in &order[step + 1..] {
                for (v, key) in keys[j].iter().enumerate() {
                    assert_eq!(
                        c.get::<u64>(key).await.unwrap(),
                        Some(j as u64),
                        "entry {v} of {} after clear_namespace({})",
                        label(&namespaces[j]),
                        label(ns)
                    );
                }
            }
            if fx.on_redis() {
                let left = order.len() - step - 1;
                assert_eq!(
                    fx.stored_keys().await.len(),
                    3 * left + BYSTANDERS.len(),
                    "after clear_namespace({})",
                    label(ns)
                );
            }
        }
    }
    for key in BYSTANDERS {
        assert_eq!(c.get::<u64>(key).await.unwrap(), Some(0), "{key:?}");
    }
    assert_eq!(fx.counts().errors, 0);
}

/// `a::b` and `a.b` are one namespace (a Rust path folds `::` to `.`, as documented);
/// every other spelling with `:` is its own.
pub async fn path_separator_folds_only_double_colons(fx: &Fixture) {
    let c = &fx.cache;
    let key = |ns: &str| key_for::<u64>(ns, 1, &(1u64,)).unwrap();
    assert_eq!(key("a::b"), key("a.b"));
    for ns in ["a:b", "a:::b", "a.:b", "a:.b"] {
        assert_ne!(key(ns), key("a.b"), "{ns:?}");
    }
    c.set(key("a.b"), &1u64, None).await.unwrap();
    c.set(key("a:b"), &2u64, None).await.unwrap();
    c.set(key("a:::b"), &3u64, None).await.unwrap();
    assert_eq!(c.clear_namespace("a::b").await.unwrap(), 1);
    assert_eq!(c.get::<u64>(key("a.b")).await.unwrap(), None);
    assert_eq!(c.get::<u64>(key("a:b")).await.unwrap(), Some(2));
    assert_eq!(c.get::<u64>(key("a:::b")).await.unwrap(), Some(3));
    assert_eq!(c.clear_namespace("a:").await.unwrap(), 0);
    assert_eq!(c.clear_namespace("a:::b").await.unwrap(), 1);
    assert_eq!(c.get::<u64>(key("a:b")).await.unwrap(), Some(2));
}

/// In `clear_pattern`, only `*` is a wildcard: `?`, `[`, `]`, `\`, `{`, `}`, line breaks and
/// NUL match themselves, and unicode matches byte for byte (no normalization).
pub async fn clear_pattern_metacharacters_are_literal(fx: &Fixture) {
    let c = &fx.cache;
    let big = "x".repeat(MB);
    let keys: Vec<String> = [
        "k?",
        "kx",
        "k[ab]",
        "ka",
        "kb",
        "k[",
        "k]",
        "k\\",
        "k\\x",
        "k\\*",
        "k*",
        "k{a}",
        "ka}",
        "k\n",
        "k\r",
        "k\0",
        "k\0z",
        "k",
        "e\u{301}1",
        "\u{e9}1",
        "\u{e9}2",
    ]
    .iter()
    .map(|k| (*k).to_owned())
    .chain([big.clone(), format!("{big}y")])
    .collect();
    for (i, key) in keys.iter().enumerate() {
        c.set(key, &i, None).await.unwrap();
    }
    let live = |c: &Cache, keys: &[String]| {
        let c = c.clone();
        let keys = keys.to_vec();
        async move {
            let got = c.get_many::<usize, _>(&keys).await.unwrap();
            keys.into_iter()
                .zip(got)
                .filter_map(|(k, v)| v.map(|_| k))
                .collect::<HashSet<String>>()
        }
    };
    // (pattern, the keys it deletes)
    let steps: Vec<(String, Vec<&str>)> = vec![
        ("k?".into(), vec!["k?"]),
        ("k[ab]".into(), vec!["k[ab]"]),
        ("k[".into(), vec!["k["]),
        ("k]".into(), vec!["k]"]),
        ("k\\".into(), vec!["k\\"]),
        // `\*` is a literal star, `\\` a literal backslash.
        ("k\\*".into(), vec!["k*"]),
        ("k\\\\*".into(), vec!["k\\x", "k\\*"]),
        ("k{a}".into(), vec!["k{a}"]),
        ("k\n".into(), vec!["k\n"]),
        ("k\0".into(), vec!["k\0"]),
        ("k\0*".into(), vec!["k\0z"]),
        ("\u{e9}*".into(), vec!["\u{e9}1", "\u{e9}2"]),
        ("e\u{301}*".into(), vec!["e\u{301}1"]),
        (big.clone(), vec![big.as_str()]),
        ("kx*y".into(), vec![]),
        ("*?".into(), vec![]),
        ("*[*".into(), vec![]),
    ];
    let mut alive: HashSet<String> = keys.iter().cloned().collect();
    for (pattern, doomed) in &steps {
        assert_eq!(
            c.clear_pattern(pattern).await.unwrap(),
            doomed.len() as u64,
            "clear_pattern({})",
            label(pattern)
        );
        for key in doomed {
            assert!(alive.remove(*key), "{}", label(key));
        }
        assert_eq!(
            live(c, &keys).await,
            alive,
            "after clear_pattern({})",
            label(pattern)
        );
    }
    // What is left: "kx", "ka", "kb", "ka}", "k\r", "k", and the 1 MB key ending in `y`.
    assert_eq!(alive.len(), 7);
    assert_eq!(c.clear_pattern("*y").await.unwrap(), 1);
    assert_eq!(c.clear_pattern("k*").await.unwrap(), 6);
    assert_eq!(live(c, &keys).await, HashSet::new());
    assert_eq!(fx.counts().errors, 0);
}

#[cached(namespace = "hostile.tagged", tags = ["t:{text}"], cache = cache, skip(cache, calls))]
async fn tagged(text: String, cache: &Cache, calls: &AtomicUsize) -> usize {
    calls.fetch_add(1, SeqCst);
    text.len()
}

/// `invalidate_tag(hostile)` drops exactly the entries recorded under that tag: `"t*"`
/// leaves `"tx"`, `"t:"` leaves `"t::"`, `""` leaves everything else; tags formatted by
/// `#[cached(tags = ...)]` from hostile arguments too.
pub async fn invalidate_tag_is_literal(fx: &Fixture) {
    let c = &fx.cache;
    // The 1 MB inputs are left to `huge_tag_keeps_entry_keys_fixed`: one write under a 1 MB
    // tag sends its index name four times (ZADD, ZREMRANGEBYSCORE, 2 PEXPIRE), so dozens of
    // them would only measure the operation timeout.
    let mut tags = short_hostile_inputs();
    tags.extend(["t*", "tx", "t", "t:", "t::", "t:x", "t::x", "#tag:t"].map(String::from));
    // Two entries per tag, and one entry under every tag at once.
    for (i, tag) in tags.iter().enumerate() {
        for j in 0..2 {
            c.set_with_tags(format!("e:{i}:{j}"), &i, None, &[tag.as_str()])
                .await
                .unwrap();
        }
    }
    let every: Vec<&str> = tags.iter().map(String::as_str).collect();
    c.set_with_tags("e:all", &0usize, None, &every)
        .await
        .unwrap();
    let entry = |i: usize, j: usize| format!("e:{i}:{j}");
    for (i, tag) in tags.iter().enumerate() {
        // The first tag also takes "e:all".
        let want = if i == 0 { 3 } else { 2 };
        assert_eq!(
            c.invalidate_tag(tag).await.unwrap(),
            want,
            "invalidate_tag({})",
            label(tag)
        );
        for j in 0..2 {
            assert_eq!(c.get::<usize>(entry(i, j)).await.unwrap(), None);
        }
        for (k, other) in tags.iter().enumerate().skip(i + 1) {
            for j in 0..2 {
                assert_eq!(
                    c.get::<usize>(entry(k, j)).await.unwrap(),
                    Some(k),
                    "tag {} after invalidate_tag({})",
                    label(other),
                    label(tag)
                );
            }
        }
    }
    assert_eq!(fx.counts().errors, 0);

    // Tags formatted from hostile arguments.
    let calls = AtomicUsize::new(0);
    let inputs = short_hostile_inputs();
    for input in &inputs {
        assert_eq!(tagged(input.clone(), c, &calls).await, input.len());
    }
    assert_eq!(runs(&calls), inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        assert_eq!(
            c.invalidate_tag(&format!("t:{input}")).await.unwrap(),
            1,
            "tag of {}",
            label(input)
        );
        // The next call of this input runs again; every later input is still a hit.
        for later in &inputs[i + 1..] {
            let key = key_for::<usize>("hostile.tagged", 1, &(later.as_str(),)).unwrap();
            fx.assert_stored(key.as_str()).await;
        }
    }
    assert_eq!(runs(&calls), inputs.len());
    assert_eq!(fx.counts().errors, 0);
}

/// Manual keys made of hostile text round-trip through every manual operation, each its own
/// entry, stored verbatim as `{prefix}:{key}` on Redis; unicode look-alikes stay apart.
pub async fn manual_hostile_keys_round_trip(fx: &Fixture) {
    let c = &fx.cache;
    let keys = hostile_inputs();
    for (i, key) in keys.iter().enumerate() {
        c.set(key, &i, None).await.unwrap();
    }
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(
            c.get::<usize>(key).await.unwrap(),
            Some(i),
            "{}",
            label(key)
        );
        assert!(c.exists(key).await.unwrap(), "{}", label(key));
        assert!(c
            .expire(key, std::time::Duration::from_secs(600))
            .await
            .unwrap());
        let ttl = c.ttl(key).await.unwrap().unwrap();
        assert!(ttl > std::time::Duration::from_secs(590), "{ttl:?}");
    }
    if fx.on_redis() {
        // Verbatim: the raw Redis keys are exactly `{prefix}:` + each key's bytes.
        let mut want: Vec<String> = keys.clone();
        want.sort();
        assert_eq!(fx.stored_keys().await, want);
    }
    let got = c.get_many::<usize, _>(&keys).await.unwrap();
    assert_eq!(got, (0..keys.len()).map(Some).collect::<Vec<_>>());
    // Deleting one key never deletes another: the look-alikes first.
    for (i, key) in keys.iter().enumerate() {
        assert!(c.delete(key).await.unwrap(), "{}", label(key));
        let left = c.get_many::<usize, _>(&keys[i + 1..]).await.unwrap();
        assert_eq!(left, (i + 1..keys.len()).map(Some).collect::<Vec<_>>());
    }
    assert_eq!(c.delete_many(&keys).await.unwrap(), 0);
    assert_eq!(fx.counts().errors, 0);
}

/// A 1 MB tag does not lengthen the keys of the entries recorded under it: they stay the
/// fixed-length digest keys. (The tag's own index key on Redis is checked by
/// `huge_namespace_and_tag_sizes`.)
pub async fn huge_tag_keeps_entry_keys_fixed(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    let huge = "y".repeat(MB);
    assert_eq!(tagged(huge.clone(), c, &calls).await, MB);
    assert_eq!(tagged(huge.clone(), c, &calls).await, MB);
    assert_eq!(runs(&calls), 1);
    let key = key_for::<usize>("hostile.tagged", 1, &(huge.as_str(),)).unwrap();
    assert_eq!(key.as_str().len(), "hostile.tagged:v1.".len() + 8 + 1 + 32);
    fx.assert_stored(key.as_str()).await;
    assert_eq!(c.invalidate_tag(&format!("t:{huge}")).await.unwrap(), 1);
    fx.assert_not_stored(key.as_str()).await;
    assert_eq!(tagged(huge, c, &calls).await, MB);
    assert_eq!(runs(&calls), 2);
}

/// How big keys get for a 1 MB namespace and a 1 MB tag: names longer than 128 escaped
/// bytes are shortened to at most 64 readable bytes, `~` and a 32-hex digest, so entry keys
/// and a tag's index on Redis (`{prefix}#tag:{escaped tag}`) stay small whatever the text.
pub async fn huge_namespace_and_tag_sizes(fx: &Fixture) {
    let c = &fx.cache;
    let fixed = ":v1.".len() + 8 + 1 + 32;
    for (ns, head) in [("n".repeat(MB), 64), ("é".repeat(MB / 2), 63)] {
        let escaped = cache_runtime::key::escape_namespace(&ns);
        assert_eq!(escaped.len(), head + 1 + 32);
        let key = key_for::<u64>(&ns, 1, &(1u64,)).unwrap();
        assert_eq!(key.as_str().len(), escaped.len() + fixed);
        c.set(&key, &1u64, None).await.unwrap();
        assert_eq!(c.get::<u64>(&key).await.unwrap(), Some(1));
        assert_eq!(c.clear_namespace(&ns).await.unwrap(), 1);
    }
    let tag = "y".repeat(MB);
    c.set_with_tags("small", &1u8, None, &[tag.as_str()])
        .await
        .unwrap();
    if fx.on_redis() {
        let mut lengths: Vec<usize> = fx.raw_keys().await.iter().map(String::len).collect();
        lengths.sort_unstable();
        assert_eq!(
            lengths,
            [
                fx.prefix.len() + ":small".len(),
                fx.prefix.len() + "#tag:".len() + 64 + 1 + 32
            ]
        );
    }
    assert_eq!(c.invalidate_tag(&tag).await.unwrap(), 1);
    assert_eq!(c.get::<u8>("small").await.unwrap(), None);
}

/// Manual keys share the key space with nothing internal: a manual key spelled like a tag's
/// index (`#tag:t`) is an ordinary entry, and writing, reading, deleting or clearing it
/// leaves tag `t` and its entries alone.
pub async fn manual_keys_never_touch_tag_indexes(fx: &Fixture) {
    let c = &fx.cache;
    c.set_with_tags("victim", &1u32, None, &["t"])
        .await
        .unwrap();
    c.set_with_tags("victim2", &2u32, None, &["u"])
        .await
        .unwrap();
    assert_eq!(c.get::<u8>("#tag:t").await.unwrap(), None);
    c.set("#tag:t", &7u8, None).await.unwrap();
    assert_eq!(c.get::<u8>("#tag:t").await.unwrap(), Some(7));
    assert!(c.delete("#tag:t").await.unwrap());
    assert!(!c.delete("#tag:u").await.unwrap());
    assert_eq!(c.clear_pattern("#tag:*").await.unwrap(), 0);
    assert_eq!(c.clear_pattern("#*").await.unwrap(), 0);
    assert_eq!(c.invalidate_tag("t").await.unwrap(), 1);
    assert_eq!(c.invalidate_tag("u").await.unwrap(), 1);
    assert_eq!(c.get::<u32>("victim").await.unwrap(), None);
    assert_eq!(c.get::<u32>("victim2").await.unwrap(), None);
    assert_eq!(fx.counts().errors, 0);
}

/// A pattern holds at most 8 wildcards: with more, `clear_pattern` and `invalidate_pattern`
/// are refused with an error saying so and delete nothing, also inside a deferring scope; a
/// plan holding one deletes nothing for it and counts the failure. Escaped stars do not
/// count.
pub async fn clear_pattern_wildcards_are_bounded(fx: &Fixture) {
    let c = &fx.cache;
    for key in ["a:1", "a*b", "b:1"] {
        c.set(key, &1u8, None).await.unwrap();
    }
    let nine = "a*".repeat(9);
    let message = "the pattern holds 9 `*` wildcards, more than the 8 allowed; write `\\*` \
                   for a literal `*`";
    for result in [
        c.clear_pattern(&nine).await,
        c.invalidate_pattern(&nine).await,
        cache_runtime::defer_invalidations(async { c.clear_pattern(&nine).await }).await,
    ] {
        match result {
            Err(cache_runtime::Error::Pattern(text)) => assert_eq!(text, message),
            other => panic!("expected a pattern error, got {other:?}"),
        }
    }
    assert_eq!(cache_runtime::MAX_WILDCARDS, 8);
    assert_eq!(c.clear_pattern(&"*".repeat(8)).await.unwrap(), 3);
    for key in ["a:1", "a*b"] {
        c.set(key, &1u8, None).await.unwrap();
    }
    assert_eq!(c.clear_pattern(&"a\\*".repeat(20)).await.unwrap(), 0);
    assert_eq!(c.clear_pattern("a\\*b").await.unwrap(), 1);
    let errors = fx.counts().errors;
    let mut plan = cache_runtime::Plan::new();
    plan.pattern(nine).pattern("a:*");
    plan.run(c).await;
    assert_eq!(fx.counts().errors, errors + 1);
    assert!(!c.exists("a:1").await.unwrap());
}
