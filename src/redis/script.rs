//! The check script: sent by its digest (`EVALSHA`), and by its text (`EVAL`, which also loads
//! it) when the server does not know it yet or has flushed it.

use std::sync::LazyLock;

use redis::aio::ConnectionLike;
use redis::{Cmd, ErrorKind, RedisResult, ServerErrorKind, Value};

/// The script's text; its header says what it reads, writes and returns.
pub(crate) const SOURCE: &str = include_str!("check.lua");

/// The SHA-1 of [`SOURCE`], as `EVALSHA` wants it.
static DIGEST: LazyLock<String> =
    LazyLock::new(|| redis::Script::new(SOURCE).get_hash().to_owned());

/// What the script does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Decide, record nothing.
    Peek = 0,
    /// Decide, and record the request if it fits.
    Check = 1,
    /// Record the request whatever the limits say, and say whether it fitted.
    Record = 2,
}

/// Runs the script on one key; `args` appends the key count, the key and `ARGV`.
pub(crate) async fn run<C: ConnectionLike>(
    connection: &mut C,
    args: impl Fn(&mut Cmd),
) -> RedisResult<Value> {
    let mut by_digest = redis::cmd("EVALSHA");
    by_digest.arg(DIGEST.as_str());
    args(&mut by_digest);
    match by_digest.query_async(connection).await {
        Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
            let mut by_text = redis::cmd("EVAL");
            by_text.arg(SOURCE);
            args(&mut by_text);
            by_text.query_async(connection).await
        }
        answer => answer,
    }
}
