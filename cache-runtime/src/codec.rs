//! The stored form of a value: a small envelope around a bincode 2 body.
//!
//! ```text
//! byte 0      magic 0xCA
//! byte 1      format version (1)
//! byte 2      flags (none defined in version 1; unknown bits make the entry unreadable)
//! byte 3      reserved, 0
//! bytes 4..12 creation time, milliseconds since the Unix epoch, little endian
//! bytes 12..  bincode 2 (standard config: little endian, varint lengths) of the value
//! ```
//!
//! Decoding never trusts the bytes: the envelope is checked first, the body must be within
//! the configured maximum value size, and bincode reads from the slice with a size limit, so
//! a forged length prefix fails instead of allocating.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

pub(crate) const MAGIC: u8 = 0xCA;
pub(crate) const FORMAT_VERSION: u8 = 1;
pub(crate) const HEADER_LEN: usize = 12;

/// Upper bound bincode checks every claimed length against (the body is bounded by
/// `max_value_bytes` before decoding; this guards the claims inside it).
const DECODE_LIMIT: usize = 1 << 30;

fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_LIMIT>()
}

/// Encodes `value` into an envelope of at most `max_bytes` bytes.
///
/// Stops as soon as the output grows past `max_bytes`, so a huge value costs no more memory
/// than the limit.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T, max_bytes: usize) -> Result<Vec<u8>> {
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&[MAGIC, FORMAT_VERSION, 0, 0]);
    out.extend_from_slice(&created.to_le_bytes());
    let mut writer = Limited {
        out,
        max: max_bytes,
        overflow: false,
    };
    let res = bincode::serde::encode_into_std_write(value, &mut writer, config());
    if writer.overflow {
        return Err(Error::TooLarge {
            size: writer.out.len().max(max_bytes + 1),
            max: max_bytes,
        });
    }
    res.map_err(|e| Error::codec(format_args!("could not encode the value: {e}")))?;
    Ok(writer.out)
}

/// Decodes an envelope written by [`encode`].
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8], max_bytes: usize) -> Result<T> {
    let body = body(bytes, max_bytes)?;
    let (value, used) = bincode::serde::decode_from_slice::<T, _>(body, config())
        .map_err(|e| Error::codec(format_args!("stored value does not decode: {e}")))?;
    if used != body.len() {
        return Err(Error::codec(format_args!(
            "stored value has {} trailing bytes (written for another type?)",
            body.len() - used
        )));
    }
    Ok(value)
}

/// The creation time (ms since the Unix epoch) in an envelope's header.
pub(crate) fn created_ms(bytes: &[u8]) -> Option<u64> {
    let header = bytes.first_chunk::<HEADER_LEN>()?;
    let created = header.get(4..12)?;
    Some(u64::from_le_bytes(created.try_into().ok()?))
}

/// Checks the envelope and returns its body.
fn body(bytes: &[u8], max_bytes: usize) -> Result<&[u8]> {
    if bytes.len() > max_bytes {
        return Err(Error::codec(format_args!(
            "stored value of {} bytes is above the maximum of {max_bytes}",
            bytes.len()
        )));
    }
    let Some((header, body)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(Error::codec(format_args!(
            "stored value of {} bytes is shorter than the envelope header",
            bytes.len()
        )));
    };
    if header[0] != MAGIC {
        return Err(Error::codec(format_args!(
            "stored value does not start with the envelope magic byte (found {:#04x})",
            header[0]
        )));
    }
    if header[1] != FORMAT_VERSION {
        return Err(Error::codec(format_args!(
            "stored value has envelope format {}; this build reads format {FORMAT_VERSION}",
            header[1]
        )));
    }
    if header[2] != 0 || header[3] != 0 {
        return Err(Error::codec(format_args!(
            "stored value has unknown envelope flags {:#04x}",
            header[2]
        )));
    }
    Ok(body)
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

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 8 << 20;

    fn enc<T: Serialize>(v: &T) -> Vec<u8> {
        encode(v, MAX).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn round_trip() {
        let v = (42u64, String::from("hello"), vec![1.5f64, 2.5]);
        let bytes = enc(&v);
        assert_eq!(bytes[0], MAGIC);
        assert_eq!(bytes[1], FORMAT_VERSION);
        let back: (u64, String, Vec<f64>) =
            decode(&bytes, MAX).unwrap_or_else(|e| unreachable!("{e}"));
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
        assert!(decode::<String>(&[], MAX).is_err());
        assert!(decode::<String>(&good[..good.len() - 1], MAX).is_err());
        let mut foreign = good.clone();
        foreign[0] = b'{';
        assert!(decode::<String>(&foreign, MAX).is_err());
        let mut future = good.clone();
        future[1] = 9;
        let err = decode::<String>(&future, MAX).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "cache codec error: stored value has envelope format 9; this build reads format 1"
            )
        );
        // Same bytes read as another type: trailing bytes or a decode error, never a value.
        assert!(decode::<u8>(&good, MAX).is_err());
    }

    #[test]
    fn huge_length_prefix_does_not_allocate() {
        // A Vec<u8> claiming 2^40 elements, followed by nothing.
        let mut bytes = enc(&0u8);
        bytes.truncate(HEADER_LEN);
        bytes.push(253); // varint tag for a u64 length
        bytes.extend_from_slice(&(1u64 << 40).to_le_bytes());
        assert!(decode::<Vec<u8>>(&bytes, MAX).is_err());
        assert!(decode::<String>(&bytes, MAX).is_err());
    }

    #[test]
    fn oversized_values_are_refused() {
        let big = vec![7u8; 4096];
        match encode(&big, 1024) {
            Err(Error::TooLarge { max, .. }) => assert_eq!(max, 1024),
            other => unreachable!("expected TooLarge, got {other:?}"),
        }
        assert!(decode::<Vec<u8>>(&enc(&big), 1024).is_err());
    }
}
