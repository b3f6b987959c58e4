//! The `correlation-id` plugin's configuration.

use http::HeaderName;

use crate::config::ErrorKind;
use crate::config::decode::{At, Result};
use crate::config::plugin::jwt::header_name;

/// How a missing correlation id is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdGenerator {
    /// A random UUID per request.
    Uuid,
    /// A random UUID per gateway process, then `#` and a counter: cheap and still unique
    /// (Kong's default).
    UuidCounter,
}

/// The `correlation-id` plugin: every request carries an id in `header_name`, kept if the
/// client sent one, else generated; with `echo_downstream` the response carries it back.
///
/// Kong's fields and defaults: `header_name` (`Kong-Request-ID`), `generator`
/// (`uuid#counter`; also `uuid`), `echo_downstream` (false). Kong's `tracker` generator,
/// built from nginx variables, is not supported.
///
/// ```
/// use sluicegate_gateway::config::{Config, IdGenerator, Plugin};
/// let config = Config::from_yaml(r#"
/// _format_version: "3.0"
/// plugins:
///   - name: correlation-id
///     config: {header_name: X-Correlation-ID, generator: uuid}
/// "#, "inline")?;
/// let Plugin::CorrelationId(ids) = &config.plugins[0] else { unreachable!() };
/// assert_eq!(ids.header_name, "x-correlation-id");
/// assert_eq!(ids.generator, IdGenerator::Uuid);
/// assert!(!ids.echo_downstream);
/// # Ok::<(), sluicegate_gateway::config::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationIdPlugin {
    /// The header carrying the id.
    pub header_name: HeaderName,
    /// How a missing id is made.
    pub generator: IdGenerator,
    /// Whether the response carries the id back to the client.
    pub echo_downstream: bool,
}

impl CorrelationIdPlugin {
    pub(crate) fn decode(at: &At<'_>) -> Result<Self> {
        let mut f = at.fields()?;
        let header_name = f.or(
            "header_name",
            HeaderName::from_static("kong-request-id"),
            header_name,
        )?;
        let generator = f.or("generator", IdGenerator::UuidCounter, |at| {
            if at.str()? == "tracker" {
                return Err(at.error(
                    ErrorKind::Unsupported,
                    "generator `tracker` is built from nginx variables; use `uuid` or `uuid#counter`",
                ));
            }
            at.one_of(&[
                ("uuid", IdGenerator::Uuid),
                ("uuid#counter", IdGenerator::UuidCounter),
            ])
        })?;
        let echo_downstream = f.or("echo_downstream", false, At::bool)?;
        f.finish()?;
        Ok(CorrelationIdPlugin {
            header_name,
            generator,
            echo_downstream,
        })
    }
}
