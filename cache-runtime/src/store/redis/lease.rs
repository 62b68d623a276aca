//! Fill leases on Redis: the stale-write guard of `#[cached]` misses.
//!
//! A `#[cached]` read is a plain GET; when it misses, `SET key <lease> NX PX <lease_time> GET`
//! atomically leaves a lease in the key's place (or returns a value written meanwhile). The
//! filler stores its value only if the lease is still there, in one compare-and-set:
//! `SET key value IFEQ lease PX ttl` where the server has it (Valkey 8.1+, Redis 8.4+; see
//! [`ifeq`](super::ifeq)), a script elsewhere. Any invalidation in between (a DEL of the
//! key, a namespace or pattern clear, a `#[cache_put]`) removed or replaced the lease, so a
//! value computed from data read before the invalidation is never stored. A tagged fill on
//! one node keeps to a script, which stores the value and records it under its tags
//! atomically in one round trip (with `IFEQ` that would take two: the tag records must only
//! follow a stored value). For a tagged function the filler records its key in each tag's index
//! *before* the body runs, so a tag invalidation finds the lease like any other member and
//! deletes it. An invalidation that comes between the lease and that record cannot be
//! missed: it came before the body read anything. No clocks are compared.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Script;

use super::{ifeq, ttl_millis, Failure, RedisStore, NOT_A_STRING, TAG_TRIM_MARGIN_MS};
use crate::error::Result;

/// What every lease starts with: 0xCB (an envelope starts with 0xCA), then a name no value
/// starts with by chance.
pub(crate) const LEASE_HEAD: &[u8; 13] = b"\xCBcache-lease:";

/// The lowercase hex digits after [`LEASE_HEAD`]: the process token, the sequence number and
/// the start time in ms, 8 bytes each.
const LEASE_DIGITS: usize = 48;

/// A lease's length, always.
pub(crate) const LEASE_LEN: usize = LEASE_HEAD.len() + LEASE_DIGITS;

/// Whether `bytes` is shaped like a lease: [`LEASE_HEAD`] and exactly [`LEASE_DIGITS`]
/// lowercase hex digits. A value that starts with 0xCB but is not shaped so is
/// foreign data, unreadable like any other. (A shaped value is a lease only while it has a
/// TTL: see [`RedisStore::holds_lease`].)
#[inline]
pub(crate) fn shaped(bytes: &[u8]) -> bool {
    bytes.len() == LEASE_LEN
        && bytes.starts_with(LEASE_HEAD)
        && bytes[LEASE_HEAD.len()..]
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The same test as [`shaped`] in Lua, on the string `v`, with `ARGV[1]` holding
/// [`LEASE_HEAD`] (scripts that use it pass it there).
pub(crate) const SHAPED_LUA: &str = "(#v == 61 and string.sub(v, 1, 13) == ARGV[1] \
and not string.find(v, '[^0-9a-f]', 14))";
const _: () = assert!(LEASE_HEAD.len() == 13 && LEASE_LEN == 61);

/// What a `#[cached]` read found.
pub(crate) enum Read {
    /// A stored value (envelope bytes).
    Value(Vec<u8>),
    /// Nothing: this caller now holds the lease and may fill.
    Leased(Lease),
    /// Another caller is filling; compute, but do not store.
    Busy,
    /// The server takes no writes now (`OOM`, `READONLY`, `MISCONF`, `NOREPLICAS`): nothing
    /// was read, and this miss may not fill.
    Refused(crate::error::Error),
}

/// Error replies of a server that answers reads but refuses writes.
const WRITES_REFUSED: [&str; 4] = ["OOM", "READONLY", "MISCONF", "NOREPLICAS"];

/// The lease a filler holds.
#[derive(Clone, Copy)]
pub(crate) struct Lease {
    bytes: [u8; LEASE_LEN],
}

pub(crate) use crate::codec::now_ms;

/// 8 random-enough bytes naming this process in its leases.
fn process_token() -> [u8; 8] {
    static TOKEN: OnceLock<[u8; 8]> = OnceLock::new();
    *TOKEN.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let mut seed = [0u8; 16];
        seed[..8].copy_from_slice(&u64::from(std::process::id()).to_le_bytes());
        seed[8..].copy_from_slice(&nanos.to_le_bytes());
        let hash = blake3::hash(&seed);
        let mut token = [0u8; 8];
        token.copy_from_slice(&hash.as_bytes()[..8]);
        token
    })
}

/// Writes `bytes` as lowercase hex digits into `out` (twice as long).
fn hex_into(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 15)];
    }
}

impl Lease {
    /// [`LEASE_HEAD`], then in hex: the process token, a sequence number, the start in ms.
    fn new() -> Self {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let mut bytes = [0u8; LEASE_LEN];
        let head = LEASE_HEAD.len();
        bytes[..head].copy_from_slice(LEASE_HEAD);
        hex_into(&mut bytes[head..head + 16], &process_token());
        hex_into(
            &mut bytes[head + 16..head + 32],
            &SEQUENCE.fetch_add(1, Relaxed).to_be_bytes(),
        );
        hex_into(&mut bytes[head + 32..], &now_ms().to_be_bytes());
        Lease { bytes }
    }

    /// Whether `stored` is a lease taken by this process.
    pub(crate) fn is_ours(stored: &[u8]) -> bool {
        let mut token = [0u8; 16];
        hex_into(&mut token, &process_token());
        shaped(stored) && stored[LEASE_HEAD.len()..LEASE_HEAD.len() + 16] == token
    }
}

/// [`cas_script`], and then `KEYS[1]` recorded in each tag index `KEYS[2..]` (member
/// `ARGV[6]`, scored by its expiry `ARGV[4]`, members expired before `ARGV[5]` trimmed).
fn fill_script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        Script::new(
            r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[4], ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[5])
  redis.call('PEXPIRE', KEYS[i], ARGV[3], 'NX')
  redis.call('PEXPIRE', KEYS[i], ARGV[3], 'GT')
end
return 1
",
        )
    })
}

/// Stores `ARGV[2]` for `ARGV[3]` ms if `KEYS[1]` holds exactly `ARGV[1]`, on a server
/// without `SET .. IFEQ`: the fill of an entry without tags (or on a cluster, whose tag
/// indexes are written apart), and the adoption of a dropped caller's lease. Kept apart from
/// [`fill_script`]: Redis copies every argument into Lua, and a script with the tag loop
/// and its three extra arguments took 8.3 µs of server time per call against 6.0 µs for
/// this one (`INFO commandstats`, 20,000 fills).
fn cas_script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        Script::new(
            r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
",
        )
    })
}

fn release_script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        Script::new(
            r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
",
        )
    })
}

impl RedisStore {
    /// Reads `key`, leaving a lease in its place when it is missing. A key holding another
    /// Redis type (which an MGET batch reads as nil) reads as [`NOT_A_STRING`], as with
    /// GET, so the caller drops it like any unreadable entry.
    pub(crate) async fn read_or_lease(&self, key: &str) -> Result<Read> {
        let lease = Lease::new();
        let mut conn = self.conn.clone();
        // The lease, NX, PX, its time in ms (up to 20 digits) and GET.
        let mut cmd = self.key_cmd("SET", key, 5, lease.bytes.len() + 28);
        cmd.arg(&lease.bytes[..])
            .arg("NX")
            .arg("PX")
            .arg(ttl_millis(self.lease_time))
            .arg("GET");
        let circuit = self.breakers.for_key(&self.prefix, key);
        let found: Option<Vec<u8>> = match self.guard_on(circuit, cmd.query_async(&mut conn)).await
        {
            Ok(found) => found,
            Err(Failure::Redis(e)) if e.code() == Some("WRONGTYPE") => {
                return Ok(Read::Value(NOT_A_STRING.to_vec()))
            }
            Err(Failure::Redis(e)) if e.code().is_some_and(|c| WRITES_REFUSED.contains(&c)) => {
                self.writes_refused.store(true, Relaxed);
                return Ok(Read::Refused(Failure::Redis(e).into_error()));
            }
            Err(failure) => return Err(failure.into_error()),
        };
        if self.writes_refused.load(Relaxed) {
            self.writes_refused.store(false, Relaxed);
        }
        Ok(match found {
            None => Read::Leased(lease),
            Some(bytes) if self.holds_lease(key, &bytes).await => Read::Busy,
            Some(bytes) => Read::Value(bytes),
        })
    }

    /// Whether `bytes`, just read from `key`, is another caller's fill lease: [`shaped`]
    /// like one, and expiring. Every lease is set with a TTL, so a lease-shaped value
    /// without one (`PTTL` -1) was written by something else: foreign data, unreadable,
    /// which must not stop this key from ever being filled. Costs a `PTTL` round trip, only
    /// for lease-shaped bytes; when that fails the value is taken for the lease it looks
    /// like (this call then computes without storing, as with any other lease).
    pub(crate) async fn holds_lease(&self, key: &str, bytes: &[u8]) -> bool {
        if !shaped(bytes) {
            return false;
        }
        let mut conn = self.conn.clone();
        let cmd = self.key_cmd("PTTL", key, 0, 0);
        let pttl = self.guard_key(key, cmd.query_async::<i64>(&mut conn)).await;
        !matches!(pttl, Ok(-1))
    }

    /// Records the leased `key` in each tag's index before its body runs, so that a tag
    /// invalidation from now on deletes the lease (and so refuses the fill).
    ///
    /// On a cluster the indexes lie in other slots than the entry, and the fill script can
    /// only touch the entry: so the key is recorded here for as long as the entry will live
    /// (`ttl`), one single-slot pipeline per index, and the fill does not touch them again.
    pub(crate) async fn register_fill(
        &self,
        key: &str,
        tags: &[String],
        ttl: Duration,
    ) -> Result<()> {
        if self.is_cluster() {
            return self
                .index_per_slot(key, tags, ttl.max(self.lease_time))
                .await;
        }
        let until = now_ms().saturating_add(ttl_millis(self.lease_time));
        let lease_ms = ttl_millis(self.lease_time);
        let mut pipe = redis::pipe();
        for tag in tags {
            let index = super::tag_index(&self.prefix, tag);
            pipe.cmd("ZADD")
                .arg(&index)
                .arg("NX")
                .arg(until)
                .arg(key)
                .ignore();
            pipe.cmd("PEXPIRE")
                .arg(&index)
                .arg(lease_ms)
                .arg("NX")
                .ignore();
            pipe.cmd("PEXPIRE")
                .arg(&index)
                .arg(lease_ms)
                .arg("GT")
                .ignore();
        }
        self.run_pipe(&pipe).await
    }

    /// Stores `value` in place of `lease`, recorded under `tags`, unless the lease is gone
    /// (an invalidation or a newer write came since it was taken). Returns whether it stored.
    pub(crate) async fn fill(
        &self,
        key: &str,
        lease: &Lease,
        value: &[u8],
        ttl: Duration,
        tags: &[String],
    ) -> Result<bool> {
        self.replace(key, &lease.bytes, value, ttl, tags).await
    }

    /// Stores `value` under `key` if it still holds exactly `expected` (a lease, or the stale
    /// value a `stale_if_error` refresh read). Returns whether it stored.
    pub(crate) async fn replace(
        &self,
        key: &str,
        expected: &[u8],
        value: &[u8],
        ttl: Duration,
        tags: &[String],
    ) -> Result<bool> {
        if self.is_cluster() && !tags.is_empty() {
            // The script's keys would span the entry's slot and its tag indexes' slots: the
            // script on the entry alone, then the indexes, one single-slot pipeline each
            // (a lease fill's key was already recorded by `register_fill`; this extends it
            // to the new TTL).
            let stored = self.replace_script(key, expected, value, ttl, &[]).await?;
            if stored {
                self.index_per_slot(key, tags, ttl).await?;
            }
            return Ok(stored);
        }
        self.replace_script(key, expected, value, ttl, tags).await
    }

    /// The fill script: `value` under `key` if it holds exactly `expected`, and `key`
    /// recorded under `tags` (all keys of the script: one slot on a cluster). Without tags,
    /// the shorter [`cas_script`].
    async fn replace_script(
        &self,
        key: &str,
        expected: &[u8],
        value: &[u8],
        ttl: Duration,
        tags: &[String],
    ) -> Result<bool> {
        let ttl_ms = ttl_millis(ttl);
        if tags.is_empty() {
            return self.compare_and_set(key, expected, value, ttl_ms).await;
        }
        let now = now_ms();
        let indexes: Vec<String> = tags
            .iter()
            .map(|t| super::tag_index(&self.prefix, t))
            .collect();
        let more = indexes.iter().map(String::len).sum::<usize>()
            + key.len()
            + expected.len()
            + value.len();
        let mut eval = self.eval_on(fill_script(), 1 + indexes.len(), key, more);
        for index in &indexes {
            eval.arg(index);
        }
        eval.arg(expected)
            .arg(value)
            .arg(ttl_ms)
            .arg(now.saturating_add(ttl_ms))
            .arg(now.saturating_sub(TAG_TRIM_MARGIN_MS))
            .arg(key);
        let stored: u64 = self.run_eval_at(key, &eval).await?;
        Ok(stored == 1)
    }

    /// Takes over `stored`, a lease this process took for a call that was dropped before it
    /// could fill (a cancelled or panicked single-flight leader): the lease is replaced by a
    /// new one, so the late release of the old one cannot end it.
    pub(crate) async fn adopt(&self, key: &str, stored: &[u8]) -> Result<Option<Lease>> {
        let lease = Lease::new();
        let adopted = self
            .compare_and_set(key, stored, &lease.bytes, ttl_millis(self.lease_time))
            .await?;
        Ok(adopted.then_some(lease))
    }

    /// `value` under `key` for `ttl_ms` if it holds exactly `expected`: `SET .. IFEQ` unless
    /// this connection's server refused it, else [`cas_script`] (both under one deadline).
    /// Returns whether it stored.
    async fn compare_and_set(
        &self,
        key: &str,
        expected: &[u8],
        value: &[u8],
        ttl_ms: u64,
    ) -> Result<bool> {
        let mut conn = self.conn.clone();
        let op = async {
            if self.set_ifeq.worth_trying() {
                // The value, IFEQ, the expected bytes, PX and the time in ms (up to 20 digits).
                let bytes = value.len() + expected.len() + 28;
                let mut cmd = self.key_cmd("SET", key, 5, bytes);
                cmd.arg(value)
                    .arg("IFEQ")
                    .arg(expected)
                    .arg("PX")
                    .arg(ttl_ms);
                match cmd.query_async::<redis::Value>(&mut conn).await {
                    Ok(reply) => {
                        self.set_ifeq.found(true);
                        return ifeq::stored(reply);
                    }
                    Err(e) if ifeq::is_refusal(&e) => self.set_ifeq.found(false),
                    Err(e) => return Err(e),
                }
            }
            let mut eval = self.eval_on(cas_script(), 1, key, expected.len() + value.len());
            eval.arg(expected).arg(value).arg(ttl_ms);
            eval.query::<u64>(&mut conn).await.map(|n| n == 1)
        };
        self.guard_key(key, op).await
    }

    /// Gives `lease` back without storing (the body failed or its value is not cached).
    pub(crate) async fn release(&self, key: &str, lease: &Lease) -> Result<()> {
        let mut eval = self.eval_on(release_script(), 1, key, lease.bytes.len());
        eval.arg(&lease.bytes[..]);
        self.run_eval_at::<u64>(key, &eval).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_shaped_and_near_misses_are_not() {
        let lease = Lease::new();
        assert!(shaped(&lease.bytes));
        assert!(Lease::is_ours(&lease.bytes));
        assert_eq!(&lease.bytes[..LEASE_HEAD.len()], LEASE_HEAD);
        let mut other_process = lease.bytes;
        // Another hex digit (flipping a bit could leave the hex range: `f` ^ 1 is `g`).
        let digit = &mut other_process[LEASE_HEAD.len()];
        *digit = if *digit == b'0' { b'1' } else { b'0' };
        assert!(shaped(&other_process) && !Lease::is_ours(&other_process));

        let mut upper = lease.bytes;
        upper[LEASE_LEN - 1] = b'A';
        let mut longer = lease.bytes.to_vec();
        longer.push(b'0');
        let foreign: [&[u8]; 6] = [
            &[0xCB],
            &[0xCB, 1, 2, 3],
            &lease.bytes[..LEASE_LEN - 1],
            &longer,
            &upper,
            b"\xCBcache-lease;000000000000000000000000000000000000000000000000",
        ];
        for bytes in foreign {
            assert!(!shaped(bytes), "{bytes:?}");
        }
    }
}
