//! Compression and signing of stored values, through the public API: large values come back
//! intact and are stored compressed (counted in `compressed`), `compress = false` and
//! incompressible values are stored as they are, and a cache with a signing key reads back
//! what it signed. On Redis the stored bytes are checked raw: envelope flag byte 2 is 0x01
//! when compressed, 0x02 when signed.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use cache_runtime::{cached, key_for, Cache, ComputeOptions};

use crate::fixture::{Counts, Fixture};

/// The text a page fn returns: 100 KiB that compress well.
pub fn compressible(id: u64) -> String {
    format!("page {id}: the quick brown fox jumps over the lazy dog. ")
        .repeat(2000)
        .chars()
        .take(100 * 1024)
        .collect()
}

/// `len` bytes lz4 cannot shrink (xorshift noise).
pub fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The envelope of a 100 KiB string stored uncompressed: 12-byte header, 5-byte length.
const RAW_PAGE_LEN: usize = 12 + 5 + 100 * 1024;

#[cached(namespace = "compression.on", cache = cache, skip(cache, calls))]
async fn page(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    compressible(id)
}

#[cached(namespace = "compression.off", compress = false, cache = cache, skip(cache, calls))]
async fn raw_page(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    compressible(id)
}

/// The raw stored bytes of `key` on Redis; `None` on the memory store, which has no bytes
/// on a wire to look at. (This is the backend under test, not a missing server: a Redis
/// fixture always has its server, since starting one fails loudly without `redis-server`.)
async fn raw(fx: &Fixture, key: &str) -> Option<Vec<u8>> {
    fx.on_redis().then_some(())?;
    Some(
        fx.raw_get(&fx.redis_key(key))
            .await
            .unwrap_or_else(|| panic!("{key:?} is not in Redis")),
    )
}

/// A 100 KiB compressible value is stored compressed and returned intact, from the store
/// and from the hit.
pub async fn large_value_is_compressed(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(page(1, c, &calls).await, compressible(1));
    assert_eq!(page(1, c, &calls).await, compressible(1));
    assert_eq!(calls.load(SeqCst), 1);
    assert_eq!(fx.counts(), Counts::calls(1, 1, 1));
    assert_eq!(c.stats().compressed, 1);
    let key = key_for::<String>("compression.on", 1, &(1u64,)).unwrap();
    if let Some(bytes) = raw(fx, key.as_str()).await {
        assert_eq!(&bytes[..4], &[0xCA, 1, 0x01, 0]);
        assert!(bytes.len() < 10 * 1024, "{} bytes stored", bytes.len());
    }
    // Read through the manual API too.
    assert_eq!(c.get::<String>(&key).await.unwrap(), Some(compressible(1)));
}

/// `#[cached(compress = false)]` stores the same value uncompressed.
pub async fn compress_false_stores_uncompressed(fx: &Fixture) {
    let (c, calls) = (&fx.cache, AtomicUsize::new(0));
    assert_eq!(raw_page(2, c, &calls).await, compressible(2));
    assert_eq!(raw_page(2, c, &calls).await, compressible(2));
    assert_eq!(calls.load(SeqCst), 1);
    assert_eq!(fx.counts(), Counts::calls(1, 1, 1));
    assert_eq!(c.stats().compressed, 0);
    let key = key_for::<String>("compression.off", 1, &(2u64,)).unwrap();
    if let Some(bytes) = raw(fx, key.as_str()).await {
        assert_eq!(&bytes[..4], &[0xCA, 1, 0x00, 0]);
        assert_eq!(bytes.len(), RAW_PAGE_LEN);
    }
}

/// `set`, `set_many` and `get_or_compute` compress too; `ComputeOptions::compress(false)`
/// and the builder's `compress_threshold(None)` turn it off; small values never are.
pub async fn manual_api_compresses(fx: &Fixture) {
    let c = &fx.cache;
    c.set("big", &compressible(3), None).await.unwrap();
    c.set("small", &"tiny".to_owned(), None).await.unwrap();
    assert_eq!(c.stats().compressed, 1);
    c.set_many(
        &[
            ("m1", compressible(4)),
            ("m2", "short".to_owned()),
            ("m3", compressible(5)),
        ],
        None,
    )
    .await
    .unwrap();
    assert_eq!(c.stats().compressed, 3);
    assert_eq!(
        c.get_many::<String, _>(&["big", "small", "m1", "m2", "m3"])
            .await
            .unwrap(),
        vec![
            Some(compressible(3)),
            Some("tiny".to_owned()),
            Some(compressible(4)),
            Some("short".to_owned()),
            Some(compressible(5)),
        ]
    );

    let off = ComputeOptions::new().compress(false);
    let got = c
        .get_or_compute("computed.off", &off, || async { compressible(6) })
        .await;
    assert_eq!(got, compressible(6));
    assert_eq!(c.stats().compressed, 3);
    let on = ComputeOptions::new();
    let got = c
        .get_or_compute("computed.on", &on, || async { compressible(7) })
        .await;
    assert_eq!(got, compressible(7));
    assert_eq!(c.stats().compressed, 4);
    if let Some(bytes) = raw(fx, "computed.off").await {
        assert_eq!((bytes[2], bytes.len()), (0x00, RAW_PAGE_LEN));
    }
    if let Some(bytes) = raw(fx, "computed.on").await {
        assert_eq!(bytes[2], 0x01);
        assert!(bytes.len() < 10 * 1024, "{}", bytes.len());
    }
    assert_eq!(fx.counts().writes, 7);

    let never = fx.another(|b| b.compress_threshold(None)).await;
    never.set("never", &compressible(8), None).await.unwrap();
    assert_eq!(never.stats().compressed, 0);
    assert_eq!(
        never.get::<String>("never").await.unwrap(),
        Some(compressible(8))
    );
    // A low threshold compresses a 200-byte value.
    let low = fx.another(|b| b.compress_threshold(Some(16))).await;
    low.set("low", &"ab".repeat(100), None).await.unwrap();
    assert_eq!(low.stats().compressed, 1);
    assert_eq!(
        low.get::<String>("low").await.unwrap(),
        Some("ab".repeat(100))
    );
}

/// A value lz4 cannot shrink is stored uncompressed, and not counted.
pub async fn incompressible_value_stays_uncompressed(fx: &Fixture) {
    let c = &fx.cache;
    let data = noise(100 * 1024);
    c.set("noise", &data, None).await.unwrap();
    assert_eq!(c.stats().compressed, 0);
    assert_eq!(c.get::<Vec<u8>>("noise").await.unwrap(), Some(data));
    if let Some(bytes) = raw(fx, "noise").await {
        assert_eq!(&bytes[..4], &[0xCA, 1, 0x00, 0]);
        assert_eq!(bytes.len(), 12 + 5 + 100 * 1024);
    }
}

#[cached(namespace = "compression.signed", cache = cache, skip(cache, calls))]
async fn signed_page(id: u64, cache: &Cache, calls: &AtomicUsize) -> String {
    calls.fetch_add(1, SeqCst);
    compressible(id)
}

/// A cache with a signing key reads back what it wrote (small, and compressed), through
/// `#[cached]` and the manual API; every stored entry carries the MAC flag and 32 more bytes.
pub async fn signed_values_round_trip(fx: &Fixture) {
    let c = fx.another(|b| b.signing_key("suite signing secret")).await;
    let calls = AtomicUsize::new(0);
    assert_eq!(signed_page(9, &c, &calls).await, compressible(9));
    assert_eq!(signed_page(9, &c, &calls).await, compressible(9));
    assert_eq!(calls.load(SeqCst), 1);
    c.set("small", &42u64, None).await.unwrap();
    assert_eq!(c.get::<u64>("small").await.unwrap(), Some(42));
    let stats = c.stats();
    assert_eq!(
        (stats.hits, stats.misses, stats.writes, stats.compressed),
        (2, 1, 2, 1)
    );
    assert_eq!((stats.decode_errors, stats.bad_signatures), (0, 0));
    if let Some(bytes) = raw(fx, "small").await {
        // header + one varint byte + MAC.
        assert_eq!(&bytes[..4], &[0xCA, 1, 0x02, 0]);
        assert_eq!(bytes.len(), 12 + 1 + 32);
    }
    let key = key_for::<String>("compression.signed", 1, &(9u64,)).unwrap();
    if let Some(bytes) = raw(fx, key.as_str()).await {
        assert_eq!(&bytes[..4], &[0xCA, 1, 0x03, 0]);
    }
}
