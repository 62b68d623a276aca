//! A bound on how deeply a decoded value may nest.
//!
//! bincode decodes a value by recursion, one stack frame or more per level, and has no depth
//! limit of its own: a forged entry of a recursive type (`struct Tree { kids: Vec<Tree> }`)
//! nested a few hundred thousand levels deep would overflow the stack and abort the process.
//! [`Bounded`] wraps the deserializer so that every level of nesting is counted where it is
//! entered: each sequence, tuple, struct, map, enum variant, `Some` and newtype struct is one
//! level. One level past the bound fails the decode before anything of it is built, so the
//! partial value dropped on the way out is never deeper than the bound either.
//!
//! The count travels by value in the wrappers (no shared state), and a level costs one
//! comparison, so values well within the bound decode as fast as without it.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};

/// `T`, decoded through a deserializer that refuses values nested more than `max` levels
/// deep.
pub(super) struct Bounded<T> {
    pub(super) max: u32,
    pub(super) marker: std::marker::PhantomData<T>,
}

impl<'de, T: de::Deserialize<'de>> DeserializeSeed<'de> for Bounded<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::deserialize(Depth {
            inner: deserializer,
            left: Left {
                left: self.max,
                max: self.max,
            },
        })
    }
}

/// How many more levels may be entered, and the bound (for the message).
#[derive(Clone, Copy)]
struct Left {
    left: u32,
    max: u32,
}

impl Left {
    /// One level further in, or the error that says it is too deep.
    #[inline]
    fn enter<E: de::Error>(self) -> Result<Left, E> {
        match self.left.checked_sub(1) {
            Some(left) => Ok(Left { left, ..self }),
            None => Err(too_deep(self.max)),
        }
    }
}

#[cold]
fn too_deep<E: de::Error>(max: u32) -> E {
    E::custom(format_args!(
        "it nests more than {max} levels deep (the max_depth bound; raise it with \
         CacheBuilder::max_depth if such values are legitimate)"
    ))
}

/// A deserializer (or a visitor, a seed, an access) with the levels left below it.
struct Depth<X> {
    inner: X,
    left: Left,
}

#[inline]
fn bounded<X>(inner: X, left: Left) -> Depth<X> {
    Depth { inner, left }
}

/// Forwards `deserialize_*` methods, wrapping the visitor.
macro_rules! forward_deserialize {
    ($($method:ident ( $($arg:ident : $ty:ty),* );)*) => {$(
        #[inline]
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method($($arg,)* bounded(visitor, self.left))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Depth<D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Forwards `visit_*` methods of values that hold nothing nested.
macro_rules! forward_visit {
    ($($method:ident ( $ty:ty );)*) => {$(
        #[inline]
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Depth<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_visit! {
        visit_bool(bool);
        visit_i8(i8);
        visit_i16(i16);
        visit_i32(i32);
        visit_i64(i64);
        visit_i128(i128);
        visit_u8(u8);
        visit_u16(u16);
        visit_u32(u32);
        visit_u64(u64);
        visit_u128(u128);
        visit_f32(f32);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    #[inline]
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    #[inline]
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        let left = self.left.enter()?;
        self.inner.visit_some(bounded(d, left))
    }

    #[inline]
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        let left = self.left.enter()?;
        self.inner.visit_newtype_struct(bounded(d, left))
    }

    #[inline]
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let left = self.left.enter()?;
        self.inner.visit_seq(bounded(seq, left))
    }

    #[inline]
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let left = self.left.enter()?;
        self.inner.visit_map(bounded(map, left))
    }

    #[inline]
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        let left = self.left.enter()?;
        self.inner.visit_enum(bounded(data, left))
    }
}

/// A seed whose deserializer is bounded.
impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Depth<S> {
    type Value = S::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(bounded(d, self.left))
    }
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for Depth<A> {
    type Error = A::Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(bounded(seed, self.left))
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for Depth<A> {
    type Error = A::Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.inner.next_key_seed(bounded(seed, self.left))
    }

    #[inline]
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.next_value_seed(bounded(seed, self.left))
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: de::EnumAccess<'de>> de::EnumAccess<'de> for Depth<A> {
    type Error = A::Error;
    type Variant = Depth<A::Variant>;

    #[inline]
    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Depth<A::Variant>), A::Error> {
        let left = self.left;
        let (value, variant) = self.inner.variant_seed(bounded(seed, left))?;
        Ok((value, bounded(variant, left)))
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for Depth<A> {
    type Error = A::Error;

    #[inline]
    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    #[inline]
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.inner.newtype_variant_seed(bounded(seed, self.left))
    }

    #[inline]
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.inner.tuple_variant(len, bounded(visitor, self.left))
    }

    #[inline]
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.inner
            .struct_variant(fields, bounded(visitor, self.left))
    }
}
