//! The input ticket: a typed, borrowed view over the JSON object a tool reads.
//!
//! Tools never own or rebuild the ticket: the runner keeps the original JSON
//! object (so unknown fields pass through untouched) and hands tools this view.

use std::fmt;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::RecordError;

/// A support ticket as every tool reads it. Fields not listed here pass through untouched.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(
    title = "Ticket",
    description = "A support ticket. Unknown fields are allowed and passed through untouched; tools add their result under their own key."
)]
pub struct Ticket<'a> {
    /// Ticket identifier (string or integer).
    #[serde(default, borrow)]
    pub id: Option<TicketId<'a>>,
    #[serde(default)]
    pub subject: Option<&'a str>,
    /// Main text of the ticket.
    #[serde(default)]
    pub description: Option<&'a str>,
    /// Alias for `description`, as email intake usually names it.
    #[serde(default)]
    pub body: Option<&'a str>,
    /// Where the ticket came from: email, web, chat, whatsapp, phone, api, ...
    #[serde(default)]
    pub channel: Option<&'a str>,
    #[serde(default, borrow)]
    pub customer: Option<Customer<'a>>,
    /// `es` or `en`; detected from the text when absent.
    #[serde(default)]
    pub language: Option<&'a str>,
    /// RFC 3339 time the ticket was opened.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub created_at: Option<Timestamp>,
    /// RFC 3339 time of the first human or bot answer.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub first_response_at: Option<Timestamp>,
    /// RFC 3339 time the ticket was resolved.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub resolved_at: Option<Timestamp>,
    /// open, pending, resolved, closed, ...
    #[serde(default)]
    pub status: Option<&'a str>,
    /// The conversation transcript, oldest first.
    #[serde(default, borrow)]
    pub messages: Vec<Message<'a>>,
    /// Free-form data of the sender; never read by the tools.
    #[serde(default, skip_deserializing)]
    #[schemars(with = "Option<Map<String, Value>>")]
    pub metadata: (),
    /// The whole JSON object, for reading results of tools that ran earlier.
    #[serde(skip)]
    #[schemars(skip)]
    raw: Option<&'a Map<String, Value>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TicketId<'a> {
    Text(&'a str),
    Number(i64),
}

impl fmt::Display for TicketId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TicketId::Text(s) => f.write_str(s),
            TicketId::Number(n) => write!(f, "{n}"),
        }
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct Customer<'a> {
    #[serde(default, borrow)]
    pub id: Option<TicketId<'a>>,
    #[serde(default)]
    pub email: Option<&'a str>,
    #[serde(default)]
    pub name: Option<&'a str>,
    /// Service tier such as `vip`, `premium`, `standard`, `free`.
    #[serde(default)]
    pub tier: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[serde(alias = "customer")]
    User,
    Agent,
    Bot,
    System,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Message<'a> {
    pub role: Role,
    #[serde(default)]
    pub content: &'a str,
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub timestamp: Option<Timestamp>,
}

/// One piece of ticket text with the field it came from, so reasons can name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextField<'a> {
    pub field: FieldName,
    pub text: &'a str,
}

/// Where a piece of text came from: `subject`, `description`, `body` or `messages[i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldName {
    Subject,
    Description,
    Body,
    Message(usize),
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldName::Subject => f.write_str("subject"),
            FieldName::Description => f.write_str("description"),
            FieldName::Body => f.write_str("body"),
            FieldName::Message(i) => write!(f, "messages[{i}].content"),
        }
    }
}

impl<'a> Ticket<'a> {
    /// Reads the typed view of a JSON object. A field of the wrong type is an
    /// `invalid_field` error naming its path (e.g. `customer.tier`).
    pub fn from_map(map: &'a Map<String, Value>) -> Result<Self, RecordError> {
        let mut ticket: Ticket<'a> =
            serde_path_to_error::deserialize(MapRef(map)).map_err(|e| {
                let field = e.path().to_string();
                RecordError::invalid_field(&field, e.into_inner().to_string())
            })?;
        ticket.raw = Some(map);
        Ok(ticket)
    }

    /// A ticket holding only a description, for scoring labelled texts.
    pub fn from_text(text: &'a str) -> Self {
        Ticket {
            description: Some(text),
            ..Ticket::default()
        }
    }

    /// The ticket's main text: `description`, or `body` when there is no description.
    pub fn main_text(&self) -> Option<TextField<'a>> {
        match (self.description, self.body) {
            (Some(d), _) if !d.trim().is_empty() => Some(TextField {
                field: FieldName::Description,
                text: d,
            }),
            (_, Some(b)) if !b.trim().is_empty() => Some(TextField {
                field: FieldName::Body,
                text: b,
            }),
            _ => None,
        }
    }

    /// The customer's own words: subject, main text, then the user's messages.
    pub fn customer_texts(&self) -> impl Iterator<Item = TextField<'a>> + '_ {
        let subject = self
            .subject
            .filter(|s| !s.trim().is_empty())
            .map(|text| TextField {
                field: FieldName::Subject,
                text,
            });
        let messages = self
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.role == Role::User && !m.content.trim().is_empty())
            .map(|(i, m)| TextField {
                field: FieldName::Message(i),
                text: m.content,
            });
        subject.into_iter().chain(self.main_text()).chain(messages)
    }

    /// Fails with `no_text` when the ticket carries no customer text at all.
    pub fn require_text(&self) -> Result<(), RecordError> {
        if self.customer_texts().next().is_none() {
            return Err(RecordError::new(
                crate::ErrorKind::NoText,
                "ticket has no text: give a non-empty `subject`, `description` (or `body`), or a user message",
            )
            .with_field("description"));
        }
        Ok(())
    }

    /// The customer's tier, lower-cased for comparisons (`vip`, `premium`, ...).
    pub fn tier(&self) -> Option<String> {
        self.customer
            .as_ref()
            .and_then(|c| c.tier)
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
    }

    /// The channel, lower-cased.
    pub fn channel(&self) -> Option<String> {
        self.channel
            .map(|c| c.trim().to_lowercase())
            .filter(|c| !c.is_empty())
    }

    /// The result an earlier tool left under `key`, if it is there and readable.
    /// An unreadable result is ignored rather than failing the record: it is
    /// someone else's field, and this tool can decide without it.
    pub fn prior<T: Deserialize<'a>>(&self, key: &str) -> Option<T> {
        let value = self.raw?.get(key)?;
        match T::deserialize(value) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::debug!(key, error = %e, "ignoring unreadable earlier result");
                None
            }
        }
    }

    /// Any field of the raw ticket, for rules that look at custom fields.
    pub fn raw_field(&self, key: &str) -> Option<&'a Value> {
        self.raw?.get(key)
    }
}

/// Lets serde read a `Map` by reference, borrowing its strings.
struct MapRef<'a>(&'a Map<String, Value>);

impl<'de> serde::Deserializer<'de> for MapRef<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        use serde::de::IntoDeserializer;
        let entries = self.0.iter().map(|(k, v)| (k.as_str(), v));
        visitor.visit_map(serde::de::value::MapDeserializer::new(
            entries.map(|(k, v)| (k.into_deserializer(), v)),
        ))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn reads_fields_and_borrows_text() {
        let m = map(json!({
            "id": 42, "subject": "Hola", "body": "No puedo entrar",
            "customer": {"tier": " VIP ", "id": "c-1"},
            "created_at": "2024-05-01T10:00:00Z",
            "messages": [{"role": "customer", "content": "ayuda"}, {"role": "bot", "content": "hola"}],
            "unknown": {"kept": true}
        }));
        let t = Ticket::from_map(&m).unwrap();
        assert_eq!(t.id.unwrap().to_string(), "42");
        assert_eq!(t.tier().as_deref(), Some("vip"));
        assert_eq!(t.main_text().unwrap().field, FieldName::Body);
        let fields: Vec<String> = t.customer_texts().map(|f| f.field.to_string()).collect();
        assert_eq!(fields, ["subject", "body", "messages[0].content"]);
        assert!(t.created_at.is_some());
    }

    #[test]
    fn wrong_type_names_the_field_path() {
        let m = map(json!({"subject": "x", "customer": {"tier": 5}}));
        let err = Ticket::from_map(&m).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("customer.tier"));
        assert_eq!(err.kind, crate::ErrorKind::InvalidField);
    }

    #[test]
    fn bad_timestamp_names_the_field() {
        let m = map(json!({"subject": "x", "created_at": "yesterday"}));
        let err = Ticket::from_map(&m).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("created_at"));
    }

    #[test]
    fn blank_ticket_has_no_text() {
        let m = map(
            json!({"subject": "  ", "description": "", "messages": [{"role": "agent", "content": "hi"}]}),
        );
        let err = Ticket::from_map(&m).unwrap().require_text().unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::NoText);
    }

    #[test]
    fn prior_result_is_read_leniently() {
        #[derive(Deserialize)]
        struct Prior {
            score: f64,
        }
        let m = map(json!({"subject": "x", "good": {"score": 0.5}, "bad": "text"}));
        let t = Ticket::from_map(&m).unwrap();
        assert_eq!(t.prior::<Prior>("good").unwrap().score, 0.5);
        assert!(t.prior::<Prior>("bad").is_none());
        assert!(t.prior::<Prior>("missing").is_none());
    }
}
