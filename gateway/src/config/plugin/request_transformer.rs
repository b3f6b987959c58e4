//! The `request-transformer` plugin's configuration.

use http::{HeaderName, HeaderValue, Method};

use crate::config::ErrorKind;
use crate::config::decode::{At, Fields, Result, is_off};
use crate::config::plugin::jwt::header_name;
use crate::config::plugin::template::{Template, TemplatePart};

/// Header edits of one kind, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderChanges {
    /// Headers named by `remove`.
    pub remove: Vec<HeaderName>,
    /// `old:new` pairs of `rename`.
    pub rename: Vec<(HeaderName, HeaderName)>,
    /// `name:value` pairs of `replace`: set only if the header is present.
    pub replace: Vec<(HeaderName, Template)>,
    /// `name:value` pairs of `add`: set only if the header is absent.
    pub add: Vec<(HeaderName, Template)>,
    /// `name:value` pairs of `append`: added as one more value.
    pub append: Vec<(HeaderName, Template)>,
}

/// Query-string edits, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryChanges {
    /// Parameters named by `remove`.
    pub remove: Vec<String>,
    /// `old:new` pairs of `rename`.
    pub rename: Vec<(String, String)>,
    /// `name:value` pairs of `replace`: set only if the parameter is present.
    pub replace: Vec<(String, Template)>,
    /// `name:value` pairs of `add`: set only if the parameter is absent.
    pub add: Vec<(String, Template)>,
    /// `name:value` pairs of `append`: added as one more value.
    pub append: Vec<(String, Template)>,
}

/// The `request-transformer` plugin: edits to the request on its way upstream.
///
/// Kong's shape: `remove`, `rename`, `replace`, `add` and `append`, each with `headers` and
/// `querystring` lists, applied in that order (remove, rename, replace, add only if absent,
/// append); entries other than `remove` are `name:value` (`old:new` for `rename`). As in
/// Kong, the name ends at the first `:` and any run of colons after it is skipped, and a
/// value may not be empty. `http_method` changes the method.
///
/// Not supported: `body` edits (Sluicegate streams bodies untouched, whatever their type)
/// and `replace.uri`; they are refused unless empty. Values may hold `$(uuid)` (a Sluicegate
/// extension, see [`Template`]); other `$(...)` expressions are refused.
///
/// ```
/// use sluicegate_gateway::config::{Config, Plugin};
/// let config = Config::from_yaml(r#"
/// _format_version: "3.0"
/// plugins:
///   - name: request-transformer
///     config:
///       remove: {headers: [Cookie]}
///       add: {headers: ["X-Gateway-Version:1.0", "X-Request-ID:$(uuid)"]}
/// "#, "inline")?;
/// let Plugin::RequestTransformer(edits) = &config.plugins[0] else { unreachable!() };
/// assert_eq!(edits.headers.remove, [http::header::COOKIE]);
/// assert_eq!(edits.headers.add[0].0, "x-gateway-version");
/// assert_eq!(edits.headers.add[0].1.as_static(), Some("1.0"));
/// assert_eq!(edits.headers.add[1].1.as_static(), None);
/// # Ok::<(), sluicegate_gateway::config::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestTransformerPlugin {
    /// The method to send upstream instead of the client's, if any.
    pub http_method: Option<Method>,
    /// Header edits.
    pub headers: HeaderChanges,
    /// Query-string edits.
    pub querystring: QueryChanges,
}

/// The five operations, in Kong's order.
const OPERATIONS: [&str; 5] = ["remove", "rename", "replace", "add", "append"];

impl RequestTransformerPlugin {
    pub(crate) fn decode(at: &At<'_>) -> Result<Self> {
        let mut f = at.fields()?;
        let http_method = f.opt("http_method", |at| {
            let text = at.str()?;
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(at.invalid(format!("`{text}` is not a method")));
            }
            Method::from_bytes(text.to_ascii_uppercase().as_bytes())
                .map_err(|_| at.invalid(format!("`{text}` is not a method")))
        })?;
        let mut plugin = RequestTransformerPlugin {
            http_method,
            ..Self::default()
        };
        for operation in OPERATIONS {
            if let Some(op_at) = f.get(operation) {
                plugin.decode_operation(operation, op_at.fields()?)?;
            }
        }
        f.finish()?;
        Ok(plugin)
    }

    fn decode_operation(&mut self, operation: &str, mut f: Fields<'_>) -> Result<()> {
        let (h, q) = (&mut self.headers, &mut self.querystring);
        let headers = f.opt("headers", |at| at.items())?.unwrap_or_default();
        let query = f.opt("querystring", |at| at.items())?.unwrap_or_default();
        match operation {
            "remove" => {
                h.remove = headers.iter().map(header_name).collect::<Result<_>>()?;
                q.remove = query.iter().map(query_name).collect::<Result<_>>()?;
            }
            "rename" => {
                h.rename = pairs(&headers, header_from)?;
                q.rename = pairs(&query, query_from)?;
            }
            _ => {
                let header_edits = pairs(&headers, header_value)?;
                let query_edits = pairs(&query, Template::decode)?;
                let (header_slot, query_slot) = match operation {
                    "replace" => (&mut h.replace, &mut q.replace),
                    "add" => (&mut h.add, &mut q.add),
                    _ => (&mut h.append, &mut q.append),
                };
                *header_slot = header_edits;
                *query_slot = query_edits;
            }
        }
        f.unsupported(
            "body",
            is_off,
            "Sluicegate streams request bodies untouched, whatever their content type",
        )?;
        if operation == "replace" {
            f.unsupported(
                "uri",
                is_off,
                "the upstream path comes from the service and route",
            )?;
        }
        f.finish()
    }
}

/// Splits each `name:value` entry as Kong does and reads both halves.
fn pairs<N, V>(
    items: &[At<'_>],
    mut read_value: impl FnMut(&At<'_>, &str) -> Result<V>,
) -> Result<Vec<(N, V)>>
where
    N: for<'s> TryFrom<&'s str>,
{
    items
        .iter()
        .map(|at| {
            let entry = at.str()?;
            let (name, value) = entry
                .split_once(':')
                .map(|(name, value)| (name, value.trim_start_matches(':')))
                .filter(|(name, _)| !name.is_empty())
                .ok_or_else(|| at.invalid(format!("`{entry}` is not `name:value`")))?;
            if value.is_empty() {
                return Err(at.invalid(format!("key `{name}` has no value")));
            }
            let name = N::try_from(name)
                .map_err(|_| at.invalid(format!("`{name}` is not a valid name here")))?;
            Ok((name, read_value(at, value)?))
        })
        .collect()
}

fn query_name(at: &At<'_>) -> Result<String> {
    at.non_empty_string()
}

fn header_from(at: &At<'_>, value: &str) -> Result<HeaderName> {
    HeaderName::from_bytes(value.as_bytes())
        .map_err(|_| at.invalid(format!("`{value}` is not a valid header name")))
}

fn query_from(_: &At<'_>, value: &str) -> Result<String> {
    Ok(value.to_owned())
}

/// A header value: a template whose text parts are valid in a header.
fn header_value(at: &At<'_>, value: &str) -> Result<Template> {
    let template = Template::decode(at, value)?;
    for part in template.parts() {
        if let TemplatePart::Text(text) = part {
            HeaderValue::from_str(text).map_err(|_| {
                at.error(
                    ErrorKind::Invalid,
                    format!("`{value}` is not a valid header value"),
                )
            })?;
        }
    }
    Ok(template)
}
