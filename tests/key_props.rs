//! Property tests of the key builder, through the public API only (`key_for`, `KeyBuilder`,
//! `CacheKey`, `key::escape_namespace`, `key::type_fingerprint`).
//!
//! * distinct argument tuples give distinct keys: strings split at different places,
//!   a `Vec` against the same items nested or fed as separate arguments, `None` against
//!   `Some(default)`, `Some(x)` against `x`;
//! * `HashMap`, `HashSet` and `BTreeMap` arguments with the same contents give the same key
//!   whatever their insertion (and so iteration) order, also nested;
//! * every key has the documented layout `{namespace}:v{version}.{type}:{digest}` with a
//!   32-hex-digit digest, whatever the namespace and arguments (hostile text included), and
//!   one namespace's keys never start with another's `{namespace}:`;
//! * the builder never panics: arbitrary nested values build a key, a failing `Serialize`
//!   gives an error.
//!
//! 256 cases per property by default (a few seconds in a debug build); `PROPTEST_CASES=N`
//! runs N.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap, HashSet};

use cache_runtime::key::{escape_namespace, type_fingerprint};
use cache_runtime::{key_for, CacheKey, KeyArgs, KeyBuilder};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde::Serialize;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Text an attacker might send: glob characters, the separator, braces, line breaks, NUL,
/// `%`, combining and RTL characters, emoji, plus any unicode; up to 600 bytes, so both sides
/// of the hasher's 256-byte buffer are covered.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::string::string_regex(
            "[*?\\[\\]\\\\:{}\\n\\r\\x00%.ab_ \u{e9}\u{301}\u{202e}\u{5e9}\u{1f511}\u{200d}-]{0,24}"
        )
        .unwrap(),
        2 => any::<String>(),
        1 => proptest::collection::vec(
            prop_oneof![Just('*'), Just(':'), Just('\0'), Just('é'), any::<char>()],
            200..600
        )
        .prop_map(String::from_iter),
    ]
}

fn key<A: KeyArgs>(args: &A) -> CacheKey {
    key_for::<u64>("props", 1, args).unwrap()
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The documented layout: `{escaped namespace}:v{version}.{8 hex of the type}:{32 hex}`.
fn assert_layout<V: ?Sized + 'static>(key: &CacheKey, namespace: &str, version: u32) {
    let text = key.as_str();
    let head = format!(
        "{}:v{version}.{:08x}:",
        escape_namespace(namespace),
        type_fingerprint::<V>()
    );
    assert!(text.starts_with(&head), "{text:?} does not start {head:?}");
    assert_eq!(text.len(), head.len() + 32, "{text:?}");
    assert!(is_lower_hex(&text[head.len()..]), "{text:?}");
}

/// The char boundaries of `s`, as byte offsets (0 and `s.len()` included).
fn boundaries(s: &str) -> Vec<usize> {
    s.char_indices().map(|(i, _)| i).chain([s.len()]).collect()
}

/// A value of (almost) every serde shape, nested.
#[derive(Debug, Clone, Serialize)]
enum Value {
    Unit,
    Bool(bool),
    I64(i64),
    U128(u128),
    F64(f64),
    F32(f32),
    Char(char),
    Str(String),
    Bytes(#[serde(with = "serde_bytes_compat")] Vec<u8>),
    Opt(Option<Box<Value>>),
    Seq(Vec<Value>),
    Tuple(Box<(Value, Value)>),
    Map(HashMap<String, Value>),
    Ordered(BTreeMap<u8, Value>),
    Set(HashSet<String>),
    Struct { name: String, inner: Box<Value> },
}

/// Serializes bytes with `serialize_bytes` (serde's `Vec<u8>` is a sequence of u8s).
mod serde_bytes_compat {
    pub(super) fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Unit),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::I64),
        any::<u128>().prop_map(Value::U128),
        any::<f64>().prop_map(Value::F64),
        any::<f32>().prop_map(Value::F32),
        any::<char>().prop_map(Value::Char),
        hostile().prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Value::Bytes),
        proptest::collection::hash_set(hostile(), 0..6).prop_map(Value::Set),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::option::of(inner.clone().prop_map(Box::new)).prop_map(Value::Opt),
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Seq),
            (inner.clone(), inner.clone()).prop_map(|t| Value::Tuple(Box::new(t))),
            proptest::collection::hash_map(hostile(), inner.clone(), 0..5).prop_map(Value::Map),
            proptest::collection::btree_map(any::<u8>(), inner.clone(), 0..5)
                .prop_map(Value::Ordered),
            (hostile(), inner).prop_map(|(name, v)| Value::Struct {
                name,
                inner: Box::new(v)
            }),
        ]
    })
}

/// A value whose `Serialize` fails after writing part of itself.
struct FailsHalfway(Vec<u32>);

impl Serialize for FailsHalfway {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(None)?;
        for x in &self.0 {
            seq.serialize_element(x)?;
        }
        Err(serde::ser::Error::custom("fails halfway on purpose"))
    }
}

#[derive(Serialize)]
struct Filter {
    ids: HashSet<u64>,
    by_name: HashMap<String, u32>,
}

/// `HashMap` from `entries` inserted in that order, into a map of capacity `cap` (so the
/// iteration order depends on both the order and the capacity).
fn hash_map_from(entries: &[(String, u32)], cap: usize) -> HashMap<String, u32> {
    let mut m = HashMap::with_capacity(cap);
    for (k, v) in entries {
        m.insert(k.clone(), *v);
    }
    m
}

fn hash_set_from<T: std::hash::Hash + Eq + Clone>(items: &[T], cap: usize) -> HashSet<T> {
    let mut s = HashSet::with_capacity(cap);
    s.extend(items.iter().cloned());
    s
}

/// Unique-keyed map entries and the same entries shuffled.
/// Map entries, in one order.
type Entries = Vec<(String, u32)>;

fn entries_and_shuffle() -> impl Strategy<Value = (Entries, Entries)> {
    proptest::collection::btree_map(hostile(), any::<u32>(), 0..16)
        .prop_map(|m| m.into_iter().collect::<Vec<_>>())
        .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
}

proptest! {
    #![proptest_config(config())]

    /// One string split at two different places gives two keys, as two arguments, as a
    /// pair, and as a two-element `Vec`.
    #[test]
    fn string_splits_are_distinct(s in hostile(), a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
        let cuts = boundaries(&s);
        if cuts.len() < 2 {
            // The empty string has one split only.
            return Ok(());
        }
        // Two different cut points, without rejecting cases.
        let ai = a.index(cuts.len());
        let bi = (ai + 1 + b.index(cuts.len() - 1)) % cuts.len();
        let (i, j) = (cuts[ai], cuts[bi]);
        prop_assert_ne!(i, j);
        let (x, y) = ((&s[..i], &s[i..]), (&s[..j], &s[j..]));
        prop_assert_ne!(key(&x), key(&y));
        prop_assert_ne!(key(&(x,)), key(&(y,)));
        prop_assert_ne!(key(&(vec![x.0, x.1],)), key(&(vec![y.0, y.1],)));
        // Two arguments are not the concatenation, nor a pair.
        prop_assert_ne!(key(&x), key(&(s.as_str(),)));
        prop_assert_ne!(key(&x), key(&(x,)));
    }

    /// A flat `Vec`, the same items in nested `Vec`s (any grouping), and the items as
    /// separate arguments are all different keys; two different groupings differ too.
    #[test]
    fn vec_nesting_is_distinct(
        items in proptest::collection::vec(hostile(), 0..8),
        cuts_a in proptest::collection::btree_set(0usize..9, 0..4),
        cuts_b in proptest::collection::btree_set(0usize..9, 0..4),
    ) {
        let group = |cuts: &std::collections::BTreeSet<usize>| {
            let mut out: Vec<Vec<String>> = Vec::new();
            let mut start = 0;
            for &c in cuts.iter().filter(|&&c| c <= items.len()) {
                out.push(items[start..c.max(start)].to_vec());
                start = c.max(start);
            }
            out.push(items[start..].to_vec());
            out
        };
        let (ga, gb) = (group(&cuts_a), group(&cuts_b));
        let flat = key(&(&items,));
        prop_assert_ne!(&flat, &key(&(&ga,)));
        prop_assert_ne!(&flat, &key(&(&gb,)));
        if ga != gb {
            prop_assert_ne!(key(&(&ga,)), key(&(&gb,)));
        } else {
            prop_assert_eq!(key(&(&ga,)), key(&(&gb,)));
        }
        let mut separate = KeyBuilder::new();
        for item in &items {
            separate.arg(item);
        }
        prop_assert_ne!(&flat, &separate.build::<u64>("props", 1).unwrap());
        // An extra empty Vec is not nothing.
        let mut padded = items.clone();
        padded.push(String::new());
        prop_assert_ne!(&flat, &key(&(&padded,)));
    }

    /// `None` is not `Some(default)`, `Some(x)` is not `x`, `Some(None)` is not `None`.
    #[test]
    fn options_are_distinct(s in hostile(), n in any::<u64>(), bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
        prop_assert_ne!(key(&(None::<String>,)), key(&(Some(String::new()),)));
        prop_assert_ne!(key(&(None::<u64>,)), key(&(Some(0u64),)));
        prop_assert_ne!(key(&(None::<Vec<u8>>,)), key(&(Some(Vec::<u8>::new()),)));
        prop_assert_ne!(key(&(None::<()>,)), key(&((),)));
        prop_assert_ne!(key(&(Some(s.clone()),)), key(&(s.clone(),)));
        prop_assert_ne!(key(&(Some(n),)), key(&(n,)));
        prop_assert_ne!(key(&(Some(bytes.clone()),)), key(&(bytes.clone(),)));
        prop_assert_ne!(key(&(Some(None::<u64>),)), key(&(None::<u64>,)));
        prop_assert_ne!(key(&(Some(None::<u64>),)), key(&(Some(Some(0u64)),)));
        prop_assert_ne!(key(&(None::<u64>, Some(n))), key(&(Some(n), None::<u64>)));
    }

    /// Different values give different keys; the same value, the same key.
    #[test]
    fn values_decide_the_key(a in hostile(), b in hostile(), x in any::<u64>(), y in any::<u64>()) {
        prop_assert_eq!(key(&(a.as_str(), x)), key(&(a.clone(), x)));
        if a != b {
            prop_assert_ne!(key(&(a.as_str(),)), key(&(b.as_str(),)));
        }
        if x != y {
            prop_assert_ne!(key(&(x,)), key(&(y,)));
        }
        // The same bits as another integer type, and as a string, are other keys.
        prop_assert_ne!(key(&(x,)), key(&(x as i64,)));
        prop_assert_ne!(key(&(x,)), key(&(x.to_string(),)));
        prop_assert_ne!(key(&(a.as_bytes(),)), key(&(a.as_str(),)));
    }

    /// Maps and sets with the same contents give one key whatever the insertion order and
    /// capacity; changing one entry changes it.
    #[test]
    fn maps_and_sets_ignore_order((entries, shuffled) in entries_and_shuffle(), cap in 0usize..100) {
        let (m1, m2) = (hash_map_from(&entries, 0), hash_map_from(&shuffled, cap));
        prop_assert_eq!(key(&(&m1,)), key(&(&m2,)));
        let (b1, b2): (BTreeMap<_, _>, BTreeMap<_, _>) =
            (entries.iter().cloned().collect(), shuffled.iter().cloned().collect());
        prop_assert_eq!(key(&(&b1,)), key(&(&b2,)));

        let names: Vec<String> = entries.iter().map(|(k, _)| k.clone()).collect();
        let shuffled_names: Vec<String> = shuffled.iter().map(|(k, _)| k.clone()).collect();
        let (s1, s2) = (hash_set_from(&names, 0), hash_set_from(&shuffled_names, cap));
        prop_assert_eq!(key(&(&s1,)), key(&(&s2,)));
        // Behind references, boxes and in an Option.
        prop_assert_eq!(key(&(&&s1,)), key(&(Box::new(s2.clone()),)));
        prop_assert_eq!(key(&(Some(&s1),)), key(&(Some(s2.clone()),)));

        // Nested: a map of sets, a Vec of sets, a struct with a set and a map.
        let ids: Vec<u64> = entries.iter().map(|(_, v)| u64::from(*v)).collect();
        let shuffled_ids: Vec<u64> = shuffled.iter().map(|(_, v)| u64::from(*v)).collect();
        let nest = |names: &[String], ids: &[u64], cap: usize| -> HashMap<String, HashSet<u64>> {
            let mut m = HashMap::with_capacity(cap);
            for n in names {
                m.insert(n.clone(), hash_set_from(ids, cap));
            }
            m
        };
        prop_assert_eq!(
            key(&(nest(&names, &ids, 0),)),
            key(&(nest(&shuffled_names, &shuffled_ids, cap),))
        );
        prop_assert_eq!(
            key(&(vec![hash_set_from(&ids, 0)],)),
            key(&(vec![hash_set_from(&shuffled_ids, cap)],))
        );
        let f1 = Filter { ids: hash_set_from(&ids, 0), by_name: m1.clone() };
        let f2 = Filter { ids: hash_set_from(&shuffled_ids, cap), by_name: m2.clone() };
        prop_assert_eq!(key(&(&f1,)), key(&(&f2,)));

        if let Some((k, v)) = entries.first() {
            let mut changed = m1.clone();
            changed.insert(k.clone(), v.wrapping_add(1));
            prop_assert_ne!(key(&(&m1,)), key(&(&changed,)));
            let mut fewer = m1.clone();
            fewer.remove(k);
            prop_assert_ne!(key(&(&m1,)), key(&(&fewer,)));
            let mut smaller = s1.clone();
            smaller.remove(k);
            prop_assert_ne!(key(&(&s1,)), key(&(&smaller,)));
            // Moving text between a map key and its value is another map.
            if !k.is_empty() {
                let a: HashMap<String, String> = [(k.clone(), String::new())].into();
                let b: HashMap<String, String> = [(String::new(), k.clone())].into();
                prop_assert_ne!(key(&(&a,)), key(&(&b,)));
                let split = boundaries(k)[1];
                if split < k.len() {
                    let c: HashMap<String, String> =
                        [(k[..split].to_owned(), k[split..].to_owned())].into();
                    prop_assert_ne!(key(&(&a,)), key(&(&c,)));
                }
            }
        }
    }

    /// Every key reads `{escaped namespace}:v{version}.{type}:{32 hex}` whatever the
    /// namespace, version and arguments; the escaped namespace holds no glob character, `:`,
    /// white space or non-ASCII, and is at most 128 bytes (longer ones are shortened to a
    /// readable head, `~` and a digest).
    #[test]
    fn layout_is_fixed(ns in hostile(), version in any::<u32>(), args in proptest::collection::vec(value(), 0..4)) {
        let mut kb = KeyBuilder::new();
        for a in &args {
            kb.arg(a);
        }
        let k = kb.build::<Vec<String>>(&ns, version).unwrap();
        assert_layout::<Vec<String>>(&k, &ns, version);
        let escaped = escape_namespace(&ns);
        prop_assert!(
            escaped.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.%~".contains(&b)),
            "{:?}", escaped
        );
        prop_assert!(escaped.len() <= 128, "{:?}", escaped);
        prop_assert!(escaped.len() <= 128 || escaped.matches('~').count() == 1);
        // Deterministic.
        let mut again = KeyBuilder::new();
        for a in &args {
            again.arg(a);
        }
        prop_assert_eq!(&k, &again.build::<Vec<String>>(&ns, version).unwrap());
        // key_for with a tuple is the builder fed element by element.
        let s = ns.clone();
        let mut kb = KeyBuilder::new();
        kb.arg(&s).arg(&version);
        prop_assert_eq!(kb.build::<u8>(&ns, version).unwrap(), key_for::<u8>(&ns, version, &(s, version)).unwrap());
    }

    /// A namespace's keys never start with another namespace's `{namespace}:` (so clearing
    /// one never reaches the other), unless the two are one namespace (`::` folds to `.`).
    #[test]
    fn namespaces_stay_apart(a in hostile(), b in hostile()) {
        let same = a.replace("::", ".") == b.replace("::", ".");
        let (ea, eb) = (escape_namespace(&a), escape_namespace(&b));
        prop_assert_eq!(ea == eb, same, "{:?} {:?}", ea, eb);
        let kb = key_for::<u64>(&b, 1, &(1u64,)).unwrap();
        prop_assert_eq!(kb.as_str().starts_with(&format!("{ea}:")), same);
        if !same {
            prop_assert_ne!(key_for::<u64>(&a, 1, &(1u64,)).unwrap(), kb);
        }
    }

    /// Arbitrary nested values never panic the builder and always build a key of the
    /// layout; a `Serialize` that fails partway (before, between or after other arguments)
    /// gives a codec error naming the cause, never a panic or a key.
    #[test]
    fn builder_never_panics(v in value(), w in value(), failing in proptest::collection::vec(any::<u32>(), 0..600), at in 0usize..3) {
        let k = key_for::<Value>("props.any", 7, &(&v, &w)).unwrap();
        assert_layout::<Value>(&k, "props.any", 7);
        let mut kb = KeyBuilder::new();
        for i in 0..3 {
            if i == at {
                kb.arg(&FailsHalfway(failing.clone()));
            } else {
                kb.arg(&v);
            }
        }
        let err = kb.build::<Value>("props.any", 7).unwrap_err();
        prop_assert!(matches!(err, cache_runtime::Error::Codec(_)), "{:?}", err);
        prop_assert!(err.to_string().contains("fails halfway on purpose"), "{}", err);
    }
}

/// Floats are canonical (the one documented exception to "different values, different
/// keys"): `-0.0` is `0.0` and every NaN is one NaN, also inside maps and sets' entries.
#[test]
fn floats_are_canonical_everywhere() {
    let nan_bits = f64::from_bits(0x7ff8_0000_0000_0001);
    assert_eq!(key(&(-0.0f64,)), key(&(0.0f64,)));
    assert_eq!(key(&(nan_bits,)), key(&(f64::NAN,)));
    assert_eq!(key(&(-f32::NAN,)), key(&(f32::NAN,)));
    let m1: HashMap<&str, f64> = [("a", -0.0), ("b", f64::NAN)].into();
    let m2: HashMap<&str, f64> = [("b", -f64::NAN), ("a", 0.0)].into();
    assert_eq!(key(&(&m1,)), key(&(&m2,)));
    assert_ne!(key(&(0.0f64,)), key(&(0.0f32,)));
}

/// Hostile namespaces at the extremes: empty, 1 MB, and every single byte value that is
/// one char.
#[test]
fn layout_of_extreme_namespaces() {
    let big = "*".repeat(1 << 20);
    for ns in ["", ":", "::", big.as_str()] {
        let k = key_for::<u64>(ns, u32::MAX, &(ns,)).unwrap();
        assert_layout::<u64>(&k, ns, u32::MAX);
    }
    for c in (0u32..=0x7f).chain([0xe9, 0x301, 0x202e, 0x1f511]) {
        let ns = char::from_u32(c).unwrap().to_string();
        let k = key_for::<u64>(&ns, 0, &()).unwrap();
        assert_layout::<u64>(&k, &ns, 0);
    }
}
