//! The stored form of a value: a small envelope around a bincode 2 body.
//!
//! ```text
//! byte 0      magic 0xCA
//! byte 1      format version (1)
//! byte 2      flags: 0x01 the body is lz4-compressed, 0x02 a MAC trailer follows the body;
//!             any other bit makes the entry unreadable
//! byte 3      reserved, 0
//! bytes 4..12 creation time, milliseconds since the Unix epoch, little endian
//! bytes 12..  the body: bincode 2 (standard config: little endian, varint lengths) of the
//!             value; with flag 0x01, the uncompressed length (u32, little endian) followed
//!             by the LZ4 block of that bincode
//! last 32     with flag 0x02: the MAC, a keyed blake3 hash of the storage key (its length
//!             as a u64, little endian, then its bytes) followed by every byte before the MAC
//! ```
//!
//! The header is never compressed, so the creation time reads the same on every entry.
//! Values whose bincode is at most the compression threshold (1 KiB by default), and values
//! lz4 does not shrink, are stored uncompressed: their bytes are exactly those of an entry
//! written before compression existed.
//!
//! Decoding never trusts the bytes: the envelope is checked first, the entry must be within
//! the configured maximum value size, a compressed body's claimed length is checked against
//! that maximum before anything is allocated, bincode reads from the slice with a size
//! limit, so a forged length prefix fails instead of allocating, and the value may nest at
//! most `max_depth` levels (see [`depth`]), so a forged deep value fails instead of
//! overflowing the stack.
//!
//! The storage key under the MAC is the key as Redis holds it, `{prefix}:{key}` (the memory
//! store signs the same text), so a signed value copied to another key, or to another
//! prefix, does not verify. With a signing key configured, an entry without a MAC or with
//! one that does not verify is refused; without one, a signed entry is read by ignoring its
//! MAC: the reader then trusts its store, as it does for unsigned entries (this lets a
//! deployment turn signing on one process at a time).

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

mod compress;
mod depth;
mod sign;
pub(crate) mod value;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub(crate) const MAGIC: u8 = 0xCA;
pub(crate) const FORMAT_VERSION: u8 = 1;
pub(crate) const HEADER_LEN: usize = 12;
/// Flag bit: the body is an lz4 block with its uncompressed length prepended.
pub(crate) const FLAG_COMPRESSED: u8 = 0x01;
/// Flag bit: a [`MAC_LEN`]-byte MAC trailer ends the envelope.
pub(crate) const FLAG_SIGNED: u8 = 0x02;
const KNOWN_FLAGS: u8 = FLAG_COMPRESSED | FLAG_SIGNED;
/// The length of the MAC trailer.
pub(crate) const MAC_LEN: usize = 32;

/// Upper bound bincode checks every claimed length against (the body is bounded by
/// `max_value_bytes` before decoding; this guards the claims inside it).
const DECODE_LIMIT: usize = 1 << 30;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// How values are encoded and decoded: the size limit, compression, signing. A cache builds
/// its own from its settings (`Inner::encoding`); nothing here knows the cache.
#[derive(Clone, Copy)]
pub(crate) struct Encoding<'a> {
    /// The largest envelope written or read, and the largest body a compressed one may
    /// claim to expand to.
    pub(crate) max_bytes: usize,
    /// Bodies larger than this are compressed (when that makes them smaller); `None`: never.
    pub(crate) compress_above: Option<usize>,
    /// The MAC key and the key prefix, when values are signed.
    pub(crate) signing: Option<Signing<'a>>,
    /// The deepest nesting a decoded value may have (see [`depth`]).
    pub(crate) max_depth: u32,
}

/// What signs and verifies envelopes: the MAC key, and the prefix of the storage keys.
#[derive(Clone, Copy)]
pub(crate) struct Signing<'a> {
    pub(crate) key: &'a [u8; 32],
    pub(crate) prefix: &'a str,
}

impl std::fmt::Debug for Encoding<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Encoding")
            .field("max_bytes", &self.max_bytes)
            .field("compress_above", &self.compress_above)
            .field("signed", &self.signing.is_some())
            .field("max_depth", &self.max_depth)
            .finish()
    }
}

impl<'a> Encoding<'a> {
    /// This encoding, compressing only if `yes` (a function's `compress = false`).
    pub(crate) fn compress(mut self, yes: bool) -> Self {
        if !yes {
            self.compress_above = None;
        }
        self
    }
}

/// Why stored bytes did not decode.
#[derive(Debug)]
pub(crate) struct DecodeError {
    /// What is wrong, as an [`Error::Codec`].
    pub(crate) error: Error,
    /// The entry's MAC is missing or does not verify (counted in `bad_signatures`).
    pub(crate) bad_signature: bool,
}

impl DecodeError {
    fn corrupt(message: std::fmt::Arguments<'_>) -> Self {
        DecodeError {
            error: Error::codec(message),
            bad_signature: false,
        }
    }

    fn signature(message: &str) -> Self {
        DecodeError {
            error: Error::codec(message),
            bad_signature: true,
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

/// Encodes `value`, stored under `key`, into an envelope of at most `enc.max_bytes` bytes.
///
/// Stops as soon as the uncompressed output grows past the limit, so a huge value costs no
/// more memory than the limit. The limit applies before compression, so every value that is
/// stored can be decompressed by a reader with the same limit.
pub(crate) fn encode<T: Serialize + ?Sized>(
    value: &T,
    key: &str,
    enc: &Encoding<'_>,
) -> Result<Vec<u8>> {
    let created = now_ms();
    let trailer = if enc.signing.is_some() { MAC_LEN } else { 0 };
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&[MAGIC, FORMAT_VERSION, 0, 0]);
    out.extend_from_slice(&created.to_le_bytes());
    let mut writer = Limited {
        out,
        max: enc.max_bytes.saturating_sub(trailer),
        overflow: false,
    };
    let res = bincode::serde::encode_into_std_write(value, &mut writer, config());
    if writer.overflow {
        return Err(Error::TooLarge {
            size: (writer.out.len() + trailer).max(enc.max_bytes.saturating_add(1)),
            max: enc.max_bytes,
        });
    }
    res.map_err(|e| Error::codec(format_args!("could not encode the value: {e}")))?;
    let mut out = writer.out;
    if let Some(threshold) = enc.compress_above {
        compress::shrink(&mut out, threshold);
    }
    if let Some(signing) = &enc.signing {
        if let Some(flags) = out.get_mut(2) {
            *flags |= FLAG_SIGNED;
        }
        let mac = sign::mac(signing, key, &out);
        out.extend_from_slice(mac.as_bytes());
    }
    Ok(out)
}

/// Decodes an envelope written by [`encode`] under `key`.
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    key: &str,
    enc: &Encoding<'_>,
) -> Result<T, DecodeError> {
    let (flags, body) = open(bytes, key, enc)?;
    if flags & FLAG_COMPRESSED != 0 {
        let body = compress::expand(body, enc.max_bytes)?;
        from_bincode(&body, enc.max_depth)
    } else {
        from_bincode(body, enc.max_depth)
    }
}

/// Whether an envelope's body is compressed.
pub(crate) fn is_compressed(bytes: &[u8]) -> bool {
    bytes
        .get(2)
        .is_some_and(|flags| flags & FLAG_COMPRESSED != 0)
}

/// The creation time (ms since the Unix epoch) in an envelope's header.
pub(crate) fn created_ms(bytes: &[u8]) -> Option<u64> {
    let header = bytes.first_chunk::<HEADER_LEN>()?;
    let created = header.get(4..12)?;
    Some(u64::from_le_bytes(created.try_into().ok()?))
}

/// Milliseconds since the Unix epoch: the clock envelopes are stamped with.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, crate::millis)
}

/// Whether an envelope was written less than `ttl` ago (`None`: it has no header).
pub(crate) fn is_fresh(bytes: &[u8], ttl: Duration) -> Option<bool> {
    let created = created_ms(bytes)?;
    Some(now_ms() < created.saturating_add(crate::millis(ttl)))
}

/// What is left of `ttl` since an envelope was written: zero once it is past (`None`: it has
/// no header).
#[cfg(feature = "redis")]
pub(crate) fn fresh_left(bytes: &[u8], ttl: Duration) -> Option<Duration> {
    let expires = created_ms(bytes)?.saturating_add(crate::millis(ttl));
    Some(Duration::from_millis(expires.saturating_sub(now_ms())))
}

/// Whether an envelope was written `age` ago or earlier (`false` without a header).
pub(crate) fn is_older_than(bytes: &[u8], age: Duration) -> bool {
    created_ms(bytes).is_some_and(|created| now_ms().saturating_sub(created) >= crate::millis(age))
}

fn from_bincode<T: DeserializeOwned>(body: &[u8], max_depth: u32) -> Result<T, DecodeError> {
    let bounded = depth::Bounded {
        max: max_depth,
        marker: std::marker::PhantomData::<T>,
    };
    let (value, used) =
        bincode::serde::seed_decode_from_slice(bounded, body, config()).map_err(|e| match e {
            // serde's messages (and the depth bound's), without bincode's `Debug` wrapping.
            bincode::error::DecodeError::OtherString(why) => {
                DecodeError::corrupt(format_args!("stored value does not decode: {why}"))
            }
            e => DecodeError::corrupt(format_args!("stored value does not decode: {e}")),
        })?;
    if used != body.len() {
        return Err(DecodeError::corrupt(format_args!(
            "stored value has {} trailing bytes (written for another type?)",
            body.len() - used
        )));
    }
    Ok(value)
}

/// Checks the envelope (and its MAC, with a signing key) and returns its flags and its body
/// (without the MAC).
fn open<'b>(bytes: &'b [u8], key: &str, enc: &Encoding<'_>) -> Result<(u8, &'b [u8]), DecodeError> {
    if bytes.len() > enc.max_bytes {
        return Err(DecodeError::corrupt(format_args!(
            "stored value of {} bytes is above the maximum of {}",
            bytes.len(),
            enc.max_bytes
        )));
    }
    let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(DecodeError::corrupt(format_args!(
            "stored value of {} bytes is shorter than the envelope header",
            bytes.len()
        )));
    };
    if header[0] != MAGIC {
        return Err(DecodeError::corrupt(format_args!(
            "stored value does not start with the envelope magic byte (found {:#04x})",
            header[0]
        )));
    }
    if header[1] != FORMAT_VERSION {
        return Err(DecodeError::corrupt(format_args!(
            "stored value has envelope format {}; this build reads format {FORMAT_VERSION}",
            header[1]
        )));
    }
    let flags = header[2];
    if flags & !KNOWN_FLAGS != 0 || header[3] != 0 {
        return Err(DecodeError::corrupt(format_args!(
            "stored value has unknown envelope flags {flags:#04x}"
        )));
    }
    if flags & FLAG_SIGNED == 0 {
        if enc.signing.is_some() {
            return Err(DecodeError::signature(
                "stored value is not signed, and this cache only reads signed values",
            ));
        }
        return Ok((flags, body));
    }
    let Some((signed, mac)) = bytes
        .split_last_chunk::<MAC_LEN>()
        .filter(|(signed, _)| signed.len() >= HEADER_LEN)
    else {
        return Err(DecodeError::signature(
            "stored value is signed but too short to hold its signature",
        ));
    };
    if let Some(signing) = &enc.signing {
        if !sign::verify(signing, key, signed, mac) {
            return Err(DecodeError::signature(
                "stored value's signature does not verify (tampered with, copied from \
                 another key, or signed with another key)",
            ));
        }
    }
    let body = signed.get(HEADER_LEN..).unwrap_or_default();
    Ok((flags, body))
}

/// A `Write` that refuses to grow past `max` bytes.
struct Limited {
    out: Vec<u8>,
    max: usize,
    overflow: bool,
}

impl Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > self.max {
            self.overflow = true;
            return Err(std::io::Error::other("value exceeds max_value_bytes"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
