//! The `rate-limiting` plugin's configuration.

use std::time::Duration;

use http::{HeaderName, StatusCode};
use sluicegate::limiter::MAX_LIMIT;

use crate::config::ErrorKind;
use crate::config::decode::{At, Fields, Result};
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

/// A Redis server's address and options, as Kong's `redis` block gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// The server's host.
    pub host: String,
    /// The server's port.
    pub port: u16,
    /// How long a command may take (default 2000 ms).
    pub timeout: Duration,
    /// The ACL user name, if any.
    pub username: Option<String>,
    /// The password, if any.
    pub password: Option<String>,
    /// The database number (default 0).
    pub database: u32,
    /// Whether to speak TLS.
    pub ssl: bool,
    /// Whether to verify the server's certificate.
    pub ssl_verify: bool,
    /// The TLS server name, if any.
    pub server_name: Option<String>,
}

/// The `rate-limiting` plugin: how many requests per period, counted per whom, and what
/// a client is told.
///
/// Kong's fields and defaults: at least one of `second`, `minute`, `hour`, `day`, `month`,
/// `year` (whole numbers of requests; a longer period may not have a lower limit);
/// `limit_by` (`consumer`; also `credential`, `ip`, `service`, `header` with `header_name`,
/// `path` with `path`); `policy` (`local`); `fault_tolerant` (true); `hide_client_headers`
/// (false); `error_code` (429); `error_message` ("API rate limit exceeded"); a `redis` block
/// (or Kong's deprecated `redis_host`, `redis_port`, ... keys). `sync_rate` is accepted
/// only as Kong's default, -1.
///
/// Deviations: limits must be integers (Kong takes fractions); `policy: cluster` is refused
/// (Kong refuses it too without a database), and `policy: redis` is refused as not yet
/// supported. Limits count over exact sliding windows (see [`Period`]).
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
    /// The Redis server, for `policy: redis`.
    pub redis: Option<RedisConfig>,
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
        f.opt("sync_rate", |at| {
            if at.number()? == -1.0 {
                Ok(())
            } else {
                Err(at.invalid("sync_rate can only be used with the redis policy"))
            }
        })?;
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
             configuration does not have (Kong refuses it without one too); use `local`",
        )),
        Choice::Redis if !has_redis => Err(at.invalid(
            "policy `redis` needs a `redis` block with `host` and `port`; Kong refuses it \
             without one too",
        )),
        Choice::Redis => Err(at.error(
            ErrorKind::Unsupported,
            "policy `redis` is not yet supported by Sluicegate; use `local`, which counts \
             exactly within this gateway process",
        )),
    }
}

impl RedisConfig {
    /// Reads the `redis` block, folding in Kong's deprecated flat `redis_*` keys.
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
        if let Some(block) = block {
            block.finish()?;
        }
        let (host, port) = match (host, port) {
            (None, None) => return Ok(None),
            (Some(host), Some(port)) => (host.non_empty_string()?, port.integer(1..=u16::MAX)?),
            (Some(given), None) | (None, Some(given)) => {
                return Err(
                    given.error(ErrorKind::MissingKey, "Redis needs both `host` and `port`")
                );
            }
        };
        Ok(Some(RedisConfig {
            host,
            port,
            timeout: timeout
                .map(|at| at.integer(1..=(1u64 << 31) - 2).map(Duration::from_millis))
                .transpose()?
                .unwrap_or(Duration::from_millis(2_000)),
            username: optional_text(username)?,
            password: optional_text(password)?,
            database: database
                .map(|at| at.integer(0..=u32::MAX))
                .transpose()?
                .unwrap_or(0),
            ssl: ssl.map(|at| at.bool()).transpose()?.unwrap_or(false),
            ssl_verify: ssl_verify.map(|at| at.bool()).transpose()?.unwrap_or(false),
            server_name: optional_text(server_name)?,
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
