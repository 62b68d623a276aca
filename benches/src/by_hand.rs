//! The references done by hand with redis-rs: the hit (a GET and a decode) and the miss
//! paths the `#[cached]` calls are measured against (by the `compare` harness in time, by
//! `hit_count` and `conc_count` in instructions).

#![allow(clippy::expect_used)] // A reference that fails can only stop the run.

use redis::aio::ConnectionManager;

use crate::User;

/// Encodes a value as the cache would store it: a 12-byte header, then bincode.
pub fn encode(value: &User) -> Vec<u8> {
    let mut bytes = vec![0xCA, 1, 0, 0];
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    bytes.extend_from_slice(&now_ms.to_le_bytes());
    bincode::serde::encode_into_std_write(value, &mut bytes, bincode::config::standard())
        .expect("bincode");
    bytes
}

/// The length of the cache's envelope header in front of the bincode body.
const HEADER_LEN: usize = 12;

/// Decodes a value the cache stored (envelope header, then bincode), by hand: the inverse
/// of [`encode`].
///
/// # Panics
/// If `bytes` is not a stored `User`.
pub fn decode(bytes: &[u8]) -> User {
    let (user, _): (User, usize) =
        bincode::serde::decode_from_slice(&bytes[HEADER_LEN..], bincode::config::standard())
            .expect("a stored User");
    user
}

/// A raw GET of `key` (the full Redis key, prefix included) plus the decode: the reference
/// a Redis hit is measured against.
///
/// # Panics
/// If the GET fails or finds no stored `User`.
pub async fn raw_get(conn: &mut ConnectionManager, key: &str) -> User {
    let bytes: Vec<u8> = redis::cmd("GET")
        .arg(key)
        .query_async(conn)
        .await
        .expect("GET");
    decode(&bytes)
}

/// The by-hand guarded fill: store `ARGV[2]` only if the key still holds the lease `ARGV[1]`.
pub const CAS: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
";

/// One miss filled under a lease, by hand: `SET key lease NX PX .. GET` (the lease command
/// is the read), then [`CAS`] (loaded as `cas`) stores what `row` encodes.
///
/// # Panics
/// When Redis fails, or the key was not empty.
pub async fn guarded_miss(
    conn: &mut ConnectionManager,
    cas: &redis::Script,
    id: u64,
    row: impl FnOnce() -> Vec<u8>,
) {
    let key = format!("cache:bench.guardedmiss:{id}");
    let lease = id.to_le_bytes();
    let held: Option<Vec<u8>> = redis::cmd("SET")
        .arg(&key)
        .arg(&lease[..])
        .arg("NX")
        .arg("PX")
        .arg(30_000)
        .arg("GET")
        .query_async(conn)
        .await
        .expect("SET NX PX GET");
    assert!(held.is_none());
    let stored: u64 = cas
        .key(&key)
        .arg(&lease[..])
        .arg(row())
        .arg(300_000)
        .invoke_async(conn)
        .await
        .expect("EVALSHA");
    assert_eq!(stored, 1);
}

/// One miss with no guard: a GET that finds nothing, then `SET key row EX 300`.
///
/// # Panics
/// When Redis fails, or the key was not empty.
pub async fn raw_miss(conn: &mut ConnectionManager, id: u64, row: impl FnOnce() -> Vec<u8>) {
    let key = format!("cache:bench.rawmiss:{id}");
    let found: Option<Vec<u8>> = redis::cmd("GET")
        .arg(&key)
        .query_async(conn)
        .await
        .expect("GET");
    assert!(found.is_none());
    let () = redis::cmd("SET")
        .arg(&key)
        .arg(row())
        .arg("EX")
        .arg(300)
        .query_async(conn)
        .await
        .expect("SET EX");
}
