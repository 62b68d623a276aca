//! Cache keys: how arguments become `{namespace}:v{version}.{type}:{digest}`.
//!
//! A key as stored reads `{prefix}:{namespace}:v{version}.{type}:{digest}`:
//!
//! * `prefix` comes from the [`Cache`](crate::Cache) (default `cache`) and is added by the
//!   store, so a [`CacheKey`] holds everything after `{prefix}:`;
//! * `namespace` is the `#[cached(namespace = ...)]` text, or the function's module path
//!   (`my_app::users::get_user` reads `my_app.users.get_user`), escaped so that it never holds
//!   a glob character, a `:`, or white space (see [`escape_namespace`]);
//! * `version` is the `#[cached(version = N)]` number (default 1);
//! * `type` is 8 hex digits of a hash of the value type's name, so a deploy that changes the
//!   return type never decodes old bytes as the new type. It cannot see a change *inside* a
//!   type (a field added to `User`): bump `version` for that (a layout change that no longer
//!   decodes is a miss anyway, but a compatible-looking one would decode wrong values);
//! * `digest` is 32 hex digits (128 bits) of a blake3 hash of the arguments, serialized with
//!   serde into the hasher through a stack buffer (no allocation): tagged, length-prefixed,
//!   varint lengths and integers, order-independent for maps and sets, floats canonicalized.
//!   Raw argument text never appears in a key.
//!
//! Sets are recognised by their serde type name (`HashSet`, `BTreeSet`, hashbrown's): a set
//! inside a `#[serde(transparent)]` wrapper hashes in iteration order (a plain newtype is
//! fine), which costs misses across processes, never wrong values. A namespace (or tag)
//! whose escaped form is longer than 128 bytes is shortened to at most its first 64 bytes,
//! `~` and 32 hex digits of blake3 over the whole escaped name (`~` is always escaped in a
//! name, so a shortened name never equals a short one).
//!
//! These layouts are pinned by golden tests: changing them is a breaking change.

mod memo;
pub(crate) mod pattern;
mod serializer;
mod sink;
mod tag;
mod unordered;

pub use tag::{tag_part, TagPart};

use std::any::TypeId;
use std::fmt;
use std::sync::OnceLock;

use arrayvec::ArrayString;
use serde::Serialize;
use smallvec::SmallVec;

use crate::error::{Error, Result};
use sink::Sink;

/// The part of a stored key after `{prefix}:`, kept inline (no heap allocation) up to 128 bytes.
#[derive(Clone)]
pub struct CacheKey(Text);

/// A key's text: inline up to 128 bytes, on the heap beyond.
#[derive(Clone)]
enum Text {
    Inline(ArrayString<128>),
    Long(Box<str>),
}

impl CacheKey {
    /// Wraps a key text as given (the manual API's keys). The text is used verbatim.
    pub fn new(text: &str) -> Self {
        match ArrayString::from(text) {
            Ok(inline) => CacheKey(Text::Inline(inline)),
            Err(_) => CacheKey(Text::Long(Box::from(text))),
        }
    }

    /// The key text (without the cache prefix).
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Text::Inline(text) => text.as_str(),
            Text::Long(text) => text,
        }
    }
}

impl PartialEq for CacheKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for CacheKey {}

impl std::hash::Hash for CacheKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({:?})", self.as_str())
    }
}

impl From<&str> for CacheKey {
    fn from(text: &str) -> Self {
        CacheKey::new(text)
    }
}

impl From<&String> for CacheKey {
    fn from(text: &String) -> Self {
        CacheKey::new(text)
    }
}

impl From<String> for CacheKey {
    fn from(text: String) -> Self {
        CacheKey::new(&text)
    }
}

impl From<&CacheKey> for CacheKey {
    fn from(key: &CacheKey) -> Self {
        key.clone()
    }
}

/// Builds the key of one call from its arguments, in parameter order.
///
/// This is what `#[cached]` expands to, so a key built here for the same namespace, version,
/// value type and arguments is the key the macro uses:
///
/// ```
/// use cache_runtime::KeyBuilder;
/// let mut kb = KeyBuilder::new();
/// kb.arg(&42u64).arg("en");
/// let key = kb.build::<String>("profiles", 1).unwrap();
/// assert!(key.as_str().starts_with("profiles:v1."));
/// ```
pub struct KeyBuilder {
    sink: Sink,
    error: Option<String>,
    tags: Vec<String>,
    label: Option<String>,
}

impl Default for KeyBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        KeyBuilder {
            sink: Sink::new(),
            error: None,
            tags: Vec::new(),
            label: None,
        }
    }

    /// Feeds one argument.
    pub fn arg<T: KeyPart + ?Sized>(&mut self, value: &T) -> &mut Self {
        if self.error.is_none() {
            if let Err(e) = serializer::hash_into(&mut self.sink, value) {
                self.error = Some(e.0);
            }
        }
        self
    }

    /// Records a tag for the entry this key writes (`#[cached(tags = [...])]`): a later
    /// [`Cache::invalidate_tag`](crate::Cache::invalidate_tag) of it deletes the entry.
    /// Tags are not part of the key.
    pub fn tag(&mut self, tag: String) -> &mut Self {
        self.tags.push(tag);
        self
    }

    /// Takes the recorded tags out of the builder.
    pub(crate) fn take_tags(&mut self) -> Vec<String> {
        std::mem::take(&mut self.tags)
    }

    /// A human-readable label for these arguments (`#[cached(label = "...")]`), shown next
    /// to the key's digest in the top keys of [`Cache::namespace_stats`](crate::Cache::namespace_stats).
    /// Not part of the key.
    pub fn label(&mut self, label: String) -> &mut Self {
        self.label = Some(label);
        self
    }

    /// The label, left in the builder.
    pub(crate) fn label_text(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// Takes the label out of the builder.
    pub(crate) fn take_label(&mut self) -> Option<String> {
        self.label.take()
    }

    /// The digest digits of the arguments fed so far; the builder is spent afterwards.
    fn digest(&mut self) -> Result<Digits> {
        match self.error.take() {
            Some(e) => Err(Error::codec(format_args!(
                "an argument could not be serialized for the key: {e}"
            ))),
            None => Ok(self.sink.finish_digits()),
        }
    }

    /// The key for values of type `V` in `namespace` at `version`.
    ///
    /// Fails only if an argument's own `Serialize` impl fails.
    pub fn build<V: ?Sized + 'static>(mut self, namespace: &str, version: u32) -> Result<CacheKey> {
        let digest = self.digest()?;
        Ok(Head::render::<V>(namespace, version).key(&digest))
    }

    /// The key for a `#[cached]` call site, reusing its rendered head. The builder is spent
    /// afterwards (it takes `&mut self` so the builder, a few hundred bytes, is not moved).
    pub(crate) fn build_for_site<V: ?Sized + 'static>(
        &mut self,
        site: &SiteKey,
    ) -> Result<CacheKey> {
        let digest = self.digest()?;
        let id = TypeId::of::<V>();
        match site.head.get() {
            Some((cached_id, head)) if *cached_id == id => Ok(head.key(&digest)),
            cached => {
                // The first call, or a generic fn called with another value type than the
                // first call's (then the head is rendered on every call).
                let head = Head::render::<V>(site.namespace, site.version);
                let key = head.key(&digest);
                if cached.is_none() {
                    let _ = site.head.set((id, head));
                }
                Ok(key)
            }
        }
    }
}

/// The namespace and version of one `#[cached]` fn, with its key head rendered once.
pub(crate) struct SiteKey {
    pub(crate) namespace: &'static str,
    pub(crate) version: u32,
    head: OnceLock<(TypeId, Head)>,
}

impl SiteKey {
    pub(crate) const fn new(namespace: &'static str, version: u32) -> Self {
        SiteKey {
            namespace,
            version,
            head: OnceLock::new(),
        }
    }
}

/// A value that can be part of a key: any `Serialize` type.
///
/// Only a name for the bound of [`KeyBuilder::arg`], so that a `#[cached]` parameter that
/// cannot be hashed (a pool, a client) is reported with what to do about it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be part of a cache key: it does not implement `Serialize`",
    label = "every parameter is part of the key unless skipped",
    note = "leave a pool, client or other handle out of the key with `#[cached(skip(pool))]` \
            (the parameter's name), or derive `serde::Serialize` for a value that identifies the call"
)]
pub trait KeyPart: Serialize {}

impl<T: Serialize + ?Sized> KeyPart for T {}

/// Arguments given as a tuple, for [`key_for`].
pub trait KeyArgs {
    /// Feeds each element, in order, as one argument.
    fn feed(&self, builder: &mut KeyBuilder);
}

macro_rules! tuple_args {
    ($(($($name:ident . $idx:tt),*)),*) => {$(
        impl<$($name: Serialize),*> KeyArgs for ($($name,)*) {
            #[allow(unused_variables)]
            fn feed(&self, builder: &mut KeyBuilder) {
                $(builder.arg(&self.$idx);)*
            }
        }
    )*};
}

tuple_args! {
    (),
    (A.0),
    (A.0, B.1),
    (A.0, B.1, C.2),
    (A.0, B.1, C.2, D.3),
    (A.0, B.1, C.2, D.3, E.4),
    (A.0, B.1, C.2, D.3, E.4, F.5),
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6),
    (A.0, B.1, C.2, D.3, E.4, F.5, G.6, H.7)
}

/// The key `#[cached(namespace = ..., version = ...)]` computes for a fn returning values of
/// type `V` when called with `args` (a tuple of the key arguments in parameter order, skipped
/// ones left out; `()` for none). A method's receiver is never part of the key, and for a
/// destructured parameter the values it binds are the arguments: an axum handler
/// `#[cached(namespace = "products")] async fn get(Path(id): Path<u64>) -> Json<Product>` has
/// the key `key_for::<Json<Product>>("products", 1, &(id,))`.
///
/// ```
/// let key = cache_runtime::key_for::<u64>("users", 1, &(42u64,)).unwrap();
/// assert_eq!(key.as_str().len(), "users:v1.".len() + 8 + 1 + 32);
/// ```
pub fn key_for<V: ?Sized + 'static>(
    namespace: &str,
    version: u32,
    args: &impl KeyArgs,
) -> Result<CacheKey> {
    let mut kb = KeyBuilder::new();
    args.feed(&mut kb);
    kb.build::<V>(namespace, version)
}

/// Hex digits in a key's digest: 16 bytes of blake3.
const DIGEST_DIGITS: usize = 32;
/// The longest head that fits in a [`CacheKey`]'s inline buffer with the digest.
const INLINE_HEAD: usize = 128 - DIGEST_DIGITS;

/// The 32 hex digits of a key's digest (its first 16 bytes).
pub(crate) type Digits = ArrayString<DIGEST_DIGITS>;

/// A rendered `{namespace}:v{version}.{type}:` head.
enum Head {
    /// Short enough to share a `CacheKey`'s inline buffer with the digest (the usual case),
    /// so a key is one copy of it plus the digits.
    Inline(ArrayString<128>),
    /// Too long for that (a namespace escaped to nearly 128 bytes).
    Long(Box<str>),
}

impl Head {
    fn render<V: ?Sized + 'static>(namespace: &str, version: u32) -> Head {
        if let Some(head) = plain_head::<V>(namespace, version) {
            return Head::Inline(head);
        }
        let mut text = SmallVec::<[u8; 128]>::new();
        write_head::<V>(&mut text, namespace, version);
        // Only ASCII is written.
        let text = String::from_utf8_lossy(&text);
        match ArrayString::from(&text) {
            Ok(head) if text.len() <= INLINE_HEAD => Head::Inline(head),
            _ => Head::Long(Box::from(&*text)),
        }
    }

    /// The key of this head and a digest's `digits`.
    #[inline]
    fn key(&self, digits: &Digits) -> CacheKey {
        match self {
            Head::Inline(head) => {
                let mut key = ArrayString::new();
                // Fits: the head is at most INLINE_HEAD long.
                let _ = key.try_push_str(head);
                let _ = key.try_push_str(digits);
                CacheKey(Text::Inline(key))
            }
            Head::Long(head) => {
                let mut key = String::with_capacity(head.len() + DIGEST_DIGITS);
                key.push_str(head);
                key.push_str(digits);
                CacheKey(Text::Long(key.into_boxed_str()))
            }
        }
    }
}

/// The digits of a digest.
fn hex_digits(digest: &[u8; 32]) -> Digits {
    let mut digits = [0u8; DIGEST_DIGITS];
    hex_into(&mut digits, digest);
    // Hex digits are ASCII.
    ArrayString::from_byte_string(&digits).unwrap_or_default()
}

/// The head for a namespace that is kept as is (no byte to escape, no `::`) and short:
/// most are. Rendered with two copies, where [`write_head`] escapes byte runs and appends
/// piece by piece. `None` for any other namespace.
fn plain_head<V: ?Sized + 'static>(namespace: &str, version: u32) -> Option<ArrayString<128>> {
    let name = namespace.as_bytes();
    if name.len() > INLINE_HEAD - HEAD_TAIL || !name.iter().all(|&b| is_kept(b)) {
        return None;
    }
    let (tail, tail_len) = head_tail::<V>(version);
    let mut head = ArrayString::new();
    head.try_push_str(namespace).ok()?;
    head.try_push_str(std::str::from_utf8(&tail[..tail_len]).ok()?)
        .ok()?;
    Some(head)
}

/// Every byte's two lower-case hex digits, so a byte is one table read.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [HEX[i >> 4], HEX[i & 0xf]];
        i += 1;
    }
    table
};

/// Writes the 32 hex digits of a key's digest (its first 16 bytes) into `out` (32 bytes).
fn hex_into(out: &mut [u8], digest: &[u8; 32]) {
    for (pair, &b) in out.chunks_exact_mut(2).zip(&digest[..16]) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
}

/// The 8 lower-case hex digits of 4 bytes, in order.
fn hex4(bytes: [u8; 4]) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
    out
}

/// Writes `{namespace}:v{version}.{type}:`.
fn write_head<V: ?Sized + 'static>(out: &mut SmallVec<[u8; 128]>, namespace: &str, version: u32) {
    escape_namespace_into(namespace, out);
    let (tail, len) = head_tail::<V>(version);
    out.extend_from_slice(&tail[..len]);
}

/// The longest `:v{version}.{type}:`.
const HEAD_TAIL: usize = 2 + 10 + 1 + 8 + 1;

/// `:v{version}.{type}:` and its length, gathered on the stack to be appended at once.
fn head_tail<V: ?Sized + 'static>(version: u32) -> ([u8; HEAD_TAIL], usize) {
    let mut digits = [0u8; 10];
    let mut n = version;
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = &digits[i..];
    let mut tail = [0u8; HEAD_TAIL];
    tail[..2].copy_from_slice(b":v");
    tail[2..2 + digits.len()].copy_from_slice(digits);
    let rest = &mut tail[2 + digits.len()..][..10];
    rest[0] = b'.';
    rest[1..9].copy_from_slice(&hex4(type_fingerprint::<V>().to_be_bytes()));
    rest[9] = b':';
    (tail, 2 + digits.len() + 10)
}

/// 32 bits of a hash (FNV-1a) of `V`'s type name.
pub fn type_fingerprint<V: ?Sized + 'static>() -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in std::any::type_name::<V>().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash ^ (hash >> 32)) as u32
}

/// Escapes namespace text so it is safe inside a key and inside a SCAN pattern.
///
/// `::` (a Rust path separator) becomes `.`; ASCII letters, digits, `_`, `-` and `.` are
/// kept; every other byte (including `:`, `*`, `?`, `[`, `]`, `\`, `%`, white space and
/// non-ASCII) is written as `%XX`. The mapping is injective apart from `::` → `.`, so two
/// distinct user namespaces never share keys and user text can never widen a pattern.
pub fn escape_namespace(namespace: &str) -> String {
    let mut out = SmallVec::<[u8; 128]>::new();
    escape_namespace_into(namespace, &mut out);
    // Only ASCII is written.
    String::from_utf8_lossy(&out).into_owned()
}

/// Escapes tag text like [`escape_namespace`], but injectively: `::` is escaped too.
#[cfg(feature = "redis")]
pub(crate) fn escape_tag(tag: &str) -> String {
    let mut out = SmallVec::<[u8; 128]>::new();
    escape_into(tag, false, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn escape_namespace_into(namespace: &str, out: &mut SmallVec<[u8; 128]>) {
    escape_into(namespace, true, out);
}

/// Escaped names longer than this are shortened (see [`shorten`]).
const LONG_NAME: usize = 128;
/// How much of a long escaped name stays readable in front of its digest.
const LONG_NAME_HEAD: usize = 64;

/// Bounds an escaped name: one longer than [`LONG_NAME`] bytes becomes its first (at most)
/// [`LONG_NAME_HEAD`] bytes, cut between escapes, then `~` and 32 hex digits of the blake3
/// hash of the whole escaped name. `~` is always escaped in a name, so a shortened name can
/// never equal a short one, and so a 1 MB tag or namespace costs 97 bytes per key.
fn shorten(out: &mut SmallVec<[u8; 128]>) {
    if out.len() <= LONG_NAME {
        return;
    }
    let digest = blake3::hash(out);
    // Never cut inside a `%XX` escape.
    let mut cut = LONG_NAME_HEAD;
    while cut > 0 && (out[cut - 1] == b'%' || (cut >= 2 && out[cut - 2] == b'%')) {
        cut -= 1;
    }
    out.truncate(cut);
    out.push(b'~');
    let start = out.len();
    out.extend_from_slice(&[0; DIGEST_DIGITS]);
    hex_into(&mut out[start..], digest.as_bytes());
}

fn escape_into(text: &str, fold_paths: bool, out: &mut SmallVec<[u8; 128]>) {
    let start = out.len();
    escape_text(text, fold_paths, out);
    if out.len() - start > LONG_NAME {
        let mut name: SmallVec<[u8; 128]> = SmallVec::from_slice(&out[start..]);
        shorten(&mut name);
        out.truncate(start);
        out.extend_from_slice(&name);
    }
}

/// Whether `b` is kept as is in an escaped name (and in a tag's placeholder value).
fn is_kept(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

fn escape_text(text: &str, fold_paths: bool, out: &mut SmallVec<[u8; 128]>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Kept bytes are appended a run at a time (most names are one run).
        let run = bytes[i..].iter().take_while(|&&b| is_kept(b)).count();
        if run > 0 {
            out.extend_from_slice(&bytes[i..i + run]);
            i += run;
            continue;
        }
        let b = bytes[i];
        if fold_paths && b == b':' && bytes.get(i + 1) == Some(&b':') {
            out.push(b'.');
            i += 2;
            continue;
        }
        out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_shortened_to_a_digest() {
        let short = "n".repeat(LONG_NAME);
        assert_eq!(escape_namespace(&short), short);
        let long = "n".repeat(LONG_NAME + 1);
        let shortened = escape_namespace(&long);
        assert_eq!(shortened.len(), 64 + 1 + 32);
        assert!(shortened.starts_with(&"n".repeat(64)));
        assert_eq!(shortened.as_bytes()[64], b'~');
        // Deterministic, and distinct for distinct names.
        assert_eq!(escape_namespace(&long), shortened);
        assert_ne!(escape_namespace(&"n".repeat(LONG_NAME + 2)), shortened);
        // Tags (Redis only): the head is never cut inside an escape: 21 x "ab%" would cut
        // at "%", so the head ends before it.
        #[cfg(feature = "redis")]
        {
            let escaped = escape_tag(&"ab%".repeat(100));
            let head = escaped.split('~').next().unwrap_or_default();
            assert!(head.len() <= 64 && !head.ends_with('%') && !head.ends_with("%2"));
            assert_eq!(escaped.len(), head.len() + 1 + 32);
            // A 1 MB tag of non-ASCII text: 21 whole escapes (63 bytes), `~`, the digest.
            assert_eq!(escape_tag(&"é".repeat(1 << 19)).len(), 63 + 1 + 32);
        }
    }

    #[test]
    fn namespaces_are_escaped() {
        assert_eq!(
            escape_namespace("my_app::users::get_user"),
            "my_app.users.get_user"
        );
        assert_eq!(
            escape_namespace("a*b?c[d]\\e:f g"),
            "a%2Ab%3Fc%5Bd%5D%5Ce%3Af%20g"
        );
        assert_eq!(escape_namespace("é"), "%C3%A9");
        assert_eq!(escape_namespace("100%"), "100%25");
    }

    #[test]
    fn hex_digits() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..1000 {
            let mut digest = [0u8; 32];
            for b in &mut digest {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                *b = (state >> 56) as u8;
            }
            let expected: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
            let mut text = [0u8; 32];
            hex_into(&mut text, &digest);
            assert_eq!(std::str::from_utf8(&text).ok(), Some(expected.as_str()));
        }
        assert_eq!(&hex4([0x01, 0x9a, 0xf0, 0xff]), b"019af0ff");
    }

    #[test]
    fn key_layout() {
        let key = key_for::<String>("users", 3, &(7u64,)).map_err(|e| e.to_string());
        let key = key.unwrap_or_else(|e| unreachable!("{e}"));
        let text = key.as_str();
        let parts: Vec<&str> = text.split(':').collect();
        assert_eq!(parts.len(), 3, "{text}");
        assert_eq!(parts[0], "users");
        assert!(parts[1].starts_with("v3."), "{text}");
        assert_eq!(parts[1].len(), 3 + 8);
        assert_eq!(parts[2].len(), 32);
        assert!(parts[2].bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn value_type_changes_the_key() {
        let a = key_for::<String>("users", 1, &(7u64,)).map_err(|e| e.to_string());
        let b = key_for::<u64>("users", 1, &(7u64,)).map_err(|e| e.to_string());
        assert_ne!(a.ok(), b.ok());
    }
}
