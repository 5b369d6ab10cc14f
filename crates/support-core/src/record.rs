//! A record as the runner holds it: the top-level keys of a JSON object, in
//! input order, each with its value's JSON text.
//!
//! Tools read a few known fields and add one key, so the record is never
//! built into a tree nor re-serialized value by value: unknown fields pass
//! through as the text they came in (compacted), and only the results the
//! tools add are serialized, once, when the record is written.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::{ErrorKind, RecordError};
use crate::json_out::write_str;
use crate::json_text::{nested_too_deep, write_compact};
use crate::results::AddedResult;

/// One JSON object: keys in input order, values as JSON text.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    fields: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> Record<'a> {
    /// Reads one JSON object. Anything else (invalid JSON or UTF-8, too deep,
    /// another JSON type) is the record's error, in the words of serde_json.
    /// A repeated key keeps its first place and its last value.
    pub fn parse(json: &'a [u8]) -> Result<Self, RecordError> {
        // Checked as UTF-8 once, so serde_json reads a `str` and does not
        // check each key and value again; invalid UTF-8 is `rejection`'s
        // to describe. Only arrays and objects can nest, and only they need
        // the scan.
        std::str::from_utf8(json)
            .ok()
            .and_then(|text| serde_json::from_str::<Record<'a>>(text).ok())
            .filter(|record| {
                !record.fields.iter().any(|(_, value)| {
                    let value = value.get().as_bytes();
                    matches!(value[0], b'[' | b'{') && nested_too_deep(value, 1)
                })
            })
            .ok_or_else(|| rejection(json))
    }

    /// Whether this is the error record an earlier tool wrote in a
    /// ticket's place: `{"error": {...}}` and nothing else.
    pub fn is_error_record(&self) -> bool {
        matches!(self.fields.as_slice(), [(key, value)] if key == "error" && value.get().starts_with('{'))
    }

    /// The JSON text of the value under `key`.
    pub fn get(&self, key: &str) -> Option<&RawValue> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// Sets `key`, in place if it is there, else at the end.
    fn set(&mut self, key: Cow<'a, str>, value: &'a RawValue) {
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => *slot = value,
            None => self.fields.push((key, value)),
        }
    }

    /// The fields in order, as (key, JSON text).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RawValue)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), *v))
    }

    /// The record as a parsed object. A value a `Value` cannot hold (a
    /// number such as `1e999`, a lone surrogate escape) is left out, as
    /// [`crate::Ticket::raw_field`] reads such a value as absent too.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .filter_map(|(key, value)| {
                let value = serde_json::from_str(value.get()).ok()?;
                Some((key.to_string(), value))
            })
            .collect()
    }

    /// Compact JSON, as serde_json writes a parsed object: strings spelled
    /// canonically, numbers as they were written.
    pub fn to_json(&self) -> Vec<u8> {
        self.to_json_with(&[])
            .expect("a record without added results always serializes")
    }

    /// Compact JSON of the record with the results tools `added`: an added
    /// key already in the record takes its place, the others follow in the
    /// order they were added. Each result is serialized here, once.
    pub fn to_json_with(&self, added: &[AddedResult]) -> serde_json::Result<Vec<u8>> {
        let size: usize = self
            .fields
            .iter()
            .map(|(k, v)| k.len() + v.get().len() + 4)
            .sum();
        let mut out = Vec::with_capacity(size + 1024 * added.len() + 2);
        out.push(b'{');
        let mut first = true;
        let mut separate = |out: &mut Vec<u8>| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
        };
        for (key, value) in &self.fields {
            separate(&mut out);
            write_str(key, &mut out);
            out.push(b':');
            match added.iter().find(|a| a.key() == key) {
                Some(result) => result.write(&mut out)?,
                None => write_compact(value.get().as_bytes(), &mut out),
            }
        }
        for result in added {
            if self.get(result.key()).is_none() {
                separate(&mut out);
                write_str(result.key(), &mut out);
                out.push(b':');
                result.write(&mut out)?;
            }
        }
        out.push(b'}');
        Ok(out)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Record<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Record<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Record<'de>, M::Error> {
                let mut record = Record {
                    fields: Vec::with_capacity(map.size_hint().unwrap_or(16)),
                };
                while let Some(Text(key)) = map.next_key()? {
                    let value: &'de RawValue = map.next_value()?;
                    record.set(key, value);
                }
                Ok(record)
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// A JSON string, borrowed from the input unless it has escapes.
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// Why `json` is not a record, as a full parse into a `Value` words it: the
/// rare bad line pays for the second parse, the good ones do not.
fn rejection(json: &[u8]) -> RecordError {
    match serde_json::from_slice::<Value>(json) {
        Err(e) => RecordError::from_json(json, &e),
        Ok(value) => RecordError::new(
            ErrorKind::NotAnObject,
            format!(
                "expected a JSON object (a ticket), found {}",
                json_type(&value)
            ),
        ),
    }
}

/// What kind of JSON value `v` is, as an error message names it: "a number".
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(json: &str) -> String {
        String::from_utf8(Record::parse(json.as_bytes()).unwrap().to_json()).unwrap()
    }

    #[test]
    fn writes_compact_json_keeping_order_and_values() {
        assert_eq!(
            roundtrip(
                " { \"b\" : [ 1 , { \"a\" : null } ] ,\n\t\"a\" : \"x y\" , \"n\": -1.50e3 } "
            ),
            r#"{"b":[1,{"a":null}],"a":"x y","n":-1.50e3}"#
        );
    }

    #[test]
    fn respells_escaped_strings_as_serde_json_writes_them() {
        assert_eq!(
            roundtrip(r#"{"caf\u00e9":"a\/b \u00e9 \"q\" \\ \n","k":["\u0001"]}"#),
            r#"{"café":"a/b é \"q\" \\ \n","k":["\u0001"]}"#
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_place_and_last_value() {
        assert_eq!(roundtrip(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn added_results_replace_in_place_or_follow() {
        let record = Record::parse(br#"{"a":1,"b":2}"#).unwrap();
        let added = [AddedResult::new("a", vec![true]), AddedResult::new("c", ())];
        assert_eq!(
            record.to_json_with(&added).unwrap(),
            br#"{"a":[true],"b":2,"c":null}"#
        );
        assert_eq!(record.get("b").unwrap().get(), "2");
        assert!(record.get("z").is_none());
    }

    #[test]
    fn refuses_what_a_full_parse_refuses_in_its_words() {
        let kind = |json: &[u8]| Record::parse(json).unwrap_err().kind;
        assert_eq!(kind(b"[1]"), ErrorKind::NotAnObject);
        assert_eq!(kind(b"{\"a\":"), ErrorKind::InvalidJson);
        assert_eq!(kind(b"{\"a\":\"\xff\"}"), ErrorKind::InvalidUtf8);
        let deep = |n: usize| format!("{{\"a\":{}1{}}}", "[".repeat(n), "]".repeat(n));
        assert!(Record::parse(deep(126).as_bytes()).is_ok());
        assert_eq!(kind(deep(127).as_bytes()), ErrorKind::TooDeep);
        let err = Record::parse(b"{\"a\" 1}").unwrap_err();
        assert_eq!(err.message, "expected `:` at line 1 column 6");
    }
}
