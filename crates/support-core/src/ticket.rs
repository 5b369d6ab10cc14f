//! The input ticket: a typed, borrowed view over the JSON object a tool reads.
//!
//! Tools never own or rebuild the ticket: the runner keeps the original JSON
//! object (so unknown fields pass through untouched) and hands tools this view.
//! Text borrows from the record, or is unescaped into the view when the JSON
//! string has escapes.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use support_text::LanguageEvidence;

use crate::analysis::TextAnalysis;
use crate::error::RecordError;
use crate::record::{Record, Text};
use crate::results::{AddedResult, Reading, ToolResult};

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
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub subject: Option<Cow<'a, str>>,
    /// Main text of the ticket.
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub description: Option<Cow<'a, str>>,
    /// Alias for `description`, as email intake usually names it.
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub body: Option<Cow<'a, str>>,
    /// Where the ticket came from: email, web, chat, whatsapp, phone, api, ...
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub channel: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub customer: Option<Customer<'a>>,
    /// `es` or `en`; detected from the text when absent.
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub language: Option<Cow<'a, str>>,
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
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub status: Option<Cow<'a, str>>,
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
    raw: Option<Source<'a>>,
    /// The customer text analysed, once, on first use.
    #[serde(skip)]
    #[schemars(skip)]
    analysis: OnceCell<TextAnalysis>,
    /// What the analysis leaves out of the text, found once, on first use:
    /// every tool's reasons say it.
    #[serde(skip)]
    #[schemars(skip)]
    text_cut: OnceCell<Option<TextCut>>,
    /// The evidence of the text's language, counted once, on first use.
    #[serde(skip)]
    #[schemars(skip)]
    language_evidence: OnceCell<LanguageEvidence>,
    /// The customer text's sentence embedding, computed once by the first
    /// stage that needs it (support-categorize, support-answer).
    #[serde(skip)]
    #[schemars(skip)]
    embedding: OnceCell<QueryEmbedding>,
    /// Results the stages of this process added, in order.
    #[serde(skip)]
    #[schemars(skip)]
    added: Vec<AddedResult>,
}

/// An embedding of a ticket's customer text and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryEmbedding {
    /// The model's folder and the tokens kept: two stages share the
    /// embedding only when both agree.
    pub made_by: String,
    pub vector: Vec<f32>,
}

/// What a ticket view was read from.
#[derive(Debug, Clone, Copy)]
enum Source<'a> {
    Record(&'a Record<'a>),
    Map(&'a Map<String, Value>),
}

/// Reads an optional string field, borrowing it unless it has escapes.
fn optional_text<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<Text<'a>>::deserialize(deserializer)?.map(|text| text.0))
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TicketId<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
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
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub email: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub name: Option<Cow<'a, str>>,
    /// Service tier such as `vip`, `premium`, `standard`, `free`.
    #[serde(default, borrow, deserialize_with = "optional_text")]
    pub tier: Option<Cow<'a, str>>,
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
    #[serde(default, borrow)]
    pub content: Cow<'a, str>,
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

/// The most bytes of customer text a tool analyses in one ticket (256 KiB):
/// subject, main text and user messages, in that order, up to this many.
///
/// Analysing text costs tens of bytes of tokens and features per byte, so
/// without a limit a long ticket costs a large multiple of its size (a
/// 15 MiB description cost 1.3 GB); with it, a record costs a small multiple
/// of its size plus a constant. Real tickets are a few KiB and are read
/// whole; the text past the limit still passes through to the output.
pub const ANALYSED_TEXT_BYTES: usize = 256 * 1024;

/// How far past a cut to look back for a space, so a cut does not split a word.
const CUT_LOOKBACK_BYTES: usize = 64;

/// The first at most `limit` bytes of `text`, ending at a character boundary
/// and, when there is whitespace in the last few bytes, at a word boundary.
/// `text` itself when it fits.
pub fn analysed_prefix(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let window = end.saturating_sub(CUT_LOOKBACK_BYTES);
    // Whitespace is ASCII here, so `at` is a char boundary.
    match text.as_bytes()[window..end]
        .iter()
        .rposition(u8::is_ascii_whitespace)
    {
        Some(at) if window + at > 0 => &text[..window + at],
        _ => &text[..end],
    }
}

/// Part of a ticket's customer text left out of the analysis (see [`ANALYSED_TEXT_BYTES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextCut {
    /// Bytes of customer text analysed.
    pub analysed: usize,
    /// Bytes of customer text in the ticket.
    pub total: usize,
    /// The field that was cut, if one was read in part.
    pub first_cut: Option<FieldName>,
    /// Fields after the cut not read at all.
    pub fields_not_read: usize,
}

impl fmt::Display for TextCut {
    /// The sentence every tool adds to its `reasons` for a cut ticket.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "text cut: analysed the first {} of {} bytes of customer text (limit {ANALYSED_TEXT_BYTES})",
            self.analysed, self.total
        )?;
        if let Some(field) = self.first_cut {
            write!(f, "; {field} read in part")?;
        }
        if self.fields_not_read > 0 {
            write!(f, "; {} later field(s) not read", self.fields_not_read)?;
        }
        f.write_str("; the text itself passes through untouched")
    }
}

impl<'a> Ticket<'a> {
    /// Reads the typed view of a record. A field of the wrong type is an
    /// `invalid_field` error naming its path (e.g. `customer.tier`).
    pub fn from_record(record: &'a Record<'a>) -> Result<Self, RecordError> {
        let mut ticket = Ticket::read(RecordRef(record))?;
        ticket.raw = Some(Source::Record(record));
        Ok(ticket)
    }

    /// Reads the typed view of `record` and hands it to `read`. A key
    /// repeated inside an object (`customer`, a message), which the typed
    /// view refuses, keeps its last value, as a parsed object does: the one
    /// way every tool and the store read such a ticket.
    pub fn with_record<T>(
        record: &Record<'_>,
        read: impl FnOnce(&mut Ticket<'_>) -> Result<T, RecordError>,
    ) -> Result<T, RecordError> {
        match Ticket::from_record(record) {
            Ok(mut ticket) => read(&mut ticket),
            Err(err) if Ticket::reads_as_map(&err) => {
                let map = record.to_map();
                read(&mut Ticket::from_map(&map)?)
            }
            Err(err) => Err(err),
        }
    }

    /// Whether a record [`Ticket::from_record`] refused with `err` is read
    /// from its parsed object instead: a key repeated inside an object.
    pub fn reads_as_map(err: &RecordError) -> bool {
        err.message.starts_with("duplicate field")
    }

    /// Reads the typed view of a parsed JSON object, like [`Ticket::from_record`].
    pub fn from_map(map: &'a Map<String, Value>) -> Result<Self, RecordError> {
        let mut ticket = Ticket::read(MapRef(map))?;
        ticket.raw = Some(Source::Map(map));
        Ok(ticket)
    }

    /// Reads untracked first: tracking the path costs on every field, and
    /// only an error needs it, so a bad ticket is read a second time.
    fn read<D>(fields: D) -> Result<Self, RecordError>
    where
        D: serde::Deserializer<'a, Error = serde_json::Error> + Copy,
    {
        Ticket::deserialize(fields).or_else(|_| {
            serde_path_to_error::deserialize(fields).map_err(|e| {
                let field = e.path().to_string();
                RecordError::invalid_field(&field, message_without_position(e.into_inner()))
            })
        })
    }

    /// A ticket holding only a description, for scoring labelled texts.
    pub fn from_text(text: &'a str) -> Self {
        Ticket {
            description: Some(Cow::Borrowed(text)),
            ..Ticket::default()
        }
    }

    /// The ticket's main text: `description`, or `body` when there is no description.
    pub fn main_text(&self) -> Option<TextField<'_>> {
        match (self.description.as_deref(), self.body.as_deref()) {
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

    /// The customer's own words the tools analyse: subject, main text, then
    /// the user's messages, at most [`ANALYSED_TEXT_BYTES`] in all. The field
    /// that crosses the limit is cut (at a word boundary when one is near)
    /// and later fields are not read; [`Ticket::text_cut`] says so, for the
    /// reasons. The record's text itself passes through untouched.
    pub fn customer_texts(&self) -> impl Iterator<Item = TextField<'_>> {
        // Zero once a field is cut: what follows a cut is not read.
        let mut left = ANALYSED_TEXT_BYTES;
        self.all_customer_texts().map_while(move |field| {
            let text = analysed_prefix(field.text, left);
            if text.is_empty() {
                return None;
            }
            left = match text.len() < field.text.len() {
                true => 0,
                false => left - text.len(),
            };
            Some(TextField { text, ..field })
        })
    }

    /// Whether [`Ticket::customer_texts`] leaves part of the customer's text
    /// out, and how much.
    pub fn text_cut(&self) -> Option<TextCut> {
        *self.text_cut.get_or_init(|| self.find_text_cut())
    }

    fn find_text_cut(&self) -> Option<TextCut> {
        let mut cut = TextCut {
            analysed: 0,
            total: 0,
            first_cut: None,
            fields_not_read: 0,
        };
        let mut analysed = self.customer_texts();
        for field in self.all_customer_texts() {
            cut.total += field.text.len();
            match analysed.next() {
                Some(kept) => {
                    cut.analysed += kept.text.len();
                    if kept.text.len() < field.text.len() {
                        cut.first_cut.get_or_insert(field.field);
                    }
                }
                None => cut.fields_not_read += 1,
            }
        }
        (cut.analysed < cut.total).then_some(cut)
    }

    /// Every piece of the customer's own words, whole: subject, main text,
    /// then the user's messages.
    fn all_customer_texts(&self) -> impl Iterator<Item = TextField<'_>> {
        let subject = self
            .subject
            .as_deref()
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
                text: &m.content,
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
    pub fn tier(&self) -> Option<Cow<'_, str>> {
        self.customer
            .as_ref()
            .and_then(|c| c.tier.as_deref())
            .and_then(trimmed_lowercase)
    }

    /// The channel, lower-cased.
    pub fn channel(&self) -> Option<Cow<'_, str>> {
        self.channel.as_deref().and_then(trimmed_lowercase)
    }

    /// The customer texts ([`Ticket::customer_texts`]) tokenized and split
    /// in clauses: built on first use and shared by every stage that reads
    /// this ticket.
    pub fn analysis(&self) -> &TextAnalysis {
        self.analysis.get_or_init(|| {
            let texts: Vec<TextField<'_>> = self.customer_texts().collect();
            TextAnalysis::new(&texts)
        })
    }

    /// The function words and letters of each language in the customer
    /// texts: counted on first use, shared by every stage; each decides with
    /// its own fallback ([`LanguageEvidence::detect`]).
    pub fn language_evidence(&self) -> &LanguageEvidence {
        self.language_evidence.get_or_init(|| {
            LanguageEvidence::of(
                &self.analysis().tokens,
                self.customer_texts().map(|t| t.text),
            )
        })
    }

    /// The customer texts as one query, joined by line breaks: what an
    /// embedding of the ticket reads.
    pub fn query_text(&self) -> String {
        self.customer_texts()
            .map(|t| t.text)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The ticket's embedding by `made_by`: computed by `embed` on first
    /// use, then shared by every stage asking for the same `made_by`.
    pub fn embedding<E>(
        &self,
        made_by: &str,
        embed: impl FnOnce(&str) -> Result<Vec<f32>, E>,
    ) -> Result<Cow<'_, [f32]>, E> {
        if let Some(cached) = self.embedding.get() {
            if cached.made_by == made_by {
                return Ok(Cow::Borrowed(&cached.vector));
            }
            return embed(&self.query_text()).map(Cow::Owned);
        }
        let vector = embed(&self.query_text())?;
        let cached = self.embedding.get_or_init(|| QueryEmbedding {
            made_by: made_by.to_string(),
            vector,
        });
        Ok(Cow::Borrowed(&cached.vector))
    }

    /// Room for `results` more results: a chain of stages makes one
    /// allocation for all of theirs, not one each time the list grows.
    pub fn reserve_results(&mut self, results: usize) {
        self.added.reserve_exact(results);
    }

    /// Adds a stage's result: later stages read it typed, and the record is
    /// written with it under its key.
    pub fn add<T: ToolResult>(&mut self, result: T) {
        let added = AddedResult::new(T::KEY, result);
        match self.added.iter_mut().find(|a| a.key() == T::KEY) {
            Some(slot) => *slot = added,
            None => self.added.push(added),
        }
    }

    /// The results added in this process, in order.
    pub fn added(&self) -> &[AddedResult] {
        &self.added
    }

    fn added_result<T: ToolResult>(&self) -> Option<&T> {
        self.added
            .iter()
            .find(|a| a.key() == T::KEY)
            .and_then(AddedResult::get)
    }

    /// The JSON an earlier tool left under `key`, if it is there and readable.
    /// An unreadable value is ignored rather than failing the record: it is
    /// someone else's field, and this tool can decide without it.
    pub fn prior<'s, T: Deserialize<'s>>(&'s self, key: &str) -> Option<T> {
        let read = match self.raw? {
            Source::Record(record) => T::deserialize(record.get(key)?),
            Source::Map(map) => T::deserialize(map.get(key)?),
        };
        match read {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::debug!(key, error = %e, "ignoring unreadable earlier result");
                None
            }
        }
    }

    /// The typed result an earlier stage added (borrowed), or an earlier
    /// tool left under its key if it is there and readable (see [`Ticket::prior`]).
    pub fn result<T: ToolResult>(&self) -> Option<Cow<'_, T>> {
        match self.added_result::<T>() {
            Some(result) => Some(Cow::Borrowed(result)),
            None => self.prior(T::KEY).map(Cow::Owned),
        }
    }

    /// What a later tool reads of an earlier result (see [`Reading`]); `None`
    /// when the result is absent or unreadable.
    pub fn reading<'s, R: Reading<'s>>(&'s self) -> Option<R> {
        match self.added_result::<R::Of>() {
            Some(result) => Some(R::of(result)),
            None => self.prior(<R::Of as ToolResult>::KEY),
        }
    }

    /// Any field of the raw ticket, for rules that look at custom fields.
    /// Read on demand: only the field asked for is parsed.
    pub fn raw_field(&self, key: &str) -> Option<Value> {
        match self.raw? {
            Source::Record(record) => serde_json::from_str(record.get(key)?.get()).ok(),
            Source::Map(map) => map.get(key).cloned(),
        }
    }
}

/// serde_json's message for a value read from JSON text ends with where the
/// text went wrong; inside one field's text that position says nothing, and
/// the error record names the field instead.
pub fn message_without_position(error: serde_json::Error) -> String {
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&position) {
        Some(message) => message.to_string(),
        None => message,
    }
}

/// Lets serde read a record's fields, each value from its JSON text.
#[derive(Clone, Copy)]
struct RecordRef<'a>(&'a Record<'a>);

impl<'de> serde::Deserializer<'de> for RecordRef<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_map(serde::de::value::MapDeserializer::new(self.0.iter()))
    }

    /// Hands over only the struct's own fields: the struct would skip the
    /// others anyway, and skipping still reads through their text (in a
    /// pipeline, every earlier tool's result).
    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let own = self.0.iter().filter(|(key, _)| fields.contains(key));
        visitor.visit_map(serde::de::value::MapDeserializer::new(own))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// Lets serde read a `Map` by reference, borrowing its strings.
#[derive(Clone, Copy)]
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

/// `text` trimmed and lower-cased, none if blank: borrowed when it already
/// is lower case, as tiers and channels nearly always are (several tools
/// read them for every ticket).
fn trimmed_lowercase(text: &str) -> Option<Cow<'_, str>> {
    let text = text.trim();
    (!text.is_empty()).then(|| crate::lowercase(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::object as map;
    use serde_json::json;

    #[test]
    fn an_embedding_is_computed_once_per_model_and_length() {
        let m = map(json!({"subject": "Hola", "description": "No puedo entrar"}));
        let ticket = Ticket::from_map(&m).unwrap();
        let calls = std::cell::Cell::new(0);
        let embed = |text: &str| {
            calls.set(calls.get() + 1);
            Ok::<_, ()>(vec![text.len() as f32])
        };
        let first = ticket.embedding("e5#128", embed).unwrap().into_owned();
        assert_eq!(
            first,
            [20.0],
            "subject and description, joined by a line break"
        );
        assert_eq!(
            ticket.embedding("e5#128", embed).unwrap().into_owned(),
            first
        );
        assert_eq!(calls.get(), 1, "the second stage reads the first one's");
        ticket.embedding("e5#64", embed).unwrap();
        assert_eq!(calls.get(), 2, "another length is another embedding");
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
        assert_eq!(t.id.as_ref().unwrap().to_string(), "42");
        assert_eq!(t.tier().as_deref(), Some("vip"));
        assert_eq!(t.main_text().unwrap().field, FieldName::Body);
        let fields: Vec<String> = t.customer_texts().map(|f| f.field.to_string()).collect();
        assert_eq!(fields, ["subject", "body", "messages[0].content"]);
        assert!(t.created_at.is_some());
    }

    #[test]
    fn tier_and_channel_are_trimmed_and_lower_cased_borrowing_when_they_already_are() {
        for (given, expected, borrowed) in [
            ("vip", Some("vip"), true),
            ("  email ", Some("email"), true),
            ("VIP", Some("vip"), false),
            ("Ñandú Premium", Some("ñandú premium"), false),
            ("   ", None, false),
        ] {
            let m = json!({"subject": "x", "channel": given, "customer": {"tier": given}});
            let t = Ticket::from_map(m.as_object().unwrap()).unwrap();
            for read in [t.tier(), t.channel()] {
                assert_eq!(read.as_deref(), expected, "{given:?}");
                assert_eq!(
                    matches!(read, Some(Cow::Borrowed(_))),
                    borrowed,
                    "{given:?}"
                );
            }
        }
    }

    #[test]
    fn reads_a_record_with_escaped_text_and_raw_fields() {
        let json = br#"{"id":"T\"1","subject":"caf\u00e9\nok","customer":{"tier":"VIP"},
            "messages":[{"role":"user","content":"a\tb"}],"metadata":{"bot_confidence":0.2},"x":1}"#;
        let record = Record::parse(json).unwrap();
        let t = Ticket::from_record(&record).unwrap();
        assert_eq!(t.id.as_ref().unwrap().to_string(), "T\"1");
        assert_eq!(t.subject.as_deref(), Some("café\nok"));
        assert_eq!(t.messages[0].content, "a\tb");
        assert_eq!(t.tier().as_deref(), Some("vip"));
        assert_eq!(
            t.raw_field("metadata").unwrap()["bot_confidence"],
            serde_json::json!(0.2)
        );
        assert!(t.raw_field("missing").is_none());
    }

    #[test]
    fn a_record_field_error_names_the_path_without_a_text_position() {
        let record = Record::parse(br#"{"subject":"x","customer":{"tier":5}}"#).unwrap();
        let err = Ticket::from_record(&record).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("customer.tier"));
        assert_eq!(err.message, "invalid type: integer `5`, expected a string");
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
    fn tools_analyse_at_most_the_limit_of_a_long_ticket() {
        let description = "palabra ".repeat(ANALYSED_TEXT_BYTES / 8 + 1000);
        let m = map(json!({
            "subject": "Hola",
            "description": description,
            "messages": [{"role": "user", "content": "ayuda"}, {"role": "user", "content": "ya"}]
        }));
        let t = Ticket::from_map(&m).unwrap();
        let texts: Vec<TextField> = t.customer_texts().collect();
        let analysed: usize = texts.iter().map(|f| f.text.len()).sum();
        assert!(analysed <= ANALYSED_TEXT_BYTES && analysed > ANALYSED_TEXT_BYTES - 64);
        assert_eq!(texts.len(), 2, "the messages after the cut are not read");
        assert!(texts[1].text.ends_with("palabra"), "cut at a word boundary");
        let cut = t.text_cut().unwrap();
        assert_eq!(
            (cut.analysed, cut.total),
            (analysed, 4 + description.len() + 7)
        );
        assert_eq!(cut.first_cut, Some(FieldName::Description));
        assert_eq!(cut.fields_not_read, 2);
        assert!(cut.to_string().starts_with(&format!(
            "text cut: analysed the first {analysed} of {} bytes",
            cut.total
        )));
    }

    #[test]
    fn a_ticket_under_the_limit_is_read_whole() {
        let m = map(json!({"subject": "Hola", "description": "x".repeat(1000),
            "messages": [{"role": "user", "content": "ayuda"}]}));
        let t = Ticket::from_map(&m).unwrap();
        assert_eq!(t.customer_texts().count(), 3);
        assert_eq!(t.text_cut(), None);
    }

    #[test]
    fn a_cut_ends_at_a_character_boundary() {
        let text = "ñ".repeat(100);
        assert_eq!(analysed_prefix(&text, 7), "ñññ");
        assert_eq!(analysed_prefix(&text, 1), "");
        assert_eq!(analysed_prefix("ab cd", 4), "ab");
        assert_eq!(analysed_prefix("ab cd", 5), "ab cd");
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
        let json = json!({"subject": "x", "good": {"score": 0.5}, "bad": "text"});
        let m = map(json.clone());
        let text = json.to_string();
        let record = Record::parse(text.as_bytes()).unwrap();
        for t in [
            Ticket::from_map(&m).unwrap(),
            Ticket::from_record(&record).unwrap(),
        ] {
            assert_eq!(t.prior::<Prior>("good").unwrap().score, 0.5);
            assert!(t.prior::<Prior>("bad").is_none());
            assert!(t.prior::<Prior>("missing").is_none());
        }
    }
}
