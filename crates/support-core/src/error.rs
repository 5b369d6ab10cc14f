//! Per-record errors and the error record that takes a bad record's place in the output.

use schemars::JsonSchema;
use serde::Serialize;

/// What went wrong with one record. Serialized in snake_case as the error record's `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The line is not valid JSON.
    InvalidJson,
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// JSON nested deeper than the parser allows (128 levels).
    TooDeep,
    /// The record is larger than `--max-record-bytes`.
    TooLarge,
    /// Valid JSON, but not an object.
    NotAnObject,
    /// A known field has the wrong type or format.
    InvalidField,
    /// No subject, description, body or user message to read.
    NoText,
    /// The tool could not decide for another reason.
    Failed,
}

/// A record-level failure: the stream goes on, and this takes the record's place.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema, thiserror::Error)]
#[error("{message}")]
pub struct RecordError {
    pub kind: ErrorKind,
    pub message: String,
    /// The field at fault, as a path such as `customer.tier`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl RecordError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        RecordError {
            kind,
            message: message.into(),
            field: None,
        }
    }

    /// A panic while processing the record: a bug, reported in the
    /// record's place so the records around it still go through.
    pub fn internal() -> Self {
        RecordError::new(
            ErrorKind::Failed,
            "internal error while processing this record",
        )
    }

    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        RecordError::new(ErrorKind::InvalidField, message).with_field(field)
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Classifies why `bytes` failed to parse as JSON with `err`.
    pub fn from_json(bytes: &[u8], err: &serde_json::Error) -> Self {
        let message = err.to_string();
        if let Err(utf8) = std::str::from_utf8(bytes) {
            return RecordError::new(
                ErrorKind::InvalidUtf8,
                format!(
                    "invalid UTF-8 at byte {}: convert the input to UTF-8",
                    utf8.valid_up_to()
                ),
            );
        }
        let kind = if message.starts_with("recursion limit exceeded") {
            ErrorKind::TooDeep
        } else {
            ErrorKind::InvalidJson
        };
        RecordError::new(kind, message)
    }
}

/// `{"error": {...}}`: what the output carries in place of a record that failed.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(
    title = "ErrorRecord",
    description = "Takes the place of a record that could not be processed."
)]
pub struct ErrorRecord<'a> {
    pub error: ErrorDetail<'a>,
}

impl ErrorRecord<'_> {
    /// The compact JSON of the error record that takes the place of the
    /// record at `line` (with its `id`, when it could be read), logged as a
    /// warning on the way.
    pub fn json(error: &RecordError, line: u64, id: Option<String>) -> Vec<u8> {
        tracing::warn!(line, kind = ?error.kind, field = error.field.as_deref(), "{}", error.message);
        serde_json::to_vec(&ErrorRecord {
            error: ErrorDetail { error, line, id },
        })
        .expect("error records serialize")
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ErrorDetail<'a> {
    #[serde(flatten)]
    pub error: &'a RecordError,
    /// 1-based input line of the record (JSON Lines), or 1-based index in a JSON array.
    pub line: u64,
    /// The ticket's `id`, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}
