//! Small write commands (`correct`, `feedback`) given as JSON Lines: each line
//! is one command; each yields a result line on the output or an error record,
//! never silence.

use std::io::{self, BufRead, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use support_core::ticket::message_without_position;
use support_core::{ErrorKind, RecordError};
use support_runner::input::Records;

use crate::StoreError;
use support_core::error::ErrorRecord;

/// A command record: which ticket it is about, for its error record.
pub trait Command: DeserializeOwned {
    fn ticket(&self) -> &str;
}

/// Why one command was not applied: the record's fault, or the database's.
#[derive(Debug)]
pub enum Refusal {
    Record(RecordError),
    Store(StoreError),
}

impl From<RecordError> for Refusal {
    fn from(error: RecordError) -> Self {
        Refusal::Record(error)
    }
}

impl From<postgres::Error> for Refusal {
    fn from(error: postgres::Error) -> Self {
        Refusal::Store(error.into())
    }
}

/// How a run of commands went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinesSummary {
    pub records: u64,
    pub failed: u64,
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum LinesError {
    #[error("cannot read input: {0}")]
    Input(io::Error),
    #[error("cannot write output: {0}")]
    Output(io::Error),
    #[error("{0}")]
    Store(StoreError),
}

/// Where results and error records go, and how many there were.
struct Sink<'w> {
    output: &'w mut dyn Write,
    errors: Option<&'w mut dyn Write>,
    summary: LinesSummary,
}

impl Sink<'_> {
    /// Writes the result, or the error record of `line`. A database error
    /// stops the run: no later command would fare better.
    fn emit<O: Serialize>(
        &mut self,
        outcome: Result<O, Refusal>,
        line: u64,
        id: impl FnOnce() -> Option<String>,
    ) -> Result<(), LinesError> {
        self.summary.records += 1;
        let (target, bytes) = match outcome {
            Ok(done) => (
                &mut *self.output,
                serde_json::to_vec(&done).expect("results serialize"),
            ),
            Err(Refusal::Store(error)) => return Err(LinesError::Store(error)),
            Err(Refusal::Record(error)) => {
                self.summary.failed += 1;
                let target = match self.errors.as_deref_mut() {
                    Some(errors) => errors,
                    None => &mut *self.output,
                };
                (target, ErrorRecord::json(&error, line, id()))
            }
        };
        target
            .write_all(&bytes)
            .and_then(|()| target.write_all(b"\n"))
            .map_err(LinesError::Output)
    }

    fn finish(self) -> Result<LinesSummary, LinesError> {
        self.output.flush().map_err(LinesError::Output)?;
        if let Some(errors) = self.errors {
            errors.flush().map_err(LinesError::Output)?;
        }
        Ok(self.summary)
    }
}

/// Applies `apply` to one command given on the command line (line 1).
pub fn run_one<'w, T: Command, O: Serialize>(
    command: &T,
    output: &'w mut dyn Write,
    errors: Option<&'w mut dyn Write>,
    apply: impl FnOnce(&T) -> Result<O, Refusal>,
) -> Result<LinesSummary, LinesError> {
    let mut sink = Sink {
        output,
        errors,
        summary: LinesSummary::default(),
    };
    sink.emit(apply(command), 1, || Some(command.ticket().to_owned()))?;
    sink.finish()
}

/// Applies `apply` to every record of `input` (one object, an array or JSON
/// Lines), writing its result to `output` and error records to `errors` (or
/// to `output` when `None`).
pub fn run_lines<'w, T: Command, O: Serialize>(
    input: impl BufRead,
    output: &'w mut dyn Write,
    errors: Option<&'w mut dyn Write>,
    mut apply: impl FnMut(&T) -> Result<O, Refusal>,
) -> Result<LinesSummary, LinesError> {
    let mut sink = Sink {
        output,
        errors,
        summary: LinesSummary::default(),
    };
    let mut records = Records::new(input, 1 << 20).map_err(LinesError::Input)?;
    while let Some(line) = records.next_record().map_err(LinesError::Input)? {
        let outcome = match line.bytes().and_then(parse::<T>) {
            Ok(command) => apply(&command),
            Err(error) => Err(Refusal::Record(error)),
        };
        sink.emit(outcome, line.number, || {
            line.bytes().ok().and_then(command_id)
        })?;
    }
    sink.finish()
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, RecordError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            RecordError::from_json(bytes, &inner)
        } else if path == "." {
            RecordError::new(ErrorKind::InvalidField, message_without_position(inner))
        } else {
            RecordError::invalid_field(&path, message_without_position(inner))
        }
    })
}

/// The ticket a command line names, for its error record.
fn command_id(bytes: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    match value.get("ticket").or_else(|| value.get("id"))? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
