//! A buffered byte sink in front of a blake3 hasher.

/// Bytes are gathered in a stack buffer. Keys whose encoding fits in it (most keys) are
/// hashed with one `blake3::hash` call at the end and never build a `blake3::Hasher` (a
/// 2 KB struct); longer ones spill into a boxed hasher in 256-byte pieces. Both give the
/// same digest.
pub(crate) struct Sink {
    buf: [u8; 256],
    len: usize,
    hasher: Option<Box<blake3::Hasher>>,
}

impl Sink {
    pub(crate) fn new() -> Self {
        Sink {
            buf: [0; 256],
            len: 0,
            hasher: None,
        }
    }

    #[inline]
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        if bytes.len() <= self.buf.len() - self.len {
            self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        } else {
            self.spill(bytes);
        }
    }

    #[cold]
    fn spill(&mut self, bytes: &[u8]) {
        let hasher = self
            .hasher
            .get_or_insert_with(|| Box::new(blake3::Hasher::new()));
        hasher.update(&self.buf[..self.len]);
        self.len = 0;
        if bytes.len() >= self.buf.len() {
            hasher.update(bytes);
        } else {
            self.buf[..bytes.len()].copy_from_slice(bytes);
            self.len = bytes.len();
        }
    }

    pub(crate) fn finish(self) -> [u8; 32] {
        match self.hasher {
            None => *blake3::hash(&self.buf[..self.len]).as_bytes(),
            Some(mut hasher) => {
                hasher.update(&self.buf[..self.len]);
                *hasher.finalize().as_bytes()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Sink;

    #[test]
    fn same_digest_whatever_the_write_pattern() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        for cut in [0, 1, 100, 255, 256, 257, 1000, 4999, 5000] {
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
}
