//! Reading values by path from a record: a history row (CSV or JSON Lines),
//! a database row, or a ticket on stdin.

use std::borrow::Cow;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde_json::{Map, Value};
use support_core::record::json_type;
use support_core::Ticket;

/// A field that cannot be read as the model needs it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct FieldError {
    /// The path of the field at fault, e.g. `category.name`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Something whose top-level fields can be read by name.
pub trait Fields {
    fn top(&self, key: &str) -> Option<Cow<'_, Value>>;
}

impl Fields for Map<String, Value> {
    fn top(&self, key: &str) -> Option<Cow<'_, Value>> {
        self.get(key).map(Cow::Borrowed)
    }
}

impl Fields for Ticket<'_> {
    fn top(&self, key: &str) -> Option<Cow<'_, Value>> {
        self.raw_field(key).map(Cow::Owned)
    }
}

/// The value at `path`: a top-level field of exactly that name (CSV headers
/// may hold dots), else the dotted path into nested objects.
pub fn value_at<'f>(fields: &'f impl Fields, path: &str) -> Option<Cow<'f, Value>> {
    if let Some(value) = fields.top(path) {
        return Some(value);
    }
    let (first, rest) = path.split_once('.')?;
    let mut value = fields.top(first)?;
    for key in rest.split('.') {
        value = match value {
            Cow::Borrowed(v) => Cow::Borrowed(v.get(key)?),
            Cow::Owned(mut v) => Cow::Owned(v.get_mut(key)?.take()),
        };
    }
    Some(value)
}

/// The first of `paths` holding a value, with its path. Null and blank
/// strings count as absent.
fn first<'f>(fields: &'f impl Fields, paths: &'f [String]) -> Option<(&'f str, Cow<'f, Value>)> {
    paths.iter().find_map(|path| {
        let value = value_at(fields, path)?;
        match value.as_ref() {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            _ => Some((path.as_str(), value)),
        }
    })
}

/// Which of `paths` holds the value read, for messages about it.
pub fn path_of<'f>(fields: &'f impl Fields, paths: &'f [String]) -> Option<&'f str> {
    first(fields, paths).map(|(path, _)| path)
}

/// The first of `paths` holding a value, as text: strings trimmed, numbers
/// and booleans as JSON writes them.
pub fn text(fields: &impl Fields, paths: &[String]) -> Result<Option<String>, FieldError> {
    let Some((path, value)) = first(fields, paths) else {
        return Ok(None);
    };
    match value.as_ref() {
        Value::String(s) => Ok(Some(s.trim().to_string())),
        v @ (Value::Number(_) | Value::Bool(_)) => Ok(Some(v.to_string())),
        other => Err(FieldError::new(
            path,
            format!(
                "expected text, found {}; the model reads {}",
                json_type(other),
                paths.join(" or ")
            ),
        )),
    }
}

/// The first of `paths` holding a value, as a number (a JSON number or a
/// string holding one).
pub fn number(fields: &impl Fields, paths: &[String]) -> Result<Option<f64>, FieldError> {
    let Some((path, value)) = first(fields, paths) else {
        return Ok(None);
    };
    let parsed = match value.as_ref() {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match parsed {
        Some(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(FieldError::new(
            path,
            format!("expected a number, found {}", shown(&value)),
        )),
    }
}

/// The first of `paths` holding a value, as a boolean (`true`/`false`,
/// `yes`/`no`, `1`/`0`, as JSON or text).
pub fn boolean(fields: &impl Fields, paths: &[String]) -> Result<Option<bool>, FieldError> {
    let Some((path, value)) = first(fields, paths) else {
        return Ok(None);
    };
    let parsed = match value.as_ref() {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    };
    parsed.map(Some).ok_or_else(|| {
        FieldError::new(
            path,
            format!("expected true or false, found {}", shown(&value)),
        )
    })
}

/// The first of `paths` holding a value, as a point in time.
pub fn time(fields: &impl Fields, paths: &[String]) -> Result<Option<Timestamp>, FieldError> {
    let Some((path, value)) = first(fields, paths) else {
        return Ok(None);
    };
    match value.as_ref() {
        Value::String(s) => parse_time(s).map(Some).ok_or_else(|| {
            FieldError::new(
                path,
                format!(
                    "cannot read {s:?} as a time: give RFC 3339 (2024-05-01T10:00:00Z) or YYYY-MM-DD HH:MM"
                ),
            )
        }),
        other => Err(FieldError::new(
            path,
            format!("expected a time as text, found {}", json_type(other)),
        )),
    }
}

/// RFC 3339, or a civil `YYYY-MM-DD HH:MM[:SS]` taken as UTC (the incident
/// log gives local times without a zone).
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    text.parse::<Timestamp>().ok().or_else(|| {
        let civil: DateTime = text.parse().ok()?;
        civil
            .to_zoned_datetime(TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp())
    })
}

/// A value as an error message shows it: short.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{:?}", s.chars().take(40).collect::<String>()),
        Value::Number(n) => n.to_string(),
        other => json_type(other).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use support_core::testing::object as map;

    fn paths(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn reads_nested_and_flat_paths_in_order() {
        let nested = map(json!({"category": {"name": "billing"}, "priority": "high"}));
        let flat = map(json!({"category.name": "refund", "category": "x"}));
        let p = paths(&["category.name", "category"]);
        assert_eq!(text(&nested, &p).unwrap().as_deref(), Some("billing"));
        assert_eq!(text(&flat, &p).unwrap().as_deref(), Some("refund"));
        let plain = map(json!({"category": " shipping ", "n": 3, "b": true}));
        assert_eq!(text(&plain, &p).unwrap().as_deref(), Some("shipping"));
        assert_eq!(text(&plain, &paths(&["n"])).unwrap().as_deref(), Some("3"));
        assert_eq!(
            text(&plain, &paths(&["b"])).unwrap().as_deref(),
            Some("true")
        );
        assert_eq!(text(&plain, &paths(&["absent"])).unwrap(), None);
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let m = map(json!({"category": {"label": "billing"}, "csat": "great", "ok": "maybe"}));
        let err = text(&m, &paths(&["category.name", "category"])).unwrap_err();
        assert_eq!(err.field, "category");
        assert!(err.message.contains("an object"), "{err}");
        let err = number(&m, &paths(&["csat"])).unwrap_err();
        assert_eq!(err.field, "csat");
        let err = boolean(&m, &paths(&["ok"])).unwrap_err();
        assert!(err.to_string().contains("`ok`"), "{err}");
    }

    #[test]
    fn reads_rfc3339_and_civil_times() {
        let a = parse_time("2016-02-29 01:16").unwrap();
        let b = parse_time("2016-02-29T01:16:00Z").unwrap();
        assert_eq!(a, b);
        assert!(parse_time("2024-05-01T12:00:00+02:00").is_some());
        assert!(parse_time("29/02/2016").is_none());
        let m = map(json!({"created_at": "yesterday"}));
        let err = time(&m, &paths(&["created_at"])).unwrap_err();
        assert_eq!(err.field, "created_at");
    }

    #[test]
    fn blank_and_null_values_are_absent() {
        let m = map(json!({"a": "  ", "b": null, "c": "x"}));
        assert_eq!(
            text(&m, &paths(&["a", "b", "c"])).unwrap().as_deref(),
            Some("x")
        );
        assert_eq!(number(&m, &paths(&["a", "b"])).unwrap(), None);
    }
}
