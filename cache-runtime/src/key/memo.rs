//! The digits of recent short keys, per thread: a call whose arguments encode to the same
//! bytes as a recent call on its thread (every hit of a hot key) takes its key's digest
//! digits from here instead of hashing the bytes again.
//!
//! The memo holds a pure function's results (blake3 of the bytes, as hex digits), each
//! with the exact bytes it was computed from, compared in full before it is used: a slot
//! shared by two encodings (by chance, or by arguments made to collide in the index) only
//! costs the hash it would have cost anyway. Encodings longer than [`MAX`] bytes are never
//! kept. 256 slots of 89 bytes: 22 KiB per thread.

use std::cell::RefCell;

use super::Digits;

/// The longest encoding kept (a few integers, or a short string and an integer).
pub(super) const MAX: usize = 56;
const SLOTS: usize = 256;
/// The `len` of a slot that holds nothing.
const EMPTY: u8 = u8::MAX;

#[derive(Clone, Copy)]
struct Slot {
    len: u8,
    /// The encoding, zero past `len`.
    bytes: [u8; MAX],
    /// The hex digits of the encoding's key digest.
    digits: Digits,
}

const VACANT: Slot = Slot {
    len: EMPTY,
    bytes: [0; MAX],
    digits: Digits::new_const(),
};

thread_local! {
    static MEMO: RefCell<[Slot; SLOTS]> = const { RefCell::new([VACANT; SLOTS]) };
}

/// The digits of `bytes[..len]`, from the memo or from `digits` (then kept). `bytes` is
/// zero past `len` (a sink's buffer that never spilled), `len` at most [`MAX`].
#[inline]
pub(super) fn digits(bytes: &[u8; MAX], len: usize, compute: impl FnOnce() -> Digits) -> Digits {
    let index = slot_of(bytes, len);
    let found = MEMO.try_with(|memo| {
        let memo = memo.try_borrow().ok()?;
        let slot = memo.get(index)?;
        (usize::from(slot.len) == len && slot.bytes == *bytes).then_some(slot.digits)
    });
    if let Ok(Some(digits)) = found {
        return digits;
    }
    let digits = compute();
    // During thread teardown there is no memo: the digits are only not kept.
    let _ = MEMO.try_with(|memo| {
        if let Ok(mut memo) = memo.try_borrow_mut() {
            if let Some(slot) = memo.get_mut(index) {
                *slot = Slot {
                    // At most MAX (56), so it fits.
                    len: u8::try_from(len).unwrap_or(EMPTY),
                    bytes: *bytes,
                    digits,
                };
            }
        }
    });
    digits
}

/// The slot of an encoding: a multiplicative hash of its first and last 8 bytes and its
/// length (the bytes are compared in full anyway).
#[inline]
fn slot_of(bytes: &[u8; MAX], len: usize) -> usize {
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let tail = len.saturating_sub(8).min(MAX - 8);
    let mixed =
        (word(0) ^ word(tail).rotate_left(29) ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> 56) as usize % SLOTS
}

#[cfg(test)]
mod tests {
    use super::{digits, Digits, MAX};

    fn encoding(text: &[u8]) -> [u8; MAX] {
        let mut bytes = [0u8; MAX];
        bytes[..text.len()].copy_from_slice(text);
        bytes
    }

    fn digits_of(n: usize) -> Digits {
        Digits::from(&format!("{n:032x}")).unwrap_or_default()
    }

    /// The memo gives each encoding its own digits: the first call computes them, a second
    /// call of the same bytes does not, and encodings that differ only in length or in one
    /// byte (the same slot or not) never share digits.
    #[test]
    fn each_encoding_keeps_its_own_digits() {
        let cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0],
            vec![0, 0],
            b"abc".to_vec(),
            b"abd".to_vec(),
            vec![7; MAX],
            (0..MAX as u8).collect(),
        ];
        for (n, case) in cases.iter().enumerate() {
            let bytes = encoding(case);
            let mut computed = 0;
            let mut compute = || {
                computed += 1;
                digits_of(n + 1)
            };
            assert_eq!(digits(&bytes, case.len(), &mut compute), digits_of(n + 1));
            assert_eq!(digits(&bytes, case.len(), &mut compute), digits_of(n + 1));
            assert_eq!(computed, 1, "case {n}");
        }
        // All still there or recomputed: never another case's digits.
        for (n, case) in cases.iter().enumerate() {
            let got = digits(&encoding(case), case.len(), || digits_of(n + 1));
            assert_eq!(got, digits_of(n + 1), "case {n}");
        }
    }

    /// Thousands of encodings through 256 slots: every answer is the encoding's own.
    #[test]
    fn slot_collisions_recompute() {
        for round in 0..2 {
            for i in 0u32..5000 {
                let text = i.to_le_bytes();
                let want = digits_of(i as usize);
                assert_eq!(
                    digits(&encoding(&text), 4, || want),
                    want,
                    "{i} in round {round}"
                );
            }
        }
    }
}
