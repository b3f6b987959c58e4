//! Reading typed values out of the YAML tree, with the path and position of each node at
//! hand for the error that names it.
//!
//! The rules every entity follows, written once here:
//!
//! - A key no entity has is refused ([`Fields::finish`]), listing the keys it does have.
//! - A key given twice in one mapping is refused at its second occurrence.
//! - A key whose value is `null` counts as absent, as in Kong, whose exports spell out unset
//!   optional fields as `null`.
//! - Numbers are not strings and strings are not numbers: `"60000"` is not a timeout.

use std::fmt::Display;
use std::ops::RangeInclusive;

use crate::config::error::{Error, ErrorKind, Position};
use crate::config::yaml::{Node, Value};

/// The result of reading part of the configuration.
pub(crate) type Result<T> = std::result::Result<T, Error>;

/// A node and the YAML path that leads to it.
#[derive(Debug, Clone)]
pub(crate) struct At<'a> {
    node: &'a Node,
    path: String,
}

impl<'a> At<'a> {
    /// The document's root node.
    pub(crate) fn root(node: &'a Node) -> Self {
        Self {
            node,
            path: String::new(),
        }
    }

    /// The YAML path: `services[0].routes[1]`.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Where the node starts.
    pub(crate) fn position(&self) -> Position {
        self.node.position
    }

    /// An error about this node.
    pub(crate) fn error(&self, kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::new(kind, self.path.clone(), Some(self.position()), message)
    }

    /// An error saying this node's value is not acceptable.
    pub(crate) fn invalid(&self, message: impl Into<String>) -> Error {
        self.error(ErrorKind::Invalid, message)
    }

    /// An error saying this node should have held `expected`.
    pub(crate) fn wrong_type(&self, expected: &str) -> Error {
        let found = match &self.node.value {
            Value::Str(s) => format!("a string ({s:?})"),
            Value::Int(n) => format!("an integer ({n})"),
            Value::Float(n) if n.is_nan() => "not a number (.nan)".to_owned(),
            Value::Float(n) if n.is_infinite() => {
                let sign = if n.is_sign_negative() { "-" } else { "" };
                format!("an infinite number ({sign}.inf)")
            }
            Value::Float(n) => format!("a number with a fraction ({n})"),
            Value::Bool(b) => format!("a boolean ({b})"),
            other => other.kind().to_owned(),
        };
        self.error(
            ErrorKind::WrongType,
            format!("expected {expected}, found {found}"),
        )
    }

    /// A node that is not in the document standing in for the absent value under `key`,
    /// such as the empty `config` of a plugin configured with none.
    pub(crate) fn detached<'b>(&self, node: &'b Node, key: &str) -> At<'b> {
        self.child(node, key, false)
    }

    fn child<'b>(&self, node: &'b Node, segment: impl Display, index: bool) -> At<'b> {
        let path = match (index, self.path.is_empty()) {
            (true, _) => format!("{}[{segment}]", self.path),
            (false, true) => segment.to_string(),
            (false, false) => format!("{}.{segment}", self.path),
        };
        At { node, path }
    }

    /// Whether the value is `null` (or absent, as an empty value is).
    pub(crate) fn is_null(&self) -> bool {
        self.node.value == Value::Null
    }

    /// A string.
    pub(crate) fn str(&self) -> Result<&'a str> {
        match &self.node.value {
            Value::Str(s) => Ok(s),
            _ => Err(self.wrong_type("a string")),
        }
    }

    /// A string with at least one character.
    pub(crate) fn non_empty_string(&self) -> Result<String> {
        match self.str()? {
            "" => Err(self.invalid("must not be empty")),
            s => Ok(s.to_owned()),
        }
    }

    /// `true` or `false`.
    pub(crate) fn bool(&self) -> Result<bool> {
        match self.node.value {
            Value::Bool(b) => Ok(b),
            _ => Err(self.wrong_type("a boolean (true or false)")),
        }
    }

    /// An integer within `range`.
    pub(crate) fn integer<T>(&self, range: RangeInclusive<T>) -> Result<T>
    where
        T: TryFrom<i128> + Into<i128> + Copy + Display,
    {
        let Value::Int(n) = self.node.value else {
            return Err(self.wrong_type("an integer"));
        };
        let (min, max) = (*range.start(), *range.end());
        if n < min.into() || n > max.into() {
            return Err(self.invalid(format!("must be between {min} and {max}, got {n}")));
        }
        T::try_from(n).map_err(|_| self.invalid(format!("{n} is out of range")))
    }

    /// A finite number, integer or not.
    pub(crate) fn number(&self) -> Result<f64> {
        let n = match self.node.value {
            Value::Int(n) => n as f64,
            Value::Float(n) => n,
            _ => return Err(self.wrong_type("a number")),
        };
        if n.is_finite() {
            Ok(n)
        } else {
            Err(self.invalid("must be a finite number"))
        }
    }

    /// One of the named `choices`, spelled exactly.
    pub(crate) fn one_of<T: Copy>(&self, choices: &[(&str, T)]) -> Result<T> {
        let names = || {
            choices
                .iter()
                .map(|(name, _)| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let given = match &self.node.value {
            Value::Str(s) => s.as_str(),
            _ => return Err(self.wrong_type(&format!("one of {}", names()))),
        };
        choices
            .iter()
            .find(|(name, _)| *name == given)
            .map(|&(_, value)| value)
            .ok_or_else(|| self.invalid(format!("`{given}` is not one of {}", names())))
    }

    /// The items of a list, each with its path.
    pub(crate) fn items(&self) -> Result<Vec<At<'a>>> {
        match &self.node.value {
            Value::Seq(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, node)| self.child(node, i, true))
                .collect()),
            _ => Err(self.wrong_type("a list")),
        }
    }

    /// A list, each item read by `read`.
    pub(crate) fn list<T>(&self, read: impl FnMut(At<'a>) -> Result<T>) -> Result<Vec<T>> {
        self.items()?.into_iter().map(read).collect()
    }

    /// The entries of a mapping, to be taken one key at a time.
    pub(crate) fn fields(&self) -> Result<Fields<'a>> {
        let Value::Map(entries) = &self.node.value else {
            return Err(self.wrong_type("a mapping"));
        };
        let mut seen: Vec<Entry<'a>> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let Value::Str(name) = &key.value else {
                let key_at = self.child(key, "<key>", false);
                return Err(key_at.wrong_type("a string key"));
            };
            if let Some(first) = seen.iter().find(|e| e.name == name) {
                let key_at = self.child(key, name, false);
                return Err(key_at.error(
                    ErrorKind::Duplicate,
                    format!(
                        "key `{name}` appears twice in one mapping (first at line {})",
                        first.key.position.line
                    ),
                ));
            }
            seen.push(Entry {
                name,
                key,
                value,
                taken: false,
            });
        }
        Ok(Fields {
            at: self.clone(),
            entries: seen,
            known: Vec::new(),
        })
    }
}

/// One `key: value` entry of a mapping.
#[derive(Debug)]
struct Entry<'a> {
    name: &'a str,
    key: &'a Node,
    value: &'a Node,
    taken: bool,
}

/// A mapping being read key by key. [`finish`](Self::finish) refuses what was not read.
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    at: At<'a>,
    entries: Vec<Entry<'a>>,
    known: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// The mapping itself, for errors about it as a whole.
    pub(crate) fn at(&self) -> &At<'a> {
        &self.at
    }

    /// The value under `key`, if present and not `null`.
    pub(crate) fn get(&mut self, key: &'static str) -> Option<At<'a>> {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
        let entry = self.entries.iter_mut().find(|e| e.name == key)?;
        entry.taken = true;
        let value = entry.value;
        Some(self.at.child(value, key, false)).filter(|at| !at.is_null())
    }

    /// The value under `key`, which must be present.
    pub(crate) fn require(&mut self, key: &'static str) -> Result<At<'a>> {
        self.get(key).ok_or_else(|| {
            self.at.error(
                ErrorKind::MissingKey,
                format!("missing required key `{key}`"),
            )
        })
    }

    /// The value under `key` read by `read`, if present.
    pub(crate) fn opt<T>(
        &mut self,
        key: &'static str,
        read: impl FnOnce(&At<'a>) -> Result<T>,
    ) -> Result<Option<T>> {
        self.get(key).map(|at| read(&at)).transpose()
    }

    /// The value under `key` read by `read`, or `default` when absent.
    pub(crate) fn or<T>(
        &mut self,
        key: &'static str,
        default: T,
        read: impl FnOnce(&At<'a>) -> Result<T>,
    ) -> Result<T> {
        Ok(self.opt(key, read)?.unwrap_or(default))
    }

    /// The value under `key` read by `read`; absent is an error.
    pub(crate) fn req<T>(
        &mut self,
        key: &'static str,
        read: impl FnOnce(&At<'a>) -> Result<T>,
    ) -> Result<T> {
        read(&self.require(key)?)
    }

    /// Refuses `key` with `reason` when it is given a value that is not `allowed`: a
    /// setting Kong has and Sluicegate does not. A value that asks for nothing (`null`,
    /// `false`, an empty list, Kong's default) is accepted, so exported Kong files load.
    pub(crate) fn unsupported(
        &mut self,
        key: &'static str,
        allowed: impl FnOnce(&Value) -> bool,
        reason: &str,
    ) -> Result<()> {
        match self.get(key) {
            Some(at) if !allowed(&at.node.value) => Err(at.error(
                ErrorKind::Unsupported,
                format!("`{key}` is not supported: {reason}"),
            )),
            _ => Ok(()),
        }
    }

    /// Accepts `key` without reading it: metadata such as `tags` that changes nothing.
    pub(crate) fn ignore(&mut self, key: &'static str) {
        self.get(key);
    }

    /// Refuses the first key that was not read.
    pub(crate) fn finish(self) -> Result<()> {
        let Some(entry) = self.entries.iter().find(|e| !e.taken) else {
            return Ok(());
        };
        let key_at = self.at.child(entry.key, entry.name, false);
        let expected = if self.known.is_empty() {
            "this mapping takes no keys".to_owned()
        } else {
            format!("expected one of: {}", self.known.join(", "))
        };
        Err(key_at.error(
            ErrorKind::UnknownKey,
            format!("unknown key `{}` ({expected})", entry.name),
        ))
    }
}

/// Whether a value asks for nothing: `false`, an empty list or mapping (or `null`).
pub(crate) fn is_off(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::Seq(items) => items.is_empty(),
        Value::Map(entries) => entries.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml::parse;

    fn with_fields<T>(yaml: &str, read: impl FnOnce(Fields<'_>) -> Result<T>) -> Result<T> {
        let node = parse(yaml).unwrap();
        let root = At::root(&node);
        read(root.fields()?)
    }

    #[test]
    fn unknown_keys_are_refused_with_the_known_ones_listed() {
        let err = with_fields("name: a\nretires: 3\n", |mut f| {
            f.require("name")?;
            f.get("retries");
            f.finish()
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnknownKey);
        assert_eq!(err.path(), "retires");
        assert_eq!(err.position(), Some(Position { line: 2, column: 1 }));
        assert_eq!(
            err.message(),
            "unknown key `retires` (expected one of: name, retries)"
        );
    }

    #[test]
    fn null_counts_as_absent() {
        let value = with_fields("a: ~\n", |mut f| {
            let a = f.or("a", 7u32, |at| at.integer(0..=10))?;
            f.finish()?;
            Ok(a)
        });
        assert_eq!(value, Ok(7));
        let err = with_fields("a:\n", |mut f| f.require("a").map(|_| ())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingKey);
        assert_eq!(err.message(), "missing required key `a`");
    }

    #[test]
    fn duplicates_name_both_lines() {
        let err = with_fields("a: 1\nb: 2\na: 3\n", |_| Ok(())).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Duplicate);
        assert_eq!(err.path(), "a");
        assert_eq!(err.position().map(|p| p.line), Some(3));
        assert!(
            err.message().contains("first at line 1"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn types_are_strict() {
        let err =
            with_fields("n: \"5\"\n", |mut f| f.req("n", |at| at.integer(0..=9u8))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WrongType);
        assert_eq!(err.message(), "expected an integer, found a string (\"5\")");
        let err = with_fields("n: 10\n", |mut f| f.req("n", |at| at.integer(0..=9u8))).unwrap_err();
        assert_eq!(err.message(), "must be between 0 and 9, got 10");
        let err = with_fields("b: yes\n", |mut f| f.req("b", At::bool)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WrongType);
    }

    #[test]
    fn choices_and_lists_carry_paths() {
        let err = with_fields("m: [GET, 3]\n", |mut f| {
            f.req("m", |at| at.list(|item| item.str().map(str::to_owned)))
        })
        .unwrap_err();
        assert_eq!(err.path(), "m[1]");
        let err = with_fields("p: fast\n", |mut f| {
            f.req("p", |at| at.one_of(&[("local", 1), ("redis", 2)]))
        })
        .unwrap_err();
        assert_eq!(err.message(), "`fast` is not one of `local`, `redis`");
    }

    #[test]
    fn unsupported_keys_accept_values_that_ask_for_nothing() {
        let ok = with_fields("anonymous: ~\nordering: {}\n", |mut f| {
            f.unsupported("anonymous", is_off, "no anonymous consumer")?;
            f.unsupported("ordering", is_off, "fixed order")?;
            f.finish()
        });
        assert_eq!(ok, Ok(()));
        let err = with_fields("anonymous: guest\n", |mut f| {
            f.unsupported("anonymous", is_off, "no anonymous consumer")
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert_eq!(err.path(), "anonymous");
    }
}
