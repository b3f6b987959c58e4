//! JSON objects parsed strictly: a repeated member name is an error, not "last one wins".
//!
//! RFC 7515 §4 and RFC 7519 §4 let a JWT parser either reject duplicate names or keep the last.
//! Keeping the last is how "which `alg` did you check?" attacks start (one parser reads the first
//! `alg`, another the last), so every object in a token's header and claims, at any depth, must
//! have distinct member names.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a token part is not a strict JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JsonError {
    /// Not JSON at all, or trailing bytes after the value.
    Syntax,
    /// Valid JSON, but not an object.
    NotAnObject,
    /// An object, somewhere inside, names this member twice.
    DuplicateMember(String),
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax => f.write_str("not valid JSON"),
            Self::NotAnObject => f.write_str("not a JSON object"),
            Self::DuplicateMember(name) => write!(f, "member '{name}' appears twice"),
        }
    }
}

/// Parses `bytes` as one JSON object whose objects, at every depth, have distinct member names.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    let mut duplicate = None;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue {
        duplicate: &mut duplicate,
    }
    .deserialize(&mut deserializer);
    if let Some(name) = duplicate {
        return Err(JsonError::DuplicateMember(name));
    }
    let value = value.map_err(|_| JsonError::Syntax)?;
    deserializer.end().map_err(|_| JsonError::Syntax)?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::NotAnObject),
    }
}

/// Deserialises any JSON value, recording the first repeated member name it meets and failing.
struct StrictValue<'a> {
    duplicate: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never produces a non-finite number, so `from` cannot yield null here.
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue {
            duplicate: &mut *self.duplicate,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            let value = map.next_value_seed(StrictValue {
                duplicate: &mut *self.duplicate,
            })?;
            if members.contains_key(&name) {
                let error = de::Error::custom(format_args!("member '{name}' appears twice"));
                *self.duplicate = Some(name);
                return Err(error);
            }
            members.insert(name, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_an_object_with_distinct_names() {
        let map = parse_object(br#"{"alg":"RS256","nested":{"a":1,"b":[{"a":2}]}}"#).unwrap();
        assert_eq!(map["alg"], "RS256");
        assert_eq!(map["nested"]["b"][0]["a"], 2);
    }

    #[test]
    fn refuses_a_repeated_top_level_name() {
        assert_eq!(
            parse_object(br#"{"alg":"RS256","alg":"none"}"#),
            Err(JsonError::DuplicateMember("alg".into()))
        );
    }

    #[test]
    fn refuses_a_repeated_name_in_a_nested_object() {
        assert_eq!(
            parse_object(br#"{"roles":[{"admin":false,"admin":true}]}"#),
            Err(JsonError::DuplicateMember("admin".into()))
        );
    }

    #[test]
    fn refuses_non_objects_and_trailing_bytes() {
        assert_eq!(parse_object(b"[1]"), Err(JsonError::NotAnObject));
        assert_eq!(parse_object(br#"{"a":1} x"#), Err(JsonError::Syntax));
        assert_eq!(parse_object(br#"{"a":1"#), Err(JsonError::Syntax));
    }

    #[test]
    fn treats_escaped_and_plain_spellings_of_a_name_as_the_same_name() {
        assert_eq!(
            parse_object(br#"{"alg":"RS256","\u0061lg":"none"}"#),
            Err(JsonError::DuplicateMember("alg".into()))
        );
    }
}
