//! A buffered byte sink in front of a blake3 hasher.

/// Small writes (a tag byte, an 8-byte integer) are gathered here and handed to blake3 in
/// larger pieces: one `update` call per 128 bytes instead of one per field.
pub(crate) struct Sink {
    hasher: blake3::Hasher,
    buf: [u8; 128],
    len: usize,
}

impl Sink {
    pub(crate) fn new() -> Self {
        Sink {
            hasher: blake3::Hasher::new(),
            buf: [0; 128],
            len: 0,
        }
    }

    #[inline]
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        if bytes.len() > self.buf.len() - self.len {
            self.flush();
            if bytes.len() >= self.buf.len() {
                self.hasher.update(bytes);
                return;
            }
        }
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        self.write(&[b]);
    }

    #[inline]
    pub(crate) fn len_prefix(&mut self, len: usize) {
        self.write(&(len as u64).to_le_bytes());
    }

    fn flush(&mut self) {
        if self.len > 0 {
            self.hasher.update(&self.buf[..self.len]);
            self.len = 0;
        }
    }

    pub(crate) fn finish(mut self) -> [u8; 32] {
        self.flush();
        *self.hasher.finalize().as_bytes()
    }
}
