//! A buffered byte sink in front of a blake3 hasher, and [`Out`], where the key serializer
//! writes its bytes (this sink, or the scratch buffer of an unordered collection).

use std::cell::Cell;

/// Bytes are gathered in a stack buffer. Keys whose encoding fits in it (most keys) are
/// hashed with one `blake3::hash` call at the end and never build a `blake3::Hasher` (a
/// 2 KB struct); longer ones spill into a boxed hasher in 128-byte pieces. Both give the
/// same digest. The boxed hasher is reused: [`finish`](Sink::finish) hands it back to a
/// per-thread spare, which the next spill takes, so a long key allocates nothing either
/// once its thread has built one.
pub(crate) struct Sink {
    buf: [u8; 128],
    len: usize,
    hasher: Option<Box<blake3::Hasher>>,
}

thread_local! {
    /// A reset hasher for the next spill on this thread (one is enough: a key is built
    /// before the next one starts, and a nested one just allocates).
    static SPARE: Cell<Option<Box<blake3::Hasher>>> = const { Cell::new(None) };
}

impl Sink {
    pub(crate) fn new() -> Self {
        Sink {
            buf: [0; 128],
            len: 0,
            hasher: None,
        }
    }

    #[inline]
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        if bytes.len() <= self.buf.len() - self.len {
            copy(&mut self.buf[self.len..self.len + bytes.len()], bytes);
            self.len += bytes.len();
        } else {
            self.spill(bytes);
        }
    }

    /// `tag`, then `bytes`, with one capacity check.
    #[inline]
    pub(crate) fn write_tagged<const N: usize>(&mut self, tag: u8, bytes: [u8; N]) {
        let len = self.len;
        match self.buf.get_mut(len..len + 1 + N) {
            Some([first, rest @ ..]) => {
                *first = tag;
                rest.copy_from_slice(&bytes);
                self.len = len + 1 + N;
            }
            _ => {
                self.write(&[tag]);
                self.write(&bytes);
            }
        }
    }

    #[cold]
    fn spill(&mut self, bytes: &[u8]) {
        let hasher = self.hasher.get_or_insert_with(|| {
            // Never fails but during thread teardown; then allocate.
            SPARE
                .try_with(Cell::take)
                .ok()
                .flatten()
                .unwrap_or_else(|| Box::new(blake3::Hasher::new()))
        });
        hasher.update(&self.buf[..self.len]);
        self.len = 0;
        if bytes.len() >= self.buf.len() {
            hasher.update(bytes);
        } else {
            self.buf[..bytes.len()].copy_from_slice(bytes);
            self.len = bytes.len();
        }
    }

    /// The 32 hex digits of a key's digest of everything written (its first 16 bytes);
    /// the sink is empty afterwards. Short encodings take them from this thread's
    /// [`memo`](super::memo) when a recent key had the same bytes.
    #[inline]
    pub(crate) fn finish_digits(&mut self) -> super::Digits {
        if self.hasher.is_none() && self.len <= super::memo::MAX {
            let len = std::mem::take(&mut self.len);
            let mut bytes = [0u8; super::memo::MAX];
            bytes[..len].copy_from_slice(&self.buf[..len]);
            return super::memo::digits(&bytes, len, || {
                super::hex_digits(blake3::hash(&bytes[..len]).as_bytes())
            });
        }
        super::hex_digits(&self.finish())
    }

    /// The digest of everything written; the sink is empty afterwards.
    pub(crate) fn finish(&mut self) -> [u8; 32] {
        let len = std::mem::take(&mut self.len);
        match self.hasher.take() {
            None => *blake3::hash(&self.buf[..len]).as_bytes(),
            Some(mut hasher) => {
                hasher.update(&self.buf[..len]);
                let digest = *hasher.finalize().as_bytes();
                hasher.reset();
                let _ = SPARE.try_with(|spare| spare.set(Some(hasher)));
                digest
            }
        }
    }
}

/// Copies `src` into `dst` (of the same length). Most writes are short (a field name, a
/// short string, a map entry), and `copy_from_slice` of an unknown length is a `memcpy`
/// call (about 25 instructions for a few bytes), so up to 32 bytes are copied as two
/// fixed-size pieces that may overlap.
#[inline]
pub(super) fn copy(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n != dst.len() {
        // Never: callers slice `dst` to `src`'s length. The check lets the compiler drop
        // the bounds checks below.
        return;
    }
    match n {
        0 => {}
        1..=3 => {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
        4..=7 => {
            dst[..4].copy_from_slice(&src[..4]);
            dst[n - 4..].copy_from_slice(&src[n - 4..]);
        }
        8..=16 => {
            dst[..8].copy_from_slice(&src[..8]);
            dst[n - 8..].copy_from_slice(&src[n - 8..]);
        }
        17..=32 => {
            dst[..16].copy_from_slice(&src[..16]);
            dst[n - 16..].copy_from_slice(&src[n - 16..]);
        }
        _ => dst.copy_from_slice(src),
    }
}

/// Where encoded bytes go: the blake3 [`Sink`], or a scratch buffer for the entries of a
/// map or set (which are sorted before they reach the hasher).
pub(crate) trait Out {
    fn put(&mut self, bytes: &[u8]);

    /// `tag`, then `bytes`: one capacity check, and stored straight from registers (an
    /// array gathered on the stack first and then copied would be read back before its
    /// stores complete, which stalls the copy).
    fn put_tagged<const N: usize>(&mut self, tag: u8, bytes: [u8; N]);
}

impl Out for Sink {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        self.write(bytes);
    }

    #[inline]
    fn put_tagged<const N: usize>(&mut self, tag: u8, bytes: [u8; N]) {
        self.write_tagged(tag, bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::Sink;

    #[test]
    fn same_digest_whatever_the_write_pattern() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        for cut in [0, 1, 100, 127, 128, 129, 255, 256, 257, 1000, 4999, 5000] {
            let mut sink = Sink::new();
            sink.write(&data[..cut]);
            for chunk in data[cut..].chunks(13) {
                sink.write(chunk);
            }
            assert_eq!(
                sink.finish(),
                *blake3::hash(&data).as_bytes(),
                "cut at {cut}"
            );
        }
    }

    /// Every write length (each path of `copy`) and tagged writes on both sides of the
    /// buffer's end give the bytes written; the reused hasher too.
    #[test]
    fn every_write_length() {
        for len in 0..=40 {
            for offset in [0, 72, 112, 122, 127] {
                let mut sink = Sink::new();
                let mut expected = Vec::new();
                let filler: Vec<u8> = (0..offset).map(|i| i as u8).collect();
                sink.write(&filler);
                expected.extend_from_slice(&filler);
                for round in 0..30u8 {
                    let bytes: Vec<u8> = (0..len).map(|i| i as u8 ^ round).collect();
                    sink.write(&bytes);
                    expected.extend_from_slice(&bytes);
                    sink.write_tagged(round, u64::from(round).to_le_bytes());
                    expected.push(round);
                    expected.extend_from_slice(&u64::from(round).to_le_bytes());
                }
                assert_eq!(
                    sink.finish(),
                    *blake3::hash(&expected).as_bytes(),
                    "length {len}, offset {offset}"
                );
            }
        }
    }
}
