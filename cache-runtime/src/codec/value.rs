//! Values on the miss path, with their type erased, so that the miss path (store read, single
//! flight, fill lease, fill) is compiled once in this crate and not once per `#[cached]` fn.
//!
//! Only the hit paths in front of it (L1, the memory store) and a thin wrapper around the
//! body stay generic (see [`run`](crate::call::run)). A value read or shared on the miss
//! path is a [`Typed`], the `Arc` L1 and the memory store keep anyway; a value the body
//! computed is lent to the fill as a `&dyn` [`Erased`], which encodes it and clones it into
//! a [`Typed`] only where a copy is kept.

use std::any::{Any, TypeId};
use std::sync::Arc;

use crate::codec::{self, DecodeError, Encoding};
use crate::error::Result;
use crate::CacheValue;

/// A decoded value of some [`CacheValue`] type: what L1, the memory store and the single
/// flight hold.
pub(crate) type Typed = Arc<dyn Any + Send + Sync>;

/// A value the body computed, lent to the fill.
pub(crate) trait Erased: Send + Sync {
    /// The stored envelope of this value under `key`.
    fn encode(&self, key: &str, enc: &Encoding<'_>) -> Result<Vec<u8>>;
    /// A copy, to keep in L1 or the memory store, or to hand to waiting callers.
    fn to_typed(&self) -> Typed;
}

impl<V: CacheValue> Erased for V {
    fn encode(&self, key: &str, enc: &Encoding<'_>) -> Result<Vec<u8>> {
        codec::encode(self, key, enc)
    }

    fn to_typed(&self) -> Typed {
        Arc::new(self.clone())
    }
}

/// The value type of one call, for the miss path: how to decode it, and its `TypeId`.
#[derive(Clone, Copy)]
pub(crate) struct ValueType {
    decode: fn(&[u8], &str, &Encoding<'_>) -> Result<Typed, DecodeError>,
    id: TypeId,
}

impl ValueType {
    /// The value type `V`.
    pub(crate) fn of<V: CacheValue>() -> Self {
        ValueType {
            decode: decode_as::<V>,
            id: TypeId::of::<V>(),
        }
    }

    /// Decodes an envelope as this type.
    pub(crate) fn decode(
        &self,
        bytes: &[u8],
        key: &str,
        enc: &Encoding<'_>,
    ) -> Result<Typed, DecodeError> {
        (self.decode)(bytes, key, enc)
    }

    /// Whether `value` is of this type.
    pub(crate) fn holds(&self, value: &Typed) -> bool {
        <dyn Any>::type_id(&**value) == self.id
    }
}

fn decode_as<V: CacheValue>(
    bytes: &[u8],
    key: &str,
    enc: &Encoding<'_>,
) -> Result<Typed, DecodeError> {
    codec::decode::<V>(bytes, key, enc).map(|value| Arc::new(value) as Typed)
}

/// The `V` in `value`: moved out when nothing else holds it, else cloned. `None` if it is
/// of another type (the miss path only hands back values of the type it was given).
#[inline]
pub(crate) fn take<V: CacheValue>(value: Typed) -> Option<V> {
    let value = value.downcast::<V>().ok()?;
    Some(Arc::try_unwrap(value).unwrap_or_else(|shared| V::clone(&shared)))
}
