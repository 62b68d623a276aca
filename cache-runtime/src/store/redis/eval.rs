//! Lua scripts sent as one `EVALSHA` command written in place.
//!
//! redis-rs's `ScriptInvocation` copies each key and argument into a `Vec` of its own, then
//! copies them all again into the command it sends: a fill's encoded value was copied twice,
//! and a fill allocated five times before anything was sent. [`Eval`] writes the keys and
//! arguments straight into the command. A server that does not know the script (`NOSCRIPT`:
//! a restart, a `SCRIPT FLUSH`, a failover) gets it loaded and the command sent once more, as
//! redis-rs does.

use redis::{Cmd, ErrorKind, FromRedisValue, RedisResult, Script, ServerErrorKind, ToRedisArgs};

use super::Conn;

/// One `EVALSHA` of a script: its keys first, then its other arguments.
pub(crate) struct Eval {
    script: &'static Script,
    cmd: Cmd,
}

impl Eval {
    /// `EVALSHA` of `script` with `keys` keys, which the first `keys` [`arg`](Eval::arg)s
    /// must be; `bytes` is a guess of the arguments' total size, so the command is allocated
    /// once.
    pub(crate) fn new(script: &'static Script, keys: usize, bytes: usize) -> Self {
        // EVALSHA, the hash and the key count, then (usually) up to six keys and arguments.
        let mut cmd = Cmd::with_capacity(9 + keys, 64 + bytes);
        cmd.arg("EVALSHA").arg(script.get_hash()).arg(keys);
        Eval { script, cmd }
    }

    /// Appends a key or an argument.
    pub(crate) fn arg(&mut self, arg: impl ToRedisArgs) -> &mut Self {
        self.cmd.arg(arg);
        self
    }

    /// Sends the command on `conn` (loading the script first if the server lacks it).
    pub(crate) async fn query<T: FromRedisValue>(&self, conn: &mut Conn) -> RedisResult<T> {
        match self.cmd.query_async(conn).await {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                // Boxed: the rare reload does not make every call's future larger.
                Box::pin(self.reload(conn)).await
            }
            other => other,
        }
    }

    #[cold]
    async fn reload<T: FromRedisValue>(&self, conn: &mut Conn) -> RedisResult<T> {
        self.script.load_async(conn).await?;
        self.cmd.query_async(conn).await
    }
}
