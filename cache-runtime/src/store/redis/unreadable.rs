//! Deleting an unreadable entry only while it still holds the bytes that were read.
//!
//! An entry that does not decode (corrupt, foreign, or of another shape, as while a rolling
//! deploy runs old and new code side by side) is deleted so that the next miss may fill it.
//! Between the read and the delete another process may have stored a good value; an
//! unconditional `UNLINK` would delete that one too, and old and new processes would delete
//! each other's entries for as long as the deploy lasts. So the delete compares first, in one
//! script (Redis 7 and Valkey 8.1 have no `DELIFEQ`; it arrives in Valkey 9.0), on the entry's
//! own slot on a cluster.

use std::sync::OnceLock;

use redis::Script;

use super::{RedisStore, NOT_A_STRING};
use crate::error::Result;

/// Deletes `KEYS[1]` if it holds exactly `ARGV[1]`; with `ARGV[2]` = `1`, if it holds
/// anything but a string (what [`NOT_A_STRING`] stands for). Returns 1 when it deleted.
fn delete_script() -> &'static Script {
    static SCRIPT: OnceLock<Script> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        Script::new(
            r"
if ARGV[2] == '1' then
  local t = redis.call('TYPE', KEYS[1]).ok
  if t == 'string' or t == 'none' then return 0 end
elseif redis.pcall('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
return redis.call('UNLINK', KEYS[1])
",
        )
    })
}

impl RedisStore {
    /// Deletes `key` if it still holds `read`, the unreadable bytes a read returned (or
    /// another Redis type, for [`NOT_A_STRING`]). Returns whether it deleted.
    pub(crate) async fn delete_if_holds(&self, key: &str, read: &[u8]) -> Result<bool> {
        let other_type = read == NOT_A_STRING;
        let mut eval = self.eval_on(delete_script(), 1, key, read.len() + 1);
        if other_type {
            eval.arg("").arg("1");
        } else {
            eval.arg(read).arg("0");
        }
        let n: u64 = self.run_eval_at(key, &eval).await?;
        Ok(n > 0)
    }
}
