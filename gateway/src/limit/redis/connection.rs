//! The gateway's connection to one Redis server, built from a plugin's `redis` block.
//!
//! One [`RedisConnection`] per `rate-limiting` entry, shared by every request and every
//! worker thread: a single multiplexed connection (`redis::aio::ConnectionManager`) on which
//! concurrent commands are pipelined, so a thousand requests in flight cost one socket, not a
//! thousand. It logs in with the block's `username` and `password`, selects its `database`,
//! and gives connecting and each command Kong's `timeout`.
//!
//! The connection is made on first use, not when the gateway starts: a gateway whose Redis is
//! down or not yet resolvable still starts and serves (with `fault_tolerant`, on its local
//! fallback). After a lost connection, the next command reconnects by itself. A connection
//! whose setup the server refused (wrong credentials, or a `SELECT` of the database that the
//! user may not run or that does not exist) is also made afresh on the next command, so fixing
//! the server needs no gateway restart: the client reports such a refusal as an error of its
//! own, never as the server's reply to a command, and the manager would hand it to every later
//! command; so after any error that is neither an I/O error (which the manager answers by
//! reconnecting) nor the server's reply to the command, the manager is dropped. How often the
//! next command comes while Redis is down or refusing is the circuit breaker's business
//! ([`super::guard`]), not this module's.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::RwLock;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{
    Client, Cmd, ConnectionAddr, IntoConnectionInfo, Pipeline, RedisError, RedisFuture,
    RedisResult, Value,
};

use crate::config::RedisConfig;

/// A lazily made, self-healing, multiplexed connection to one Redis server; cheap to clone.
///
/// ```
/// use sluicegate_gateway::config::{Config, Plugin};
/// use sluicegate_gateway::limit::redis::RedisConnection;
/// let config = Config::from_yaml(r#"
/// _format_version: "3.0"
/// plugins:
///   - name: rate-limiting
///     config: {minute: 10, policy: redis, redis: {host: 127.0.0.1, port: 6390, database: 2}}
/// "#, "inline")?;
/// let Plugin::RateLimiting(limits) = &config.plugins[0] else { unreachable!() };
/// // Nothing is dialled yet: this works with no Redis running.
/// let connection = RedisConnection::new(limits.redis.as_ref().unwrap())?;
/// assert_eq!(connection.endpoint(), "127.0.0.1:6390/2");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RedisConnection {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    timeout: Duration,
    endpoint: String,
    database: i64,
    /// The manager and its generation, so that a late failure of a dropped manager never drops
    /// the one made after it.
    manager: RwLock<Option<(u64, ConnectionManager)>>,
    generations: AtomicU64,
}

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConnection")
            .field("endpoint", &self.inner.endpoint)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisConnection {
    /// A connection to the server `config` names; nothing is dialled until the first command.
    pub fn new(config: &RedisConfig) -> Result<Self, RedisError> {
        let info = ConnectionAddr::Tcp(config.host.clone(), config.port).into_connection_info()?;
        let mut redis = info.redis_settings().clone();
        if let Some(username) = &config.username {
            redis = redis.set_username(username);
        }
        if let Some(password) = &config.password {
            redis = redis.set_password(password);
        }
        redis = redis.set_db(i64::from(config.database));
        let info = info.set_redis_settings(redis);
        Ok(Self {
            inner: Arc::new(Inner {
                client: Client::open(info)?,
                timeout: config.timeout,
                endpoint: format!("{}:{}/{}", config.host, config.port, config.database),
                database: i64::from(config.database),
                manager: RwLock::new(None),
                generations: AtomicU64::new(0),
            }),
        })
    }

    /// `host:port/database`, for messages (never the credentials).
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// Kong's `timeout`: the longest a connection attempt or a command may take.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Asks the server for `PONG`: connects, logs in and selects the database if need be.
    ///
    /// The error says what went wrong in an operator's words (see [`ConnectionError`]).
    pub async fn ping(&self) -> Result<(), ConnectionError> {
        let mut connection = self.clone();
        redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .map(drop)
            .map_err(|error| self.error(error))
    }

    /// `error`, told which server it came from.
    pub fn error(&self, error: RedisError) -> ConnectionError {
        ConnectionError {
            endpoint: self.inner.endpoint.clone(),
            error,
        }
    }

    /// The shared manager and its generation, made on first use. Must run inside a Tokio
    /// runtime, as the manager spawns its connection task there.
    fn manager(&self) -> RedisResult<(u64, ConnectionManager)> {
        if let Some(current) = &*self.inner.manager.read() {
            return Ok(current.clone());
        }
        let mut slot = self.inner.manager.write();
        if let Some(current) = &*slot {
            return Ok(current.clone());
        }
        let timeout = self.inner.timeout;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            // One attempt per reconnection: the breaker, not a retry loop, paces the next.
            .set_number_of_retries(0);
        let manager = ConnectionManager::new_lazy_with_config(self.inner.client.clone(), config)?;
        let generation = self.inner.generations.fetch_add(1, Ordering::Relaxed);
        *slot = Some((generation, manager.clone()));
        Ok((generation, manager))
    }

    /// Drops the manager of `generation` after an error it would repeat for every later command
    /// (see [`setup_failed`]), so the next command connects afresh.
    fn after<T>(&self, generation: u64, result: &RedisResult<T>) {
        if let Err(error) = result
            && setup_failed(error)
        {
            let mut slot = self.inner.manager.write();
            if slot
                .as_ref()
                .is_some_and(|(current, _)| *current == generation)
            {
                *slot = None;
            }
        }
    }
}

/// Whether `error` is one the client made up, rather than an I/O failure or the server's reply
/// to the command: in practice, the server refusing to set the connection up (`AUTH` or
/// `SELECT` refused), which the manager would keep returning for good, as it reconnects by
/// itself only after I/O errors and lost connections. (A reply the client cannot parse is one
/// too; the manager reconnects after it anyway, so dropping it costs nothing.)
fn setup_failed(error: &RedisError) -> bool {
    !error.is_io_error() && error.clone().into_server_errors().is_none()
}

impl ConnectionLike for RedisConnection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let (generation, mut manager) = self.manager()?;
            let result = manager.send_packed_command(cmd).await;
            self.after(generation, &result);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let (generation, mut manager) = self.manager()?;
            let result = manager.send_packed_commands(pipeline, offset, count).await;
            self.after(generation, &result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.inner.database
    }
}

/// The hint for a server that wants a password and was given none.
const WANTS_PASSWORD: &str = "the server wants a password; set `redis.password`";

/// A Redis failure, with the server it came from and a hint at the usual cause.
///
/// Its text never holds a password: the client's errors name the failure, not the
/// credentials, and the endpoint is `host:port/database`.
#[derive(Debug)]
pub struct ConnectionError {
    endpoint: String,
    error: RedisError,
}

impl ConnectionError {
    /// The client's error.
    pub fn redis_error(&self) -> &RedisError {
        &self.error
    }

    /// What an operator should look at first.
    fn hint(&self) -> &'static str {
        let error = &self.error;
        match (error.kind(), error.code()) {
            (redis::ErrorKind::AuthenticationFailed, _) | (_, Some("WRONGPASS")) => {
                "the server refused the credentials; check `redis.username` and `redis.password`"
            }
            (_, Some("NOAUTH")) => WANTS_PASSWORD,
            // Redis 7 answers a client that has not logged in with this instead of NOAUTH, and
            // hangs up, when a command has more than 10 arguments (as the limiter's script
            // call has) or an argument over 16 KiB.
            (_, Some("ERR"))
                if error.detail().is_some_and(|detail| {
                    detail.starts_with("Protocol error: unauthenticated")
                }) =>
            {
                WANTS_PASSWORD
            }
            // Past the credentials (above), what a server refuses while a connection is set up
            // is its SELECT.
            (redis::ErrorKind::Server(_), _) if setup_failed(error) => {
                "the server refused to select `redis.database`; check that the database exists \
                 and that the user may run SELECT"
            }
            (_, Some("NOPERM")) => {
                "the user may not run what the limiter needs (EVALSHA, EVAL, SCRIPT LOAD, TIME); \
                 widen its ACL"
            }
            _ if error.is_timeout() => "no answer within `redis.timeout`",
            _ if error.is_connection_refusal() => "nothing accepts connections there",
            _ if error.is_io_error() => "the connection failed",
            _ => "the server answered with an error",
        }
    }
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Redis at {}: {}: {}",
            self.endpoint,
            self.hint(),
            self.error
        )
    }
}

impl std::error::Error for ConnectionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
