//! Values with `$(uuid)` placeholders, a Sluicegate extension to Kong's request-transformer.
//!
//! Kong evaluates `$(...)` in a transformer value as a Lua expression over the request
//! (`$(headers.x)`, `$(query_params.y)`, ...). Kong has no `uuid` in that environment, so in
//! Kong `$(uuid)` renders as an empty value. Sluicegate renders `$(uuid)` as a fresh random
//! UUID per request, and refuses every other expression at load rather than guess.

use std::fmt;

use crate::config::ErrorKind;
use crate::config::decode::{At, Result};

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart {
    /// Text copied as it is.
    Text(String),
    /// `$(uuid)`: a fresh random UUID for each request.
    Uuid,
}

/// A value that may hold `$(uuid)` placeholders.
///
/// ```
/// use sluicegate_gateway::config::{Template, TemplatePart};
/// let template: Template = "req-$(uuid)".parse()?;
/// assert_eq!(template.parts(), [TemplatePart::Text("req-".into()), TemplatePart::Uuid]);
/// assert_eq!(template.render(|| "7".into()), "req-7");
/// assert_eq!(template.as_static(), None);
/// assert_eq!("1.0".parse::<Template>()?.as_static(), Some("1.0"));
/// assert!("$(headers.host)".parse::<Template>().is_err());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<TemplatePart>,
}

impl Template {
    /// The pieces, in order.
    pub fn parts(&self) -> &[TemplatePart] {
        &self.parts
    }

    /// The text, if the value has no placeholder.
    pub fn as_static(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [] => Some(""),
            [TemplatePart::Text(text)] => Some(text),
            _ => None,
        }
    }

    /// The value for one request, with each `$(uuid)` replaced by a call to `uuid`.
    pub fn render(&self, mut uuid: impl FnMut() -> String) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Text(text) => out.push_str(text),
                TemplatePart::Uuid => out.push_str(&uuid()),
            }
        }
        out
    }

    /// Reads a template from `text`, which `at` holds part of.
    pub(crate) fn decode(at: &At<'_>, text: &str) -> Result<Self> {
        text.parse().map_err(|why: String| {
            let kind = if why.starts_with("only") {
                ErrorKind::Unsupported
            } else {
                ErrorKind::Invalid
            };
            at.error(kind, why)
        })
    }
}

impl std::str::FromStr for Template {
    type Err = String;

    /// Parses `$(uuid)` placeholders; any other `$(...)` is an error naming it.
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("$(") {
            if start > 0 {
                parts.push(TemplatePart::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find(')')
                .ok_or_else(|| format!("`$(` in `{text}` is never closed"))?;
            let expression = after[..end].trim();
            if expression != "uuid" {
                return Err(format!(
                    "only `$(uuid)` may be used in a value (a Sluicegate extension), not \
                     `$({expression})`; Kong would evaluate it as Lua"
                ));
            }
            parts.push(TemplatePart::Uuid);
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            parts.push(TemplatePart::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }
}

impl fmt::Display for Template {
    /// As written: `req-$(uuid)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                TemplatePart::Text(text) => f.write_str(text)?,
                TemplatePart::Uuid => f.write_str("$(uuid)")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_split_the_text() {
        let t: Template = "a$(uuid)b$( uuid )".parse().unwrap();
        assert_eq!(
            t.parts(),
            [
                TemplatePart::Text("a".into()),
                TemplatePart::Uuid,
                TemplatePart::Text("b".into()),
                TemplatePart::Uuid
            ]
        );
        let mut n = 0;
        assert_eq!(
            t.render(|| {
                n += 1;
                n.to_string()
            }),
            "a1b2"
        );
        assert_eq!(t.to_string(), "a$(uuid)b$(uuid)");
    }

    #[test]
    fn a_lone_dollar_is_text_and_unclosed_placeholders_are_refused() {
        assert_eq!(
            "$5 (cheap)".parse::<Template>().unwrap().as_static(),
            Some("$5 (cheap)")
        );
        assert!(
            "x$(uuid"
                .parse::<Template>()
                .unwrap_err()
                .contains("never closed")
        );
        assert!(
            "$(now)"
                .parse::<Template>()
                .unwrap_err()
                .starts_with("only")
        );
    }
}
