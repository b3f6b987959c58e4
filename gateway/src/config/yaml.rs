//! The YAML document as a tree of nodes that each remember their line and column.
//!
//! Parsing is [`serde_saphyr`]'s: a maintained, panic-free YAML 1.2 parser (the deprecated
//! `serde_yaml` is not used) whose `Spanned` wrapper gives every node its position, so any
//! error found later, however far from the parser, can still name its line. Scalars are typed
//! by the YAML 1.2 core schema with strict booleans: only `true` and `false` are booleans, so
//! a key such as `n` or a value such as `yes` stays a string. Anchors, aliases and `<<`
//! merges are resolved by the parser. Duplicate keys and non-finite numbers (`.inf`, `.nan`,
//! `1e999`) are kept here and refused by the decoder, which knows the path to report.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::options::{DuplicateKeyPolicy, NonFiniteFloatPolicy};
use serde_saphyr::{DefaultMessageFormatter, MessageFormatter, Spanned};

use crate::config::error::Position;

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) value: Value,
    pub(crate) position: Position,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order, duplicates included.
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// What the value is, as an error message names it ("found a mapping").
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number with a fraction",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// Why a text is not a YAML document, and where.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) position: Option<Position>,
}

/// How deep mappings and lists may nest. Kong's format needs 8 levels at most
/// (`services[0].plugins[0].config.add.headers[0]`); a hostile file nested thousands deep is
/// refused here, before building the tree could exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 20;

/// Parses one YAML document. An empty document is a null node.
pub(crate) fn parse(text: &str) -> Result<Node, SyntaxError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! { max_depth: MAX_DEPTH },
        strict_booleans: true,
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|err| {
        let message = match &err {
            serde_saphyr::Error::Budget {
                breach: BudgetBreach::Depth { .. },
                ..
            } => format!("mappings and lists nest more than {MAX_DEPTH} levels deep"),
            _ => DefaultMessageFormatter
                .format_message(&err)
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect(),
        };
        SyntaxError {
            message,
            position: err.location().map(|at| Position {
                line: at.line(),
                column: at.column(),
            }),
        }
    })
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            value: spanned.value,
            position: Position {
                line: spanned.referenced.line(),
                column: spanned.referenced.column(),
            },
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Int(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Int(n.into()))
    }

    fn visit_i128<E>(self, n: i128) -> Result<Value, E> {
        Ok(Value::Int(n))
    }

    fn visit_u128<E: serde::de::Error>(self, n: u128) -> Result<Value, E> {
        i128::try_from(n)
            .map(Value::Int)
            .map_err(|_| E::custom("integer too large"))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Float(n))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64, column: u64) -> Position {
        Position { line, column }
    }

    #[test]
    fn nodes_carry_their_position_and_core_schema_type() {
        let node = parse("a: 1\nb: \"1\"\nn: yes\nlist: [true, 1.5, ~]\n").unwrap();
        let Value::Map(entries) = node.value else {
            panic!("expected a mapping, got {node:?}");
        };
        let values: Vec<_> = entries
            .iter()
            .map(|(_, v)| (&v.value, v.position))
            .collect();
        assert_eq!(values[0], (&Value::Int(1), at(1, 4)));
        assert_eq!(values[1], (&Value::Str("1".into()), at(2, 4)));
        assert_eq!(entries[2].0.value, Value::Str("n".into()));
        assert_eq!(values[2], (&Value::Str("yes".into()), at(3, 4)));
        let Value::Seq(items) = values[3].0 else {
            panic!("expected a list");
        };
        let kinds: Vec<_> = items.iter().map(|n| n.value.clone()).collect();
        assert_eq!(
            kinds,
            [Value::Bool(true), Value::Float(1.5), Value::Null].to_vec()
        );
    }

    #[test]
    fn duplicate_keys_are_kept_for_the_decoder_to_refuse() {
        let node = parse("a: 1\na: 2\n").unwrap();
        let Value::Map(entries) = node.value else {
            panic!("expected a mapping");
        };
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].0.position, at(2, 1));
    }

    #[test]
    fn aliases_and_merges_resolve() {
        let node = parse("base: &b {x: 1}\nuse:\n  <<: *b\n  y: 2\n").unwrap();
        let Value::Map(entries) = node.value else {
            panic!("expected a mapping");
        };
        let Value::Map(merged) = &entries[1].1.value else {
            panic!("expected a mapping");
        };
        let keys: Vec<_> = merged.iter().map(|(k, _)| k.value.clone()).collect();
        assert!(keys.contains(&Value::Str("x".into())));
        assert!(keys.contains(&Value::Str("y".into())));
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = parse("a: [1\nb: 2\n").unwrap_err();
        assert_eq!(err.position.map(|p| p.line), Some(2));
        assert!(!err.message.is_empty());
    }

    #[test]
    fn nesting_is_bounded_before_the_tree_is_built() {
        let deep = format!("a: {}{}\n", "[".repeat(100), "]".repeat(100));
        let err = parse(&deep).unwrap_err();
        assert_eq!(
            err.message,
            "mappings and lists nest more than 20 levels deep"
        );
        assert_eq!(err.position.map(|p| p.line), Some(1));
        let deeper = format!("a: {}{}\n", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(&deeper).is_err());
        let mut block = String::new();
        for level in 0..200 {
            block.push_str(&format!("{}k:\n", "  ".repeat(level)));
        }
        assert!(parse(&block).is_err());
        let fine = format!(
            "a: {}{}\n",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn an_empty_document_is_null() {
        assert_eq!(parse("").unwrap().value, Value::Null);
    }
}
