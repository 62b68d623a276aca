//! The compressed body (envelope flag 0x01): lz4 block format with the uncompressed length
//! prepended (u32, little endian), through lz4_flex's safe encoder and decoder.

use super::{DecodeError, FLAG_COMPRESSED, HEADER_LEN};

/// Compresses the body of the envelope `out` in place if it is longer than `threshold` and
/// lz4 makes it smaller; returns whether it did. Otherwise `out` is left as it was.
pub(super) fn shrink(out: &mut Vec<u8>, threshold: usize) -> bool {
    let Some(body) = out.get(HEADER_LEN..) else {
        return false;
    };
    // The prepended length is a u32: larger bodies stay uncompressed.
    if body.len() <= threshold || u32::try_from(body.len()).is_err() {
        return false;
    }
    let packed = lz4_flex::block::compress_prepend_size(body);
    if packed.len() >= body.len() {
        return false;
    }
    out.truncate(HEADER_LEN);
    out.extend_from_slice(&packed);
    if let Some(flags) = out.get_mut(2) {
        *flags |= FLAG_COMPRESSED;
    }
    true
}

/// The uncompressed bincode of a compressed body. The claimed length is checked against
/// `max_bytes` before anything is allocated, and the block must expand to exactly that
/// length.
pub(super) fn expand(body: &[u8], max_bytes: usize) -> Result<Vec<u8>, DecodeError> {
    let Some((len, block)) = body.split_first_chunk::<4>() else {
        return Err(DecodeError::corrupt(format_args!(
            "stored value is compressed but has no uncompressed length"
        )));
    };
    let claimed = u32::from_le_bytes(*len);
    let size = match usize::try_from(claimed) {
        Ok(size) if size <= max_bytes => size,
        _ => {
            return Err(DecodeError::corrupt(format_args!(
                "stored value claims to decompress to {claimed} bytes, above the maximum \
                 of {max_bytes}"
            )))
        }
    };
    let mut out = vec![0u8; size];
    let written = lz4_flex::block::decompress_into(block, &mut out)
        .map_err(|e| DecodeError::corrupt(format_args!("stored value does not decompress: {e}")))?;
    if written != size {
        return Err(DecodeError::corrupt(format_args!(
            "stored value decompresses to {written} bytes, not the {size} it claims"
        )));
    }
    Ok(out)
}
