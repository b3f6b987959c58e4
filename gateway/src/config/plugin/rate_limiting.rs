//! The `rate-limiting` plugin's configuration.

use std::time::Duration;

use http::{HeaderName, StatusCode};
use sluicegate::limiter::MAX_LIMIT;

use crate::config::ErrorKind;
use crate::config::decode::{At, Fields, Result, is_off};
use crate::config::names::check_uri_path;
use crate::config::plugin::jwt::header_name;

// The periods are the rate-limit layer's own: configuration and runtime share one type.
pub use crate::limit::Period;

/// Whose requests a limit counts together.
///
/// When the caller or credential cannot be told (no verified token), Kong falls back to the
/// client IP, and so does Sluicegate; likewise when the header is absent or the path is
/// another one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LimitBy {
    /// The authenticated caller (Kong's default). Kong counts per consumer; Sluicegate counts
    /// per token subject (`sub`) when the token has one, else per consumer, because one
    /// consumer usually stands for a whole application whose tokens each name a user.
    Consumer,
    /// The credential the consumer authenticated with.
    Credential,
    /// The client IP address.
    Ip,
    /// The service: one limit shared by every client.
    Service,
    /// The value of this request header.
    Header(HeaderName),
    /// Requests whose path is exactly this one, counted together.
    Path(String),
}

/// Where counters are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Policy {
    /// In this gateway process: exact, with no network hop.
    Local,
    /// In the Redis server of the plugin's `redis` block, shared by every gateway instance
    /// that names it: exact across all of them, at one round trip per request (or local
    /// admission reconciled every `sync_rate`). See [`crate::limit::redis`].
    Redis,
}

/// Which rate-limit response headers to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateLimitHeaders {
    /// Kong's `X-RateLimit-Limit-<Period>` and `X-RateLimit-Remaining-<Period>`, one pair per
    /// configured period (`x-ratelimit`).
    Kong,
    /// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` for the tightest
    /// period, as Kong sends them (`ratelimit`).
    Draft,
    /// The IETF structured fields `RateLimit-Policy` and `RateLimit`
    /// (draft-ietf-httpapi-ratelimit-headers; `ietf`).
    Ietf,
}

/// A Redis server's address and credentials, as Kong's `redis` block (or its older flat
/// `redis_*` keys) gives them.
///
/// Kong's defaults: `port` 6379, `timeout` 2000 ms, `database` 0. Without a `host` there is
/// no Redis (Kong's exports spell an unused block out with `host: null`). `ssl: true` and
/// Kong Enterprise's `sentinel_*` and `cluster_*` settings are refused: Sluicegate speaks plain
/// TCP to one server. `ssl_verify` and `server_name` only matter with TLS and are ignored.
///
/// `Debug` never shows the password:
///
/// ```
/// use sluicegate_gateway::config::{Config, Plugin};
/// let config = Config::from_yaml(r#"
/// _format_version: "3.0"
/// plugins:
///   - name: rate-limiting
///     config:
///       minute: 100
///       policy: redis
///       redis: {host: 10.0.0.5, username: gateway, password: s3cret}
/// "#, "inline")?;
/// let Plugin::RateLimiting(limits) = &config.plugins[0] else { unreachable!() };
/// let redis = limits.redis.as_ref().unwrap();
/// assert_eq!((redis.host.as_str(), redis.port, redis.database), ("10.0.0.5", 6379, 0));
/// assert_eq!(redis.timeout, std::time::Duration::from_millis(2000));
/// assert_eq!(redis.password.as_deref(), Some("s3cret"));
/// assert!(!format!("{redis:?}").contains("s3cret"));
/// # Ok::<(), sluicegate_gateway::config::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// The server's host name or IP address.
    pub host: String,
    /// The server's port (default 6379).
    pub port: u16,
    /// How long connecting, and each command, may take (default 2000 ms).
    pub timeout: Duration,
    /// The ACL user name, if any (Redis 6+); without one, the password is the `default`
    /// user's (`requirepass`).
    pub username: Option<String>,
    /// The password, if any. Never printed.
    pub password: Option<String>,
    /// The database number (default 0).
    pub database: u32,
}

impl std::fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("timeout", &self.timeout)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("database", &self.database)
            .finish()
    }
}

/// The `rate-limiting` plugin: how many requests per period, counted per whom, and what
/// a client is told.
///
/// Kong's fields and defaults: at least one of `second`, `minute`, `hour`, `day`, `month`,
/// `year` (whole numbers of requests; a longer period may not have a lower limit);
/// `limit_by` (`consumer`; also `credential`, `ip`, `service`, `header` with `header_name`,
/// `path` with `path`); `policy` (`local`, or `redis` with a `redis` block that names a
/// host: see [`RedisConfig`], which also reads Kong's deprecated `redis_host`, `redis_port`,
/// ... keys); `fault_tolerant` (true); `hide_client_headers` (false); `error_code` (429);
/// `error_message` ("API rate limit exceeded"); `sync_rate` (-1: every request is decided on
/// Redis; a number of seconds, at least 0.02, only with `policy: redis`: requests are
/// admitted locally and usage is reconciled with Redis that often).
///
/// Deviations: limits must be integers (Kong takes fractions); `policy: cluster` is refused
/// (Kong refuses it too without a database). Limits count over exact sliding windows (see
/// [`Period`]), on Redis too; with `fault_tolerant`, a Redis outage falls back to limits
/// counted in each gateway instance instead of no limits (see [`crate::limit::redis`]).
///
/// Extension: `headers` chooses the response headers among `x-ratelimit`, `ratelimit` and
/// `ietf` (see [`RateLimitHeaders`]; default all three). `hide_client_headers` hides them
/// all.
///
/// ```
/// use sluicegate_gateway::config::{Config, LimitBy, Period, Plugin};
/// let config = Config::from_yaml(r#"
/// _format_version: "3.0"
/// plugins:
///   - name: rate-limiting
///     config: {second: 5, minute: 100, limit_by: ip}
/// "#, "inline")?;
/// let Plugin::RateLimiting(limits) = &config.plugins[0] else { unreachable!() };
/// assert_eq!(limits.limits(), [(Period::Second, 5), (Period::Minute, 100)]);
/// assert_eq!(limits.limit_by, LimitBy::Ip);
/// assert_eq!(limits.error_code, 429);
/// assert_eq!(limits.error_message, "API rate limit exceeded");
/// # Ok::<(), sluicegate_gateway::config::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitingPlugin {
    /// Requests per second.
    pub second: Option<u64>,
    /// Requests per minute.
    pub minute: Option<u64>,
    /// Requests per hour.
    pub hour: Option<u64>,
    /// Requests per day.
    pub day: Option<u64>,
    /// Requests per 30 days.
    pub month: Option<u64>,
    /// Requests per 365 days.
    pub year: Option<u64>,
    /// Whose requests count together.
    pub limit_by: LimitBy,
    /// Where counters are kept.
    pub policy: Policy,
    /// Whether requests are let through, without headers, when counting fails (true) or
    /// answered 500 (false).
    pub fault_tolerant: bool,
    /// Whether to leave out every rate-limit header.
    pub hide_client_headers: bool,
    /// The status of a rejected request.
    pub error_code: StatusCode,
    /// The message in a rejected request's JSON body.
    pub error_message: String,
    /// The Redis server, for `policy: redis` (read, and unused, with `policy: local`, as in
    /// Kong).
    pub redis: Option<RedisConfig>,
    /// Kong's `sync_rate` for `policy: redis`: `None` (Kong's -1) decides every request on
    /// Redis; `Some(period)` admits locally and reconciles usage with Redis every `period`.
    pub sync_rate: Option<Duration>,
    /// Which headers to send (extension).
    pub headers: Vec<RateLimitHeaders>,
}

impl RateLimitingPlugin {
    /// The configured limits, shortest period first.
    pub fn limits(&self) -> Vec<(Period, u64)> {
        Period::ALL
            .into_iter()
            .filter_map(|period| self.limit(period).map(|limit| (period, limit)))
            .collect()
    }

    /// The limit for `period`, if one is set.
    pub fn limit(&self, period: Period) -> Option<u64> {
        match period {
            Period::Second => self.second,
            Period::Minute => self.minute,
            Period::Hour => self.hour,
            Period::Day => self.day,
            Period::Month => self.month,
            Period::Year => self.year,
        }
    }

    pub(crate) fn decode(at: &At<'_>) -> Result<Self> {
        let mut f = at.fields()?;
        let mut limits: Vec<(Period, u64, At<'_>)> = Vec::new();
        for period in Period::ALL {
            if let Some(limit_at) = f.get(period.name()) {
                limits.push((period, limit_at.integer(1..=MAX_LIMIT)?, limit_at));
            }
        }
        check_limit_order(&limits)?;
        let limit_by = decode_limit_by(&mut f)?;
        let redis = RedisConfig::decode(&mut f)?;
        let policy_at = f.get("policy");
        let policy = decode_policy(policy_at.as_ref(), redis.is_some())?;
        let fault_tolerant = f.or("fault_tolerant", true, At::bool)?;
        let hide_client_headers = f.or("hide_client_headers", false, At::bool)?;
        let error_code = f.or("error_code", StatusCode::TOO_MANY_REQUESTS, |at| {
            let code = at.integer(100..=599u16)?;
            StatusCode::from_u16(code).map_err(|_| at.invalid(format!("{code} is not a status")))
        })?;
        let error_message = f.or(
            "error_message",
            "API rate limit exceeded".to_owned(),
            |at| at.str().map(str::to_owned),
        )?;
        let sync_rate = f
            .opt("sync_rate", |at| decode_sync_rate(at, policy))?
            .flatten();
        let headers = f.or(
            "headers",
            vec![
                RateLimitHeaders::Kong,
                RateLimitHeaders::Draft,
                RateLimitHeaders::Ietf,
            ],
            |at| {
                at.list(|h| {
                    h.one_of(&[
                        ("x-ratelimit", RateLimitHeaders::Kong),
                        ("ratelimit", RateLimitHeaders::Draft),
                        ("ietf", RateLimitHeaders::Ietf),
                    ])
                })
            },
        )?;
        let plugin_at = f.at().clone();
        f.finish()?;
        if limits.is_empty() {
            return Err(plugin_at
                .invalid("set at least one limit: second, minute, hour, day, month or year"));
        }
        let limit = |period| {
            limits
                .iter()
                .find(|(p, ..)| *p == period)
                .map(|(_, n, _)| *n)
        };
        Ok(RateLimitingPlugin {
            second: limit(Period::Second),
            minute: limit(Period::Minute),
            hour: limit(Period::Hour),
            day: limit(Period::Day),
            month: limit(Period::Month),
            year: limit(Period::Year),
            limit_by,
            policy,
            fault_tolerant,
            hide_client_headers,
            error_code,
            error_message,
            redis,
            sync_rate,
            headers,
        })
    }
}

/// A longer period may not allow fewer requests than a shorter one.
fn check_limit_order(limits: &[(Period, u64, At<'_>)]) -> Result<()> {
    for (i, (short, short_limit, _)) in limits.iter().enumerate() {
        for (long, long_limit, long_at) in &limits[i + 1..] {
            if long_limit < short_limit {
                return Err(long_at.invalid(format!(
                    "the limit per {long} ({long_limit}) is lower than the limit per {short} \
                     ({short_limit}); a longer period may not have a lower limit"
                )));
            }
        }
    }
    Ok(())
}

fn decode_limit_by(f: &mut Fields<'_>) -> Result<LimitBy> {
    let header = f.opt("header_name", header_name)?;
    let path = f.opt("path", check_uri_path)?;
    let Some(at) = f.get("limit_by") else {
        return Ok(LimitBy::Consumer);
    };
    #[derive(Clone, Copy)]
    enum Choice {
        Consumer,
        Credential,
        Ip,
        Service,
        Header,
        Path,
    }
    let choice = at.one_of(&[
        ("consumer", Choice::Consumer),
        ("credential", Choice::Credential),
        ("ip", Choice::Ip),
        ("service", Choice::Service),
        ("header", Choice::Header),
        ("path", Choice::Path),
    ])?;
    let needs = |what: &str| {
        at.error(
            ErrorKind::MissingKey,
            format!(
                "`limit_by: {what}` needs `{what}{}`",
                if what == "header" { "_name" } else { "" }
            ),
        )
    };
    Ok(match choice {
        Choice::Consumer => LimitBy::Consumer,
        Choice::Credential => LimitBy::Credential,
        Choice::Ip => LimitBy::Ip,
        Choice::Service => LimitBy::Service,
        Choice::Header => LimitBy::Header(header.ok_or_else(|| needs("header"))?),
        Choice::Path => LimitBy::Path(path.ok_or_else(|| needs("path"))?),
    })
}

fn decode_policy(at: Option<&At<'_>>, has_redis: bool) -> Result<Policy> {
    let Some(at) = at else {
        return Ok(Policy::Local);
    };
    #[derive(Clone, Copy)]
    enum Choice {
        Local,
        Cluster,
        Redis,
    }
    let choice = at.one_of(&[
        ("local", Choice::Local),
        ("cluster", Choice::Cluster),
        ("redis", Choice::Redis),
    ])?;
    match choice {
        Choice::Local => Ok(Policy::Local),
        Choice::Cluster => Err(at.error(
            ErrorKind::Unsupported,
            "policy `cluster` keeps counters in Kong's database, which a declarative \
             configuration does not have (Kong refuses it without one too); use `local`, or \
             `redis` to share limits between gateway instances",
        )),
        Choice::Redis if !has_redis => Err(at.invalid(
            "policy `redis` needs a `redis` block with a `host`; Kong refuses it without \
             one too",
        )),
        Choice::Redis => Ok(Policy::Redis),
    }
}

/// Kong's shortest `sync_rate`, in seconds.
const MIN_SYNC_RATE: f64 = 0.02;

/// Kong's `sync_rate`: -1 (synchronous, `None`) or at least [`MIN_SYNC_RATE`] seconds, and
/// only with the redis policy.
fn decode_sync_rate(at: &At<'_>, policy: Policy) -> Result<Option<Duration>> {
    let seconds = at.number()?;
    if seconds == -1.0 {
        return Ok(None);
    }
    if policy != Policy::Redis {
        return Err(at.invalid("sync_rate can only be used with the redis policy"));
    }
    if seconds < MIN_SYNC_RATE {
        return Err(at.invalid(format!(
            "sync_rate must be at least {MIN_SYNC_RATE} (seconds), or -1 to decide every \
             request on Redis"
        )));
    }
    Duration::try_from_secs_f64(seconds)
        .map(Some)
        .map_err(|_| at.invalid(format!("sync_rate {seconds} is not a duration in seconds")))
}

/// Kong Enterprise's settings for Redis Sentinel and Redis Cluster, refused when set.
const TOPOLOGY_KEYS: [&str; 7] = [
    "sentinel_master",
    "sentinel_role",
    "sentinel_nodes",
    "sentinel_username",
    "sentinel_password",
    "cluster_nodes",
    "cluster_max_redirections",
];

impl RedisConfig {
    /// Reads the `redis` block, folding in Kong's deprecated flat `redis_*` keys. `None` when
    /// no host is given.
    fn decode(plugin: &mut Fields<'_>) -> Result<Option<Self>> {
        let block_at = plugin.get("redis");
        let mut block = block_at.as_ref().map(At::fields).transpose()?;
        let mut field = |key, flat| redis_field(&mut block, plugin, key, flat);
        let host = field("host", "redis_host")?;
        let port = field("port", "redis_port")?;
        let timeout = field("timeout", "redis_timeout")?;
        let username = field("username", "redis_username")?;
        let password = field("password", "redis_password")?;
        let database = field("database", "redis_database")?;
        let ssl = field("ssl", "redis_ssl")?;
        let ssl_verify = field("ssl_verify", "redis_ssl_verify")?;
        let server_name = field("server_name", "redis_server_name")?;
        if let Some(at) = ssl
            && at.bool()?
        {
            return Err(at.error(
                ErrorKind::Unsupported,
                "`ssl: true` is not supported: Sluicegate speaks plain TCP to Redis; keep \
                 Redis on a private network or behind a local TLS tunnel",
            ));
        }
        ssl_verify.map(|at| at.bool()).transpose()?;
        optional_text(server_name)?;
        if let Some(block) = &mut block {
            for key in TOPOLOGY_KEYS {
                block.unsupported(
                    key,
                    is_off,
                    "Sluicegate talks to one Redis server (`host` and `port`), not through \
                     Sentinel or Redis Cluster",
                )?;
            }
        }
        if let Some(block) = block {
            block.finish()?;
        }
        let port = port
            .map(|at| at.integer(1..=u16::MAX))
            .transpose()?
            .unwrap_or(6379);
        let timeout = timeout
            .map(|at| at.integer(1..=(1u64 << 31) - 2).map(Duration::from_millis))
            .transpose()?
            .unwrap_or(Duration::from_millis(2_000));
        let username = optional_text(username)?;
        let password = optional_text(password)?;
        let database = database
            .map(|at| at.integer(0..=u32::MAX))
            .transpose()?
            .unwrap_or(0);
        let Some(host) = host else {
            return Ok(None);
        };
        Ok(Some(RedisConfig {
            host: host.non_empty_string()?,
            port,
            timeout,
            username,
            password,
            database,
        }))
    }
}

/// One Redis setting, from `redis.<key>` or the deprecated `redis_<key>`, not both.
fn redis_field<'a>(
    block: &mut Option<Fields<'a>>,
    plugin: &mut Fields<'a>,
    key: &'static str,
    flat: &'static str,
) -> Result<Option<At<'a>>> {
    let nested = block.as_mut().and_then(|b| b.get(key));
    let deprecated = plugin.get(flat);
    match (nested, deprecated) {
        (Some(_), Some(flat_at)) => Err(flat_at.invalid(format!(
            "`{flat}` repeats `redis.{key}`; give it once, as `redis.{key}`"
        ))),
        (nested, deprecated) => Ok(nested.or(deprecated)),
    }
}

fn optional_text(at: Option<At<'_>>) -> Result<Option<String>> {
    at.map(|at| at.str().map(str::to_owned)).transpose()
}
