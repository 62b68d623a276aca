//! The entries of a map or set, encoded one by one and sorted before they are hashed, so
//! that iteration order does not change the key.

use std::cell::RefCell;

use super::sink::{copy, Out};

/// One entry: where its encoding lies in [`Entries::bytes`], and the first 16 bytes of that
/// encoding read as a big-endian number (zero-padded when shorter).
///
/// Comparing prefixes gives the lexicographic order of the encodings whenever the prefixes
/// differ: the first differing byte is then within both encodings (a real difference) or
/// past the end of the shorter one only (which is then a prefix of the other, and sorts
/// first, as its zero padding does). Equal prefixes fall back to comparing the bytes.
struct Entry {
    prefix: u128,
    start: usize,
    end: usize,
}

/// The encoded entries of one map or set.
pub(super) struct Entries {
    /// The encodings, one after the other, in iteration order.
    pub(super) bytes: Scratch,
    list: Vec<Entry>,
}

/// A byte buffer for encodings whose bytes are all initialised: the first `len` are used,
/// the rest is room. So a write is a bounds check and a short copy, as in the sink, not
/// `Vec::extend_from_slice`'s reserve and `memcpy` call.
#[derive(Default)]
pub(super) struct Scratch {
    buf: Vec<u8>,
    len: usize,
}

impl Scratch {
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Bytes `start..end` (of the used ones; always in range for recorded entries).
    #[inline]
    fn get(&self, start: usize, end: usize) -> &[u8] {
        self.buf.get(start..end).unwrap_or_default()
    }

    #[cold]
    fn grow(&mut self, end: usize) {
        let room = end.max(self.buf.len() * 2).max(256);
        self.buf.resize(room, 0);
    }
}

impl Out for Scratch {
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        // No overflow: both are at most `isize::MAX`.
        let end = self.len + bytes.len();
        if end > self.buf.len() {
            self.grow(end);
        }
        if let Some(dst) = self.buf.get_mut(self.len..end) {
            copy(dst, bytes);
            self.len = end;
        }
    }

    #[inline]
    fn put_tagged<const N: usize>(&mut self, tag: u8, bytes: [u8; N]) {
        let end = self.len + 1 + N;
        if end > self.buf.len() {
            self.grow(end);
        }
        if let Some([first, rest @ ..]) = self.buf.get_mut(self.len..end) {
            *first = tag;
            rest.copy_from_slice(&bytes);
            self.len = end;
        }
    }
}

thread_local! {
    /// Buffers of finished maps and sets, reused by the next ones on this thread: after
    /// its first key, a thread hashes maps without allocating.
    static POOL: RefCell<Vec<Entries>> = const { RefCell::new(Vec::new()) };
}

/// Buffers kept per thread: an outer map and one map inside it.
const POOL_DEPTH: usize = 2;
/// Buffers that grew past these are freed, not kept: a huge map argument does not pin
/// its memory in every thread that once hashed it.
const KEEP_BYTES: usize = 8 << 10;
const KEEP_ENTRIES: usize = 256;

impl Entries {
    /// Empty buffers, from this thread's pool when it has some.
    pub(super) fn take() -> Self {
        let pooled = POOL
            .try_with(|pool| pool.try_borrow_mut().ok().and_then(|mut pool| pool.pop()))
            .ok()
            .flatten();
        pooled.unwrap_or(Entries {
            bytes: Scratch::default(),
            list: Vec::new(),
        })
    }

    /// Records the entry from `start` to the end of [`bytes`](Entries::bytes).
    #[inline]
    pub(super) fn push(&mut self, start: usize) {
        let end = self.bytes.len();
        let prefix = prefix(self.bytes.get(start, end));
        self.list.push(Entry { prefix, start, end });
    }

    /// Writes the number of entries (8 bytes, little-endian), then the entries sorted by
    /// their encodings, to `out`; then returns the buffers to the pool.
    pub(super) fn write_sorted<O: Out>(mut self, out: &mut O) {
        let bytes = &self.bytes;
        let encoding = |e: &Entry| bytes.get(e.start, e.end);
        // By prefix first (a plain `u128` key sorts in about half the instructions of a
        // comparator that can fall back to the bytes), then each run of equal prefixes (rare)
        // by its bytes.
        self.list.sort_unstable_by_key(|e| e.prefix);
        if self.list.windows(2).any(|w| w[0].prefix == w[1].prefix) {
            for run in self.list.chunk_by_mut(|a, b| a.prefix == b.prefix) {
                run.sort_unstable_by(|a, b| encoding(a).cmp(encoding(b)));
            }
        }
        out.put(&(self.list.len() as u64).to_le_bytes());
        for entry in &self.list {
            out.put(encoding(entry));
        }
        self.recycle();
    }

    fn recycle(mut self) {
        if self.bytes.buf.len() > KEEP_BYTES || self.list.capacity() > KEEP_ENTRIES {
            return;
        }
        self.bytes.len = 0;
        self.list.clear();
        let _ = POOL.try_with(|pool| {
            if let Ok(mut pool) = pool.try_borrow_mut() {
                if pool.len() < POOL_DEPTH {
                    pool.push(self);
                }
            }
        });
    }
}

/// The first 16 bytes of `encoding`, zero-padded, as a big-endian number.
#[inline]
fn prefix(encoding: &[u8]) -> u128 {
    match encoding.first_chunk::<16>() {
        Some(head) => u128::from_be_bytes(*head),
        None => {
            let mut head = [0u8; 16];
            head[..encoding.len()].copy_from_slice(encoding);
            u128::from_be_bytes(head)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sorted order is exactly the lexicographic order of the encodings, also when
    /// they share a prefix, are shorter than 16 bytes, or end in zeros.
    #[test]
    fn sorts_like_the_bytes() {
        let mut encodings: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0, 0],
            vec![1],
            vec![1, 0],
            vec![0xff; 3],
            vec![7; 16],
            [vec![7; 16], vec![0]].concat(),
            [vec![7; 16], vec![1]].concat(),
            [vec![7; 15], vec![0]].concat(),
            vec![7; 40],
            [vec![7; 39], vec![6]].concat(),
        ];
        for i in 0..60u32 {
            let mut e = vec![0x0f, 9, 0, 0, 0, 0, 0, 0, 0];
            e.extend_from_slice(format!("k{:07}", i * 7919 % 1000).as_bytes());
            e.extend_from_slice(&u64::from(i).to_le_bytes());
            encodings.push(e);
        }
        let mut entries = Entries {
            bytes: Scratch::default(),
            list: Vec::new(),
        };
        for e in encodings.iter().rev() {
            let start = entries.bytes.len();
            entries.bytes.put(e);
            entries.push(start);
        }
        let mut out = Scratch::default();
        entries.write_sorted(&mut out);
        encodings.sort();
        let mut expected = (encodings.len() as u64).to_le_bytes().to_vec();
        expected.extend(encodings.concat());
        assert_eq!(out.get(0, out.len()), expected);
    }
}
