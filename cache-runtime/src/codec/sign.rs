//! The MAC trailer (envelope flag 0x02): a keyed blake3 hash of the storage key and the
//! envelope before the trailer.

use super::Signing;

/// The MAC of `envelope` (every byte before the trailer) stored under `key`.
///
/// The storage key is `{prefix}:{key}`, hashed after its length (u64, little endian), so
/// no key and envelope pair can be split another way into the same input.
pub(super) fn mac(signing: &Signing<'_>, key: &str, envelope: &[u8]) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new_keyed(signing.key);
    let len = signing.prefix.len() + 1 + key.len();
    hasher.update(&(len as u64).to_le_bytes());
    hasher.update(signing.prefix.as_bytes());
    hasher.update(b":");
    hasher.update(key.as_bytes());
    hasher.update(envelope);
    hasher.finalize()
}

/// Whether `found` is the MAC of `envelope` under `key`, compared in constant time
/// (`blake3::Hash` equality is).
pub(super) fn verify(signing: &Signing<'_>, key: &str, envelope: &[u8], found: &[u8; 32]) -> bool {
    mac(signing, key, envelope) == blake3::Hash::from_bytes(*found)
}
