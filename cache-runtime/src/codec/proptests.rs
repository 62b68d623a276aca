//! Properties of the envelope decoder, on generated input: it never panics (on arbitrary
//! bytes, and on mutated or truncated envelopes, compressed and signed ones included), it
//! round-trips every value, and with a signing key it refuses every changed envelope.
//!
//! The default case count (256 per property) keeps the suite to a few seconds; set
//! `PROPTEST_CASES` to run it longer, e.g.
//! `PROPTEST_CASES=200000 cargo test -p cache-runtime --release codec::proptests`.

use std::collections::BTreeMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::*;

const MAX: usize = 1 << 20;
const KEY: &str = "orders:v2.00c0ffee:0123456789abcdef0123456789abcdef";
static SECRET: [u8; 32] = [0x5A; 32];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    id: u64,
    name: String,
    tags: Vec<String>,
    score: Option<i64>,
    counts: BTreeMap<String, u32>,
    flag: bool,
}

fn record() -> impl Strategy<Value = Record> {
    (
        any::<u64>(),
        ".{0,40}",
        vec("[a-z:]{0,12}", 0..8),
        any::<Option<i64>>(),
        proptest::collection::btree_map("[a-z]{1,6}", any::<u32>(), 0..8),
        any::<bool>(),
    )
        .prop_map(|(id, name, tags, score, counts, flag)| Record {
            id,
            name,
            tags,
            score,
            counts,
            flag,
        })
}

/// Text up to ~16 KiB: arbitrary, or a short pattern repeated (which compresses).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        ("[a-z ]{1,12}", 0..1400usize).prop_map(|(word, n)| word.repeat(n)),
    ]
}

/// Bytes up to ~8 KiB: noise, or runs (which compress).
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..2048),
        vec((any::<u8>(), 1..512usize), 0..16).prop_map(|runs| runs
            .into_iter()
            .flat_map(|(b, n)| std::iter::repeat_n(b, n))
            .collect()),
    ]
}

/// An encoding: the compression threshold (none, always, small, the default) and whether
/// values are signed.
fn encoding() -> impl Strategy<Value = Encoding<'static>> {
    (
        prop_oneof![Just(None), Just(Some(0)), Just(Some(16)), Just(Some(1024))],
        any::<bool>(),
    )
        .prop_map(|(compress_above, signed)| Encoding {
            max_bytes: MAX,
            compress_above,
            signing: signed.then_some(Signing {
                key: &SECRET,
                prefix: "cache",
            }),
            max_depth: crate::cache::builder::DEFAULT_MAX_DEPTH,
        })
}

/// A value of one of the types the suite encodes.
#[derive(Debug, Clone)]
enum AnyValue {
    Text(String),
    Bytes(Vec<u8>),
    Record(Record),
}

impl AnyValue {
    fn encode(&self, enc: &Encoding<'_>) -> Option<Vec<u8>> {
        match self {
            AnyValue::Text(v) => encode(v, KEY, enc).ok(),
            AnyValue::Bytes(v) => encode(v, KEY, enc).ok(),
            AnyValue::Record(v) => encode(v, KEY, enc).ok(),
        }
    }
}

/// A valid envelope of one of several value types, in some encoding.
fn envelope() -> impl Strategy<Value = (Vec<u8>, Encoding<'static>)> {
    let value = prop_oneof![
        text().prop_map(AnyValue::Text),
        bytes().prop_map(AnyValue::Bytes),
        record().prop_map(AnyValue::Record),
    ];
    (value, encoding()).prop_filter_map("encodes", |(value, enc)| {
        value.encode(&enc).map(|bytes| (bytes, enc))
    })
}

/// One change to an envelope.
#[derive(Debug, Clone)]
enum Edit {
    Xor(Index, u8),
    Set(Index, u8),
    Insert(Index, u8),
    Remove(Index),
    Truncate(Index),
    /// Rewrites the u32 after the header (a compressed body's claimed length).
    Claim(u32),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), 1..=255u8).prop_map(|(i, x)| Edit::Xor(i, x)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<Index>().prop_map(Edit::Remove),
        any::<Index>().prop_map(Edit::Truncate),
        prop_oneof![any::<u32>(), 0..70_000u32].prop_map(Edit::Claim),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    let len = bytes.len();
    match edit {
        Edit::Xor(i, x) if len > 0 => bytes[i.index(len)] ^= x,
        Edit::Set(i, b) if len > 0 => bytes[i.index(len)] = *b,
        Edit::Insert(i, b) => bytes.insert(i.index(len + 1), *b),
        Edit::Remove(i) if len > 0 => {
            bytes.remove(i.index(len));
        }
        Edit::Truncate(i) => bytes.truncate(i.index(len + 1)),
        Edit::Claim(claim) if len >= HEADER_LEN + 4 => {
            bytes[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&claim.to_le_bytes());
        }
        _ => {}
    }
}

/// Decodes `bytes` as every type the suite uses, in `enc` and unsigned: none may panic.
/// Returns whether any decode with `enc` succeeded.
fn decode_all(bytes: &[u8], enc: &Encoding<'_>) -> bool {
    fn one<T: DeserializeOwned>(bytes: &[u8], enc: &Encoding<'_>) -> bool {
        decode::<T>(bytes, KEY, enc).is_ok()
    }
    let unsigned = Encoding {
        signing: None,
        ..*enc
    };
    let _ = created_ms(bytes);
    let _ = is_compressed(bytes);
    let _ = one::<String>(bytes, &unsigned) | one::<Vec<u8>>(bytes, &unsigned);
    let _ = one::<Record>(bytes, &unsigned) | one::<(u64, bool)>(bytes, &unsigned);
    one::<String>(bytes, enc)
        | one::<Vec<u8>>(bytes, enc)
        | one::<Record>(bytes, enc)
        | one::<(u64, bool)>(bytes, enc)
        | one::<u8>(bytes, enc)
}

/// Bytes that pass the header checks (so the body decoders see them): a valid header with
/// any known flags, then arbitrary bytes; with the compressed flag, a small claimed length.
fn past_the_header() -> impl Strategy<Value = Vec<u8>> {
    (0..4u8, 0..4096u32, any::<bool>(), vec(any::<u8>(), 0..600)).prop_map(
        |(flags, claim, with_claim, rest)| {
            let mut bytes = vec![MAGIC, FORMAT_VERSION, flags, 0];
            bytes.extend_from_slice(&1_700_000_000_000u64.to_le_bytes());
            if with_claim {
                bytes.extend_from_slice(&claim.to_le_bytes());
            }
            bytes.extend_from_slice(&rest);
            bytes
        },
    )
}

/// The configuration: proptest's defaults, which read `PROPTEST_CASES`.
fn config() -> ProptestConfig {
    ProptestConfig::default()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop_oneof![vec(any::<u8>(), 0..256), past_the_header()],
        enc in encoding(),
    ) {
        let decoded = decode_all(&bytes, &enc);
        // Without the secret, nothing decodes under a signing key.
        if enc.signing.is_some() {
            prop_assert!(!decoded);
        }
    }

    #[test]
    fn edited_envelopes_never_panic(
        (original, enc) in envelope(),
        edits in vec(edit(), 1..4),
    ) {
        let mut bytes = original.clone();
        for edit in &edits {
            apply(&mut bytes, edit);
        }
        let decoded = decode_all(&bytes, &enc);
        // With a signing key, every change is refused.
        if enc.signing.is_some() && bytes != original {
            prop_assert!(!decoded, "an edited signed envelope decoded: {:?}", edits);
        }
    }

    #[test]
    fn text_round_trips(value in text(), enc in encoding()) {
        let bytes = encode(&value, KEY, &enc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decode::<String>(&bytes, KEY, &enc).ok(), Some(value));
    }

    #[test]
    fn bytes_round_trip(value in bytes(), enc in encoding()) {
        let bytes = encode(&value, KEY, &enc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decode::<Vec<u8>>(&bytes, KEY, &enc).ok(), Some(value));
    }

    #[test]
    fn records_round_trip(value in record(), enc in encoding()) {
        let bytes = encode(&value, KEY, &enc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decode::<Record>(&bytes, KEY, &enc).ok(), Some(value));
    }

    /// Compression only ever shrinks an entry, and small bodies are never compressed.
    #[test]
    fn compression_only_shrinks(value in text()) {
        let off = Encoding {
            max_bytes: MAX,
            compress_above: None,
            signing: None,
            max_depth: crate::cache::builder::DEFAULT_MAX_DEPTH,
        };
        let on = Encoding { compress_above: Some(64), ..off };
        let (raw, packed) = match (encode(&value, KEY, &off), encode(&value, KEY, &on)) {
            (Ok(raw), Ok(packed)) => (raw, packed),
            _ => return Err(TestCaseError::fail("encoding failed")),
        };
        prop_assert!(packed.len() <= raw.len());
        prop_assert_eq!(is_compressed(&packed), packed.len() < raw.len());
        if raw.len() - HEADER_LEN <= 64 {
            // Byte for byte what compression off writes (but the creation time).
            prop_assert_eq!(&packed[..4], &raw[..4]);
            prop_assert_eq!(&packed[HEADER_LEN..], &raw[HEADER_LEN..]);
        }
    }

    /// With a signing key, a signed envelope moved to another key is refused.
    #[test]
    fn signed_envelopes_are_bound_to_their_key(value in text(), other in "[a-z:]{0,60}") {
        let enc = Encoding {
            max_bytes: MAX,
            compress_above: Some(1024),
            signing: Some(Signing { key: &SECRET, prefix: "cache" }),
            max_depth: crate::cache::builder::DEFAULT_MAX_DEPTH,
        };
        let bytes = encode(&value, KEY, &enc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assume!(other != KEY);
        let moved = decode::<String>(&bytes, &other, &enc);
        prop_assert!(moved.is_err_and(|e| e.bad_signature));
    }
}
