//! Why a configuration is refused, and exactly where.

use std::fmt;

/// A line and column in the configuration file, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    /// The line, from 1.
    pub line: u64,
    /// The column, from 1, in characters.
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// What kind of mistake an [`Error`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Io,
    /// The text is not YAML.
    Syntax,
    /// A key the format does not have.
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// A value of the wrong type: a string where a number belongs, a list for a mapping.
    WrongType,
    /// A value of the right type that is not acceptable: out of range, malformed, or in
    /// conflict with another setting.
    Invalid,
    /// A name or key given twice where it must be unique.
    Duplicate,
    /// Something Kong accepts that Sluicegate does not do (yet).
    Unsupported,
}

/// A configuration Sluicegate refuses to start with.
///
/// It names the file, the YAML path of the offending node (as in
/// `services[0].plugins[1].config.minute`; empty for the whole document) and the node's line
/// and column, so the message alone leads to the mistake:
///
/// ```
/// use sluicegate_gateway::config::{Config, ErrorKind};
/// let yaml = "_format_version: \"3.0\"\nservices:\n  - name: users\n    url: http://127.0.0.1:9101\n    retries: many\n";
/// let err = Config::from_yaml(yaml, "gateway.yaml").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::WrongType);
/// assert_eq!(err.path(), "services[0].retries");
/// assert_eq!(err.position().map(|p| p.line), Some(5));
/// assert!(err.to_string().starts_with("gateway.yaml:5:14: services[0].retries: expected an integer"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    origin: String,
    path: String,
    position: Option<Position>,
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// An error at `path`, which starts at `position`.
    pub(crate) fn new(
        kind: ErrorKind,
        path: impl Into<String>,
        position: Option<Position>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            origin: String::new(),
            path: path.into(),
            position,
            kind,
            message: message.into(),
        }
    }

    /// The same error, told of the file (or other origin) it is about.
    pub(crate) fn in_origin(mut self, origin: &str) -> Self {
        origin.clone_into(&mut self.origin);
        self
    }

    /// The file (or other origin) the configuration came from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The YAML path of the offending node: `services[0].routes[1].paths[0]`. Empty when
    /// the error is about the whole document or the file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Where the offending node starts, when the error is about one.
    pub fn position(&self) -> Option<Position> {
        self.position
    }

    /// What kind of mistake this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The explanation alone, without origin, position or path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    /// `origin:line:column: path: message`, leaving out the parts that are unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.origin.is_empty() {
            write!(f, "{}:", self.origin)?;
        }
        if let Some(position) = self.position {
            write!(f, "{position}:")?;
        }
        if !self.origin.is_empty() || self.position.is_some() {
            f.write_str(" ")?;
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_leaves_out_what_is_unknown() {
        let at = Some(Position { line: 3, column: 7 });
        let full = Error::new(ErrorKind::Invalid, "services[0].url", at, "bad url");
        assert_eq!(full.to_string(), "3:7: services[0].url: bad url");
        assert_eq!(
            full.clone().in_origin("g.yaml").to_string(),
            "g.yaml:3:7: services[0].url: bad url"
        );
        let io = Error::new(ErrorKind::Io, "", None, "cannot read: gone").in_origin("g.yaml");
        assert_eq!(io.to_string(), "g.yaml: cannot read: gone");
        let bare = Error::new(ErrorKind::Invalid, "", None, "empty");
        assert_eq!(bare.to_string(), "empty");
    }
}
