//! The envelope, byte for byte: round trips, the pinned format, compression, signing, and
//! refusals of every kind of bad input.

use serde::Serialize;

use super::*;

const MAX: usize = 8 << 20;
const KEY: &str = "users:v1.0000abcd:00112233445566778899aabbccddeeff";
const SECRET: [u8; 32] = [7; 32];

/// The default encoding: 8 MiB, compression above 1 KiB, no signing.
fn plain() -> Encoding<'static> {
    Encoding {
        max_bytes: MAX,
        compress_above: Some(1024),
        signing: None,
        max_depth: crate::cache::builder::DEFAULT_MAX_DEPTH,
    }
}

fn signed(key: &'static [u8; 32]) -> Encoding<'static> {
    Encoding {
        signing: Some(Signing {
            key,
            prefix: "cache",
        }),
        ..plain()
    }
}

fn enc<T: Serialize>(v: &T) -> Vec<u8> {
    enc_with(v, &plain())
}

fn enc_with<T: Serialize>(v: &T, encoding: &Encoding<'_>) -> Vec<u8> {
    encode(v, KEY, encoding).unwrap_or_else(|e| unreachable!("{e}"))
}

fn dec<T: DeserializeOwned>(bytes: &[u8], encoding: &Encoding<'_>) -> Result<T, DecodeError> {
    decode(bytes, KEY, encoding)
}

/// 100 KiB of text that compresses well.
fn compressible() -> String {
    "the quick brown fox jumps over the lazy dog. "
        .repeat(2276)
        .chars()
        .take(100 * 1024)
        .collect()
}

/// `len` bytes lz4 cannot shrink (xorshift noise).
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn message(result: Result<String, DecodeError>) -> String {
    match result {
        Ok(value) => unreachable!("decoded {value:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn round_trip() {
    let v = (42u64, String::from("hello"), vec![1.5f64, 2.5]);
    let bytes = enc(&v);
    assert_eq!(bytes[0], MAGIC);
    assert_eq!(bytes[1], FORMAT_VERSION);
    let back: (u64, String, Vec<f64>) =
        dec(&bytes, &plain()).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(back, v);
}

/// The stored format is pinned: changing these bytes breaks every deployed cache.
#[test]
fn golden_bytes() {
    #[derive(Serialize)]
    struct User {
        id: u64,
        name: String,
        admin: bool,
    }
    let bytes = enc(&User {
        id: 300,
        name: "Ada".into(),
        admin: true,
    });
    assert_eq!(&bytes[..4], &[0xCA, 1, 0, 0]);
    // bincode 2 standard: varint 300 = [251, 44, 1], string = len 3 + bytes, bool = 1.
    assert_eq!(&bytes[HEADER_LEN..], &[251, 44, 1, 3, b'A', b'd', b'a', 1]);
}

#[test]
fn corrupt_inputs_are_errors() {
    let good = enc(&String::from("hello"));
    assert!(dec::<String>(&[], &plain()).is_err());
    assert!(dec::<String>(&good[..good.len() - 1], &plain()).is_err());
    let mut foreign = good.clone();
    foreign[0] = b'{';
    assert!(dec::<String>(&foreign, &plain()).is_err());
    let mut future = good.clone();
    future[1] = 9;
    assert_eq!(
        message(dec::<String>(&future, &plain())),
        "cache codec error: stored value has envelope format 9; this build reads format 1"
    );
    let mut unknown = good.clone();
    unknown[2] = 0x04;
    assert_eq!(
        message(dec::<String>(&unknown, &plain())),
        "cache codec error: stored value has unknown envelope flags 0x04"
    );
    // Same bytes read as another type: trailing bytes or a decode error, never a value.
    assert!(dec::<u8>(&good, &plain()).is_err());
}

#[test]
fn huge_length_prefix_does_not_allocate() {
    // A Vec<u8> claiming 2^40 elements, followed by nothing.
    let mut bytes = enc(&0u8);
    bytes.truncate(HEADER_LEN);
    bytes.push(253); // varint tag for a u64 length
    bytes.extend_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(dec::<Vec<u8>>(&bytes, &plain()).is_err());
    assert!(dec::<String>(&bytes, &plain()).is_err());
}

#[test]
fn oversized_values_are_refused() {
    let small = Encoding {
        max_bytes: 1024,
        ..plain()
    };
    let big = vec![7u8; 4096];
    match encode(&big, KEY, &small) {
        Err(Error::TooLarge { max, .. }) => assert_eq!(max, 1024),
        other => unreachable!("expected TooLarge, got {other:?}"),
    }
    // Compressed, the value is small, but it expands past the reader's limit.
    let stored = enc(&big);
    assert!(stored.len() < 1024, "{}", stored.len());
    assert!(dec::<Vec<u8>>(&stored, &small).is_err());
    // Uncompressed, the stored bytes themselves are above it.
    assert!(dec::<Vec<u8>>(&enc(&noise(4096)), &small).is_err());
}

#[test]
fn compressed_round_trip() {
    let text = compressible();
    let bytes = enc(&text);
    assert_eq!(&bytes[..4], &[0xCA, 1, FLAG_COMPRESSED, 0]);
    assert!(is_compressed(&bytes));
    assert!(bytes.len() < 4 * 1024, "{} bytes", bytes.len());
    // The prepended length is the bincode's: varint 102400 = [252, 0x00, 0x90, 1, 0] + text.
    let claimed = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]);
    assert_eq!(claimed, 5 + 100 * 1024);
    let back: String = dec(&bytes, &plain()).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(back, text);
    assert!(created_ms(&bytes).is_some_and(|ms| ms > 1_600_000_000_000));
}

/// Bodies of exactly the threshold stay as they are; one byte more is compressed.
#[test]
fn threshold_boundary() {
    let at = Encoding {
        compress_above: Some(100),
        ..plain()
    };
    // bincode of a Vec<u8> of n < 251 bytes: one length byte, then the bytes.
    let same = enc_with(&vec![0u8; 99], &at);
    assert_eq!(same.len(), HEADER_LEN + 100);
    assert_eq!(same[2], 0);
    let over = enc_with(&vec![0u8; 100], &at);
    assert_eq!(over[2], FLAG_COMPRESSED);
    assert!(over.len() < HEADER_LEN + 101, "{}", over.len());
    assert_eq!(dec::<Vec<u8>>(&over, &at).ok(), Some(vec![0u8; 100]));
    // Turned off, per function or for the cache.
    assert_eq!(enc_with(&vec![0u8; 100], &at.compress(false))[2], 0);
    let off = Encoding {
        compress_above: None,
        ..plain()
    };
    let text = compressible();
    let raw = enc_with(&text, &off);
    assert_eq!(raw[2], 0);
    assert_eq!(raw.len(), HEADER_LEN + 5 + 100 * 1024);
    assert_eq!(dec::<String>(&raw, &plain()).ok(), Some(text));
}

#[test]
fn incompressible_data_stays_uncompressed() {
    let data = noise(4096);
    let bytes = enc(&data);
    assert_eq!(bytes[2], 0);
    // varint 4096 = [251, 0x00, 0x10], then the bytes as they are.
    assert_eq!(&bytes[HEADER_LEN..HEADER_LEN + 3], &[251, 0x00, 0x10]);
    assert_eq!(&bytes[HEADER_LEN + 3..], &data[..]);
    assert_eq!(dec::<Vec<u8>>(&bytes, &plain()).ok(), Some(data));
}

/// An envelope whose body is an lz4 block claiming `claimed` bytes.
fn compressed_envelope(claimed: u32, block: &[u8]) -> Vec<u8> {
    let mut bytes = vec![MAGIC, FORMAT_VERSION, FLAG_COMPRESSED, 0];
    bytes.extend_from_slice(&0u64.to_le_bytes());
    bytes.extend_from_slice(&claimed.to_le_bytes());
    bytes.extend_from_slice(block);
    bytes
}

/// A zip bomb (a small value that expands past the maximum) is refused on its claimed
/// length, before the output buffer is allocated: that check is the only source of this
/// message.
#[test]
fn zip_bomb_is_refused_before_allocating() {
    // 64 MiB of zeros: the bincode of a Vec<u8> compresses to about 256 KiB.
    let bomb = lz4_flex::block::compress_prepend_size(&vec![0u8; 64 << 20]);
    let mut bytes = vec![MAGIC, FORMAT_VERSION, FLAG_COMPRESSED, 0];
    bytes.extend_from_slice(&0u64.to_le_bytes());
    bytes.extend_from_slice(&bomb);
    assert!(bytes.len() < MAX, "{}", bytes.len());
    let error = dec::<Vec<u8>>(&bytes, &plain())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some(
            "cache codec error: stored value claims to decompress to 67108864 bytes, above \
             the maximum of 8388608"
        )
    );
    // A forged length: 4 GiB from a few bytes.
    let error = dec::<Vec<u8>>(&compressed_envelope(u32::MAX, &[0x10, 0]), &plain())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some(
            "cache codec error: stored value claims to decompress to 4294967295 bytes, above \
             the maximum of 8388608"
        )
    );
}

/// A compressed body whose claimed length is not its real one is an error either way.
#[test]
fn forged_uncompressed_length_is_an_error() {
    let good = enc(&compressible());
    let real = u32::from_le_bytes([good[12], good[13], good[14], good[15]]);
    for claimed in [0, 1, real - 1, real + 1, real * 2] {
        let mut forged = good.clone();
        forged[12..16].copy_from_slice(&claimed.to_le_bytes());
        assert!(
            dec::<String>(&forged, &plain()).is_err(),
            "claimed {claimed}"
        );
    }
    let mut longer = good.clone();
    longer[12..16].copy_from_slice(&(real + 1).to_le_bytes());
    assert_eq!(
        message(dec::<String>(&longer, &plain())),
        format!(
            "cache codec error: stored value decompresses to {real} bytes, not the {} it claims",
            real + 1
        )
    );
    // No length at all.
    let mut cut = good.clone();
    cut.truncate(HEADER_LEN + 3);
    assert_eq!(
        message(dec::<String>(&cut, &plain())),
        "cache codec error: stored value is compressed but has no uncompressed length"
    );
}

#[test]
fn signed_round_trip() {
    let key_enc = signed(&SECRET);
    let unsigned = enc(&String::from("hello"));
    let bytes = enc_with(&String::from("hello"), &key_enc);
    assert_eq!(&bytes[..4], &[0xCA, 1, FLAG_SIGNED, 0]);
    assert_eq!(bytes.len(), unsigned.len() + MAC_LEN);
    assert_eq!(&bytes[4..bytes.len() - MAC_LEN], &unsigned[4..]);
    assert_eq!(
        dec::<String>(&bytes, &key_enc).ok().as_deref(),
        Some("hello")
    );

    // Compressed and signed: the MAC covers the compressed envelope.
    let text = compressible();
    let both = enc_with(&text, &key_enc);
    assert_eq!(both[2], FLAG_COMPRESSED | FLAG_SIGNED);
    assert!(both.len() < 4 * 1024, "{}", both.len());
    assert_eq!(dec::<String>(&both, &key_enc).ok(), Some(text));
    let (a, b) = (
        created_ms(&bytes).unwrap_or(0),
        created_ms(&both).unwrap_or(0),
    );
    assert!(a > 1_600_000_000_000 && b.abs_diff(a) < 60_000, "{a} {b}");
}

/// A value of exactly the limit still fits with its MAC: the limit counts the trailer.
#[test]
fn signed_values_fit_the_limit() {
    let small = Encoding {
        max_bytes: 1024,
        compress_above: None,
        ..signed(&SECRET)
    };
    // 12 header + 3 varint length + 977 bytes + 32 MAC = 1024.
    let bytes = enc_with(&noise(977), &small);
    assert_eq!(bytes.len(), 1024);
    assert_eq!(dec::<Vec<u8>>(&bytes, &small).ok(), Some(noise(977)));
    match encode(&noise(978), KEY, &small) {
        Err(Error::TooLarge { size, max }) => assert_eq!((size, max), (1025, 1024)),
        other => unreachable!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn every_tampered_byte_is_refused() {
    let key_enc = signed(&SECRET);
    for value in [String::from("hello"), compressible()] {
        let bytes = enc_with(&value, &key_enc);
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            match dec::<String>(&tampered, &key_enc) {
                Ok(_) => unreachable!("byte {i} flipped and still decoded"),
                // Past the magic, version and reserved bytes, only the MAC can notice.
                Err(e) if i == 2 || i >= 4 => assert!(e.bad_signature, "byte {i}: {e}"),
                Err(_) => {}
            }
        }
        // Truncated or extended: refused too.
        assert!(dec::<String>(&bytes[..bytes.len() - 1], &key_enc).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(dec::<String>(&longer, &key_enc).is_err_and(|e| e.bad_signature));
    }
}

#[test]
fn mac_from_another_storage_key_or_secret_is_refused() {
    let key_enc = signed(&SECRET);
    let bytes = enc_with(&String::from("admin"), &key_enc);
    let copied = decode::<String>(&bytes, "users:v1.0000abcd:other", &key_enc);
    assert!(copied.is_err_and(|e| e.bad_signature));
    let other_prefix = Encoding {
        signing: Some(Signing {
            key: &SECRET,
            prefix: "other",
        }),
        ..plain()
    };
    assert!(dec::<String>(&bytes, &other_prefix).is_err_and(|e| e.bad_signature));
    static OTHER: [u8; 32] = [8; 32];
    assert_eq!(
        message(dec::<String>(&bytes, &signed(&OTHER))),
        "cache codec error: stored value's signature does not verify (tampered with, copied \
         from another key, or signed with another key)"
    );
    // The key is length-prefixed: moving a byte between the key and the envelope fails.
    let shifted = decode::<String>(&bytes, &KEY[..KEY.len() - 1], &key_enc);
    assert!(shifted.is_err_and(|e| e.bad_signature));
}

#[test]
fn unsigned_entry_is_refused_with_a_key() {
    let error = dec::<String>(&enc(&String::from("hello")), &signed(&SECRET));
    let error = error.err();
    assert!(error.as_ref().is_some_and(|e| e.bad_signature));
    assert_eq!(
        error.map(|e| e.to_string()).as_deref(),
        Some(
            "cache codec error: stored value is not signed, and this cache only reads signed \
             values"
        )
    );
    // Flagged signed but too short to hold a MAC.
    let mut short = enc(&0u8);
    short[2] = FLAG_SIGNED;
    assert!(dec::<u8>(&short, &signed(&SECRET)).is_err_and(|e| e.bad_signature));
    assert!(dec::<u8>(&short, &plain()).is_err_and(|e| e.bad_signature));
}

/// Without a key, a signed entry is read by ignoring its MAC.
#[test]
fn signed_entry_is_read_without_a_key() {
    let bytes = enc_with(&String::from("hello"), &signed(&SECRET));
    assert_eq!(
        dec::<String>(&bytes, &plain()).ok().as_deref(),
        Some("hello")
    );
    let text = compressible();
    let both = enc_with(&text, &signed(&SECRET));
    assert_eq!(dec::<String>(&both, &plain()).ok(), Some(text));
}

/// A recursive value type: 2 levels per generation (the struct, its `Vec`).
#[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
struct Tree {
    kids: Vec<Tree>,
}

impl Tree {
    /// `generations` trees, each the only kid of the one above.
    fn chain(generations: usize) -> Tree {
        let mut tree = Tree { kids: Vec::new() };
        for _ in 1..generations {
            tree = Tree { kids: vec![tree] };
        }
        tree
    }
}

/// 1 level per node (the enum), the leaf too.
#[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
enum List {
    Leaf,
    Node(Box<List>),
}

/// 2 levels per link (the newtype struct, `Some`), 1 for the last.
#[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
struct Link(Option<Box<Link>>);

/// 2 levels per map (the newtype struct, the map).
#[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
struct Nest(std::collections::BTreeMap<u8, Nest>);

fn depth(max_depth: u32) -> Encoding<'static> {
    Encoding {
        max_depth,
        ..plain()
    }
}

/// The envelope of a bincode body written by hand.
fn envelope(body: &[u8]) -> Vec<u8> {
    let mut bytes = vec![MAGIC, FORMAT_VERSION, 0, 0];
    bytes.extend_from_slice(&0u64.to_le_bytes());
    bytes.extend_from_slice(body);
    bytes
}

fn too_deep<T: DeserializeOwned + std::fmt::Debug>(bytes: &[u8], max_depth: u32) -> String {
    match dec::<T>(bytes, &depth(max_depth)) {
        Ok(value) => unreachable!("decoded {value:?} past the bound"),
        Err(e) => {
            assert!(!e.bad_signature);
            e.to_string()
        }
    }
}

#[test]
fn every_kind_of_nesting_counts_up_to_the_bound() {
    let message = "cache codec error: stored value does not decode: it nests more than 10 \
                   levels deep (the max_depth bound; raise it with CacheBuilder::max_depth if \
                   such values are legitimate)";
    // A struct and a sequence per generation: 5 generations are 10 levels.
    let at = enc(&Tree::chain(5));
    assert_eq!(dec::<Tree>(&at, &depth(10)).ok(), Some(Tree::chain(5)));
    assert_eq!(too_deep::<Tree>(&enc(&Tree::chain(6)), 10), message);
    // Enum variants: 9 nodes and the leaf.
    let list = (0..9).fold(List::Leaf, |l, _| List::Node(Box::new(l)));
    let deeper = List::Node(Box::new(
        (0..9).fold(List::Leaf, |l, _| List::Node(Box::new(l))),
    ));
    assert_eq!(dec::<List>(&enc(&list), &depth(10)).ok(), Some(list));
    assert_eq!(too_deep::<List>(&enc(&deeper), 10), message);
    // Newtype structs and `Some`: 4 links and the last.
    let link = |n: usize| (0..n).fold(Link(None), |l, _| Link(Some(Box::new(l))));
    assert_eq!(dec::<Link>(&enc(&link(4)), &depth(9)).ok(), Some(link(4)));
    assert_eq!(too_deep::<Link>(&enc(&link(5)), 10), message);
    // Maps (inside newtype structs).
    let nest = |n: usize| {
        (1..n).fold(Nest(Default::default()), |inner, _| {
            Nest(std::iter::once((1, inner)).collect())
        })
    };
    assert_eq!(dec::<Nest>(&enc(&nest(5)), &depth(10)).ok(), Some(nest(5)));
    assert_eq!(too_deep::<Nest>(&enc(&nest(6)), 10), message);
    // Width does not count: 10,000 kids are 2 generations, 4 levels, as one kid is.
    let wide = Tree {
        kids: (0..10_000).map(|_| Tree { kids: Vec::new() }).collect(),
    };
    assert!(dec::<Tree>(&enc(&wide), &depth(4)).is_ok());
    assert!(dec::<Tree>(&enc(&wide), &depth(3)).is_err());
}

/// A forged entry 300,000 generations deep (600,000 levels: unbounded, bincode overflows
/// the 2 MiB stack of a test thread and the process aborts) is refused, plain and through lz4
/// (a 1.2 KiB entry that expands to 300,000 bytes).
#[test]
fn forged_deep_values_fail_without_overflowing_the_stack() {
    let mut body = vec![1u8; 299_999];
    body.push(0);
    let plain_entry = envelope(&body);
    let message = "cache codec error: stored value does not decode: it nests more than 128 \
                   levels deep (the max_depth bound; raise it with CacheBuilder::max_depth if \
                   such values are legitimate)";
    assert_eq!(too_deep::<Tree>(&plain_entry, 128), message);
    let mut packed = plain_entry.clone();
    assert!(compress::shrink(&mut packed, 1024));
    assert!(packed.len() < 2_000, "{}", packed.len());
    assert_eq!(too_deep::<Tree>(&packed, 128), message);
    // The legitimate ones up to the bound decode.
    let at = enc(&Tree::chain(64));
    assert!(is_compressed(&at) || at.len() < 1024);
    assert_eq!(dec::<Tree>(&at, &plain()).ok(), Some(Tree::chain(64)));
    assert!(dec::<Tree>(&enc(&Tree::chain(65)), &plain()).is_err());
}
