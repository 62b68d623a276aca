//! A `serde::Serializer` that streams a value into a blake3 hasher (through the [`Sink`]'s
//! stack buffer).
//!
//! The encoding is prefix-free: every value starts with a tag byte, strings and byte slices
//! are length-prefixed, and sequences end with an end tag, so `("ab", "c")` and `("a", "bc")`
//! hash differently. Lengths and integers wider than a byte are [varints](Varint) (one byte
//! below 251), and a struct's field names are written as a length and the name, with no tag
//! (a field name is never anything else), so a typical argument fits in one 64-byte blake3
//! block. Maps and sets hash independently of iteration order: each entry is
//! encoded on its own into a scratch buffer, the encodings are sorted, and the sorted list is
//! hashed (see [`unordered`](super::unordered): the buffers are reused per thread, so once a
//! thread has hashed a map, maps cost no allocation either). Floats are canonicalized
//! (`-0.0` hashes as `0.0`, every NaN as one NaN). Struct and enum *type* names are not
//! hashed (renaming a type keeps its keys); field and variant names are.
//!
//! Writes are few and fixed-size where possible: a tag and its fixed-size value, or a tag and
//! a length, are one write (one capacity check), and short byte strings are copied without a
//! `memcpy` call.

use serde::ser::{self, Serialize};

use super::sink::{Out, Sink};
use super::unordered::Entries;

mod tag {
    pub(super) const BOOL: u8 = 0x01;
    pub(super) const I8: u8 = 0x02;
    pub(super) const I16: u8 = 0x03;
    pub(super) const I32: u8 = 0x04;
    pub(super) const I64: u8 = 0x05;
    pub(super) const I128: u8 = 0x06;
    pub(super) const U8: u8 = 0x07;
    pub(super) const U16: u8 = 0x08;
    pub(super) const U32: u8 = 0x09;
    pub(super) const U64: u8 = 0x0a;
    pub(super) const U128: u8 = 0x0b;
    pub(super) const F32: u8 = 0x0c;
    pub(super) const F64: u8 = 0x0d;
    pub(super) const CHAR: u8 = 0x0e;
    pub(super) const STR: u8 = 0x0f;
    pub(super) const BYTES: u8 = 0x10;
    pub(super) const NONE: u8 = 0x11;
    pub(super) const SOME: u8 = 0x12;
    pub(super) const UNIT: u8 = 0x13;
    pub(super) const UNIT_VARIANT: u8 = 0x14;
    pub(super) const NEWTYPE_VARIANT: u8 = 0x15;
    pub(super) const SEQ: u8 = 0x16;
    pub(super) const TUPLE: u8 = 0x17;
    pub(super) const TUPLE_VARIANT: u8 = 0x18;
    pub(super) const STRUCT: u8 = 0x19;
    pub(super) const STRUCT_VARIANT: u8 = 0x1a;
    pub(super) const MAP: u8 = 0x1b;
    pub(super) const SET: u8 = 0x1c;
    pub(super) const END: u8 = 0x1d;
}

/// The variable-length integer of the encoding (bincode's scheme): a value below 251 is
/// one byte; a larger one is a marker byte, then the value as a little-endian integer of the
/// marker's width. Always the shortest form, so a value has exactly one encoding, and
/// self-delimiting, so the encoding stays prefix-free.
struct Varint;

impl Varint {
    /// The largest value written as itself.
    const MAX_SHORT: u64 = 250;
    /// Marker of a value written as a `u16`.
    const U16: u8 = 251;
    /// Marker of a value written as a `u32`.
    const U32: u8 = 252;
    /// Marker of a value written as a `u64`.
    const U64: u8 = 253;
    /// Marker of a value written as a `u128`.
    const U128: u8 = 254;
}

/// Zigzag: small negative numbers map to small unsigned ones (0, -1, 1, -2 … → 0, 1, 2, 3 …).
#[inline]
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Error raised by a value's own `Serialize` impl (ours never fails).
#[derive(Debug)]
pub(crate) struct KeyError(pub(crate) String);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for KeyError {}
impl ser::Error for KeyError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        KeyError(msg.to_string())
    }
}

/// Hashes `value` into `sink`.
pub(crate) fn hash_into<T: Serialize + ?Sized>(sink: &mut Sink, value: &T) -> Result<(), KeyError> {
    encode_into(sink, value)
}

fn encode_into<O: Out, T: Serialize + ?Sized>(out: &mut O, value: &T) -> Result<(), KeyError> {
    let mut ser = KeySerializer {
        out,
        unordered_next: is_unordered_set::<T>(),
    };
    value.serialize(&mut ser)
}

/// Whether `T` is a set whose iteration order differs between processes.
///
/// serde serializes `HashSet` exactly like `Vec`, so the serializer cannot tell them apart;
/// the static type can. Smart pointers and references are looked through.
fn is_unordered_set<T: ?Sized>() -> bool {
    let mut name = std::any::type_name::<T>();
    // Fast reject: every set type is generic, so its name ends with `>`. This keeps the
    // check to one byte for the elements of a `Vec<String>` or the fields of a struct.
    if !name.ends_with('>') {
        return false;
    }
    loop {
        let stripped = name
            .strip_prefix("&mut ")
            .or_else(|| name.strip_prefix('&'))
            .or_else(|| name.strip_prefix("alloc::boxed::Box<"))
            .or_else(|| name.strip_prefix("alloc::sync::Arc<"))
            .or_else(|| name.strip_prefix("alloc::rc::Rc<"));
        match stripped {
            Some(rest) => name = rest,
            None => break,
        }
    }
    name.starts_with("std::collections::hash::set::HashSet<")
        || name.starts_with("hashbrown::set::HashSet<")
}

struct KeySerializer<'a, O: Out> {
    out: &'a mut O,
    unordered_next: bool,
}

impl<O: Out> KeySerializer<'_, O> {
    fn nested<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
        self.unordered_next = is_unordered_set::<T>();
        value.serialize(&mut *self)
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        self.out.put(&[b]);
    }

    #[inline]
    fn tagged<const N: usize>(&mut self, tag: u8, bytes: [u8; N]) {
        self.out.put_tagged(tag, bytes);
    }

    /// `tag`, then `v` as a [`Varint`]: one write when `v` is short.
    #[inline]
    fn tagged_varint(&mut self, tag: u8, v: u64) {
        if v <= Varint::MAX_SHORT {
            self.tagged(tag, [v as u8]);
        } else {
            self.byte(tag);
            self.wide(v);
        }
    }

    /// `v` as a [`Varint`], with no tag.
    #[inline]
    fn varint(&mut self, v: u64) {
        if v <= Varint::MAX_SHORT {
            self.byte(v as u8);
        } else {
            self.wide(v);
        }
    }

    /// A [`Varint`] too large for one byte: its marker is written as the tag of the value.
    fn wide(&mut self, v: u64) {
        if let Ok(v) = u16::try_from(v) {
            self.tagged(Varint::U16, v.to_le_bytes());
        } else if let Ok(v) = u32::try_from(v) {
            self.tagged(Varint::U32, v.to_le_bytes());
        } else {
            self.tagged(Varint::U64, v.to_le_bytes());
        }
    }

    /// `tag`, then a 128-bit `v` as a [`Varint`].
    fn tagged_varint128(&mut self, tag: u8, v: u128) {
        match u64::try_from(v) {
            Ok(v) => self.tagged_varint(tag, v),
            Err(_) => {
                self.byte(tag);
                self.tagged(Varint::U128, v.to_le_bytes());
            }
        }
    }

    #[inline]
    fn str_bytes(&mut self, tag: u8, bytes: &[u8]) {
        self.tagged_varint(tag, bytes.len() as u64);
        self.out.put(bytes);
    }
}

/// A struct, tuple, enum variant's fields, or a sequence that is not a set: elements are
/// encoded in order into the parent, closed by an END tag.
struct Ordered<'s, 'a, O: Out>(&'s mut KeySerializer<'a, O>);

impl<O: Out> Ordered<'_, '_, O> {
    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
        self.0.nested(value)
    }

    /// A field: its name (a length and the bytes; no tag, since the place of a field name
    /// holds nothing else), then its value.
    #[inline]
    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), KeyError> {
        self.0.varint(name.len() as u64);
        self.0.out.put(name.as_bytes());
        self.0.nested(value)
    }

    fn finish(self) -> Result<(), KeyError> {
        self.0.byte(tag::END);
        Ok(())
    }
}

/// A map or set: entries are encoded one by one into `entries`; on `end` they are sorted by
/// their bytes and written to the parent, so iteration order does not matter. Every encoding
/// is prefix-free, so the sorted concatenation is unambiguous.
struct Unordered<'s, 'a, O: Out> {
    parent: &'s mut KeySerializer<'a, O>,
    entries: Entries,
    /// Where the current map entry (key, then value) started.
    entry_start: usize,
}

impl<'s, 'a, O: Out> Unordered<'s, 'a, O> {
    fn new(parent: &'s mut KeySerializer<'a, O>) -> Self {
        Unordered {
            parent,
            entries: Entries::take(),
            entry_start: 0,
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
        let start = self.entries.bytes.len();
        encode_into(&mut self.entries.bytes, value)?;
        self.entries.push(start);
        Ok(())
    }

    fn map_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), KeyError> {
        self.entry_start = self.entries.bytes.len();
        encode_into(&mut self.entries.bytes, key)
    }

    fn map_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
        encode_into(&mut self.entries.bytes, value)?;
        self.entries.push(self.entry_start);
        Ok(())
    }

    fn finish(self) -> Result<(), KeyError> {
        self.entries.write_sorted(self.parent.out);
        Ok(())
    }
}

/// A sequence: a set (see [`is_unordered_set`]) is unordered, anything else ordered.
enum Seq<'s, 'a, O: Out> {
    Ordered(Ordered<'s, 'a, O>),
    Unordered(Unordered<'s, 'a, O>),
}

/// A byte-wide integer: its tag and the byte.
macro_rules! byte_wide {
    ($($method:ident($ty:ty) => $tag:expr;)*) => {$(
        fn $method(self, v: $ty) -> Result<(), KeyError> {
            self.tagged($tag, v.to_le_bytes());
            Ok(())
        }
    )*};
}

/// A wider integer: its tag and the value as a [`Varint`] (signed ones zigzagged first).
macro_rules! varint {
    ($($method:ident($ty:ty) => $tag:expr, $to_u64:expr;)*) => {$(
        #[inline]
        fn $method(self, v: $ty) -> Result<(), KeyError> {
            self.tagged_varint($tag, $to_u64(v));
            Ok(())
        }
    )*};
}

impl<'s, 'a, O: Out> ser::Serializer for &'s mut KeySerializer<'a, O> {
    type Ok = ();
    type Error = KeyError;
    type SerializeSeq = Seq<'s, 'a, O>;
    type SerializeTuple = Ordered<'s, 'a, O>;
    type SerializeTupleStruct = Ordered<'s, 'a, O>;
    type SerializeTupleVariant = Ordered<'s, 'a, O>;
    type SerializeMap = Unordered<'s, 'a, O>;
    type SerializeStruct = Ordered<'s, 'a, O>;
    type SerializeStructVariant = Ordered<'s, 'a, O>;

    byte_wide! {
        serialize_i8(i8) => tag::I8;
        serialize_u8(u8) => tag::U8;
    }

    varint! {
        serialize_i16(i16) => tag::I16, |v| zigzag(i64::from(v));
        serialize_i32(i32) => tag::I32, |v| zigzag(i64::from(v));
        serialize_i64(i64) => tag::I64, zigzag;
        serialize_u16(u16) => tag::U16, u64::from;
        serialize_u32(u32) => tag::U32, u64::from;
        serialize_u64(u64) => tag::U64, |v| v;
    }

    fn serialize_i128(self, v: i128) -> Result<(), KeyError> {
        // Zigzag, as for the narrower signed integers (see [`zigzag`]).
        self.tagged_varint128(tag::I128, ((v << 1) ^ (v >> 127)) as u128);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), KeyError> {
        self.tagged_varint128(tag::U128, v);
        Ok(())
    }

    fn serialize_bool(self, v: bool) -> Result<(), KeyError> {
        self.out.put(&[tag::BOOL, v as u8]);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), KeyError> {
        let canonical = if v.is_nan() {
            f32::NAN.to_bits()
        } else if v == 0.0 {
            0
        } else {
            v.to_bits()
        };
        self.tagged(tag::F32, canonical.to_le_bytes());
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<(), KeyError> {
        let canonical = if v.is_nan() {
            f64::NAN.to_bits()
        } else if v == 0.0 {
            0
        } else {
            v.to_bits()
        };
        self.tagged(tag::F64, canonical.to_le_bytes());
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), KeyError> {
        self.tagged(tag::CHAR, u32::from(v).to_le_bytes());
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), KeyError> {
        self.str_bytes(tag::STR, v.as_bytes());
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), KeyError> {
        self.str_bytes(tag::BYTES, v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), KeyError> {
        self.byte(tag::NONE);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), KeyError> {
        self.byte(tag::SOME);
        self.nested(value)
    }

    fn serialize_unit(self) -> Result<(), KeyError> {
        self.byte(tag::UNIT);
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), KeyError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), KeyError> {
        self.str_bytes(tag::UNIT_VARIANT, variant.as_bytes());
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), KeyError> {
        self.nested(value)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), KeyError> {
        self.str_bytes(tag::NEWTYPE_VARIANT, variant.as_bytes());
        self.nested(value)
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'s, 'a, O>, KeyError> {
        if std::mem::take(&mut self.unordered_next) {
            self.byte(tag::SET);
            Ok(Seq::Unordered(Unordered::new(self)))
        } else {
            self.byte(tag::SEQ);
            Ok(Seq::Ordered(Ordered(self)))
        }
    }

    fn serialize_tuple(self, _len: usize) -> Result<Ordered<'s, 'a, O>, KeyError> {
        self.byte(tag::TUPLE);
        Ok(Ordered(self))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Ordered<'s, 'a, O>, KeyError> {
        self.serialize_tuple(len)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Ordered<'s, 'a, O>, KeyError> {
        self.str_bytes(tag::TUPLE_VARIANT, variant.as_bytes());
        Ok(Ordered(self))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Unordered<'s, 'a, O>, KeyError> {
        self.byte(tag::MAP);
        Ok(Unordered::new(self))
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Ordered<'s, 'a, O>, KeyError> {
        self.byte(tag::STRUCT);
        Ok(Ordered(self))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Ordered<'s, 'a, O>, KeyError> {
        self.str_bytes(tag::STRUCT_VARIANT, variant.as_bytes());
        Ok(Ordered(self))
    }
}

impl<O: Out> ser::SerializeSeq for Seq<'_, '_, O> {
    type Ok = ();
    type Error = KeyError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
        match self {
            Seq::Ordered(seq) => seq.element(value),
            Seq::Unordered(set) => set.element(value),
        }
    }
    fn end(self) -> Result<(), KeyError> {
        match self {
            Seq::Ordered(seq) => seq.finish(),
            Seq::Unordered(set) => set.finish(),
        }
    }
}

macro_rules! tuple_impls {
    ($($trait:ident { $method:ident }),*) => {$(
        impl<O: Out> ser::$trait for Ordered<'_, '_, O> {
            type Ok = ();
            type Error = KeyError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
                self.element(value)
            }
            fn end(self) -> Result<(), KeyError> {
                self.finish()
            }
        }
    )*};
}

tuple_impls! {
    SerializeTuple { serialize_element },
    SerializeTupleStruct { serialize_field },
    SerializeTupleVariant { serialize_field }
}

impl<O: Out> ser::SerializeMap for Unordered<'_, '_, O> {
    type Ok = ();
    type Error = KeyError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), KeyError> {
        self.map_key(key)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), KeyError> {
        self.map_value(value)
    }
    fn end(self) -> Result<(), KeyError> {
        self.finish()
    }
}

macro_rules! struct_impls {
    ($($trait:ident),*) => {$(
        impl<O: Out> ser::$trait for Ordered<'_, '_, O> {
            type Ok = ();
            type Error = KeyError;
            #[inline]
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                name: &'static str,
                value: &T,
            ) -> Result<(), KeyError> {
                self.field(name, value)
            }
            fn end(self) -> Result<(), KeyError> {
                self.finish()
            }
        }
    )*};
}

struct_impls!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap, HashSet};

    impl Out for Vec<u8> {
        fn put(&mut self, bytes: &[u8]) {
            self.extend_from_slice(bytes);
        }
        fn put_tagged<const N: usize>(&mut self, tag: u8, bytes: [u8; N]) {
            self.push(tag);
            self.extend_from_slice(&bytes);
        }
    }

    /// The bytes `v` encodes to.
    fn encoded<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
        let mut out = Vec::new();
        encode_into(&mut out, v)
            .map_err(|e| e.0)
            .unwrap_or_else(|e| unreachable!("{e}"));
        out
    }

    /// The layout, byte for byte (the golden keys pin the digests; this says what they hash).
    #[test]
    fn exact_encodings() {
        assert_eq!(encoded(&42u64), [tag::U64, 42]);
        assert_eq!(encoded(&250u32), [tag::U32, 250]);
        assert_eq!(encoded(&251u32), [tag::U32, Varint::U16, 251, 0]);
        assert_eq!(encoded(&65_536u64), [tag::U64, Varint::U32, 0, 0, 1, 0]);
        let mut wide = vec![tag::U64, Varint::U64];
        wide.extend_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(encoded(&u64::MAX), wide);
        let mut widest = vec![tag::U128, Varint::U128];
        widest.extend_from_slice(&u128::MAX.to_le_bytes());
        assert_eq!(encoded(&u128::MAX), widest);
        assert_eq!(encoded(&7u128), [tag::U128, 7]);
        assert_eq!(encoded(&-1i32), [tag::I32, 1]);
        assert_eq!(encoded(&1i64), [tag::I64, 2]);
        assert_eq!(encoded(&-1i128), [tag::I128, 1]);
        assert_eq!(encoded(&-3i8), [tag::I8, 0xfd]);
        assert_eq!(encoded("ab"), [tag::STR, 2, b'a', b'b']);
        assert_eq!(encoded(&vec![1u16]), [tag::SEQ, tag::U16, 1, tag::END]);

        #[derive(serde::Serialize)]
        struct Point {
            x: u8,
            yy: bool,
        }
        assert_eq!(
            encoded(&Point { x: 1, yy: true }),
            [
                tag::STRUCT,
                1,
                b'x',
                tag::U8,
                1,
                2,
                b'y',
                b'y',
                tag::BOOL,
                1,
                tag::END
            ]
        );
        // The compare harness's 5-field struct fits one 64-byte blake3 block (103 bytes in
        // the fixed-width encoding of 0.1).
        #[derive(serde::Serialize)]
        struct Five {
            a: u64,
            b: String,
            c: bool,
            d: f64,
            e: Vec<u32>,
        }
        let five = Five {
            a: 7,
            b: "hello".into(),
            c: true,
            d: 1.5,
            e: vec![1, 2, 3],
        };
        assert_eq!(encoded(&five).len(), 40);
        let long = "n".repeat(300);
        let mut text = vec![tag::STR, Varint::U16, 44, 1];
        text.extend_from_slice(long.as_bytes());
        assert_eq!(encoded(long.as_str()), text);
    }

    /// Values on either side of every varint width, and the extremes of each signed type,
    /// all hash apart.
    #[test]
    fn varint_boundaries_are_distinct() {
        let unsigned = [
            0u64,
            250,
            251,
            65_535,
            65_536,
            u64::from(u32::MAX),
            u64::from(u32::MAX) + 1,
            u64::MAX,
        ];
        let mut seen = std::collections::HashSet::new();
        for v in unsigned {
            assert!(seen.insert(digest(&v)), "u64 {v}");
        }
        for v in [i64::MIN, -126, -125, -1, 0, 1, 125, 126, i64::MAX] {
            assert!(seen.insert(digest(&v)), "i64 {v}");
        }
        for v in [i128::MIN, -1, i128::MAX, i128::from(i64::MAX) + 1] {
            assert!(seen.insert(digest(&v)), "i128 {v}");
        }
        for v in [u128::MAX, u128::from(u64::MAX) + 1] {
            assert!(seen.insert(digest(&v)), "u128 {v}");
        }
    }

    /// A field name can hold any bytes, tag bytes included, without two structs colliding:
    /// unprefixed, both of these would read STRUCT `a` 0x0a 0x07 0x07, BOOL false, END.
    #[test]
    fn field_names_are_length_prefixed() {
        #[derive(serde::Serialize)]
        struct A {
            #[serde(rename = "a\u{a}\u{7}\u{7}")]
            x: bool,
        }
        #[derive(serde::Serialize)]
        struct B {
            a: u64,
            #[serde(rename = "\u{7}")]
            b: bool,
        }
        let (a, b) = (A { x: false }, B { a: 7, b: false });
        let name = [b'a', tag::U64, tag::U8, tag::U8];
        let mut a_bytes = vec![tag::STRUCT, 4];
        a_bytes.extend_from_slice(&name);
        a_bytes.extend_from_slice(&[tag::BOOL, 0, tag::END]);
        assert_eq!(encoded(&a), a_bytes);
        let b_bytes = [
            tag::STRUCT,
            1,
            b'a',
            tag::U64,
            7,
            1,
            tag::U8,
            tag::BOOL,
            0,
            tag::END,
        ];
        assert_eq!(encoded(&b), b_bytes);
        assert_ne!(digest(&a), digest(&b));
    }

    fn digest<T: Serialize + ?Sized>(v: &T) -> [u8; 32] {
        let mut sink = Sink::new();
        hash_into(&mut sink, v)
            .map_err(|e| e.0)
            .unwrap_or_else(|e| unreachable!("{e}"));
        sink.finish()
    }

    #[test]
    fn strings_are_length_prefixed() {
        assert_ne!(digest(&("ab", "c")), digest(&("a", "bc")));
        assert_ne!(digest(&vec!["ab", "c"]), digest(&vec!["a", "bc"]));
    }

    #[test]
    fn floats_are_canonical() {
        assert_eq!(digest(&-0.0f64), digest(&0.0f64));
        assert_eq!(digest(&f64::NAN), digest(&-f64::NAN));
        assert_eq!(digest(&f32::from_bits(0x7fc0_0001)), digest(&f32::NAN));
        assert_ne!(digest(&1.0f64), digest(&0.0f64));
    }

    #[test]
    fn maps_and_sets_ignore_order() {
        let a: HashMap<String, u32> = (0..50).map(|i| (format!("k{i}"), i)).collect();
        let mut b: HashMap<String, u32> = HashMap::with_capacity(500);
        for i in (0..50).rev() {
            b.insert(format!("k{i}"), i);
        }
        assert_eq!(digest(&a), digest(&b));
        let s1: HashSet<u32> = (0..100).collect();
        let s2: HashSet<u32> = (0..100).rev().collect();
        assert_eq!(digest(&s1), digest(&s2));
        assert_eq!(digest(&&s1), digest(&Box::new(s2.clone())));
        // A set hashes as a set whatever its concrete type; a Vec keeps its order.
        let bt: BTreeSet<u32> = (0..100).collect();
        assert_ne!(digest(&bt), digest(&s1));
        assert_ne!(digest(&vec![1u32, 2]), digest(&vec![2u32, 1]));
    }

    #[test]
    fn nested_sets_ignore_order() {
        #[derive(serde::Serialize)]
        struct Filter {
            ids: HashSet<u64>,
        }
        let a = Filter {
            ids: (0..64).collect(),
        };
        let mut ids = HashSet::with_capacity(1000);
        ids.extend((0..64).rev());
        assert_eq!(digest(&a), digest(&Filter { ids }));
    }

    #[test]
    fn option_and_types_are_distinguished() {
        assert_ne!(digest(&Some(1u64)), digest(&1u64));
        assert_ne!(digest(&1u32), digest(&1u64));
        assert_ne!(digest(&None::<u8>), digest(&()));
    }
}
