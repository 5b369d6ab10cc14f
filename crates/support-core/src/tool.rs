//! A tool as the contract defines it: a plain function from a ticket to its
//! typed result; stages and pipelines of tools, and one record through them.

use jiff::Timestamp;

use crate::error::{ErrorKind, RecordError};
use crate::record::Record;
use crate::results::ToolResult;
use crate::ticket::Ticket;

/// What every decision may depend on besides the ticket: the fixed clock.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub now: Timestamp,
}

/// A tool: a plain function from a ticket to its typed result, stored under
/// the result's key ([`ToolResult::KEY`]).
pub trait Tool: Sync {
    type Output: ToolResult;
    /// Whether a ticket without customer text is a `no_text` error. Tools
    /// that decide from structured fields only (support-ml-predict) say no.
    const NEEDS_TEXT: bool = true;

    fn decide(&self, ticket: &Ticket<'_>, ctx: &Context) -> Result<Self::Output, RecordError>;
}

/// One step applied to a ticket: it adds its result, which later stages read
/// typed. Every `Tool` is a stage; a pipeline of tools is one too.
pub trait Stage: Sync {
    fn apply(&self, ticket: &mut Ticket<'_>, ctx: &Context) -> Result<(), RecordError>;
}

impl<T: Tool> Stage for T {
    fn apply(&self, ticket: &mut Ticket<'_>, ctx: &Context) -> Result<(), RecordError> {
        if T::NEEDS_TEXT {
            ticket.require_text()?;
        }
        let output = self.decide(ticket, ctx)?;
        ticket.add(output);
        Ok(())
    }
}

/// Applies `stage` to `record` and gives the output record's compact JSON:
/// the record as it came, with the results the stage added, each serialized once.
pub fn apply_to_record(
    stage: &dyn Stage,
    record: &Record<'_>,
    ctx: &Context,
) -> Result<Vec<u8>, RecordError> {
    Ticket::with_record(record, |ticket| {
        stage.apply(ticket, ctx)?;
        record
            .to_json_with(ticket.added())
            .map_err(|e| RecordError::new(ErrorKind::Failed, format!("cannot encode result: {e}")))
    })
}

/// Stages applied in order to each record, as one stage: the whole chain in
/// one process. A record failing at any stage becomes one error record.
pub struct Pipeline {
    stages: Vec<Box<dyn Stage + Send>>,
}

impl Pipeline {
    pub fn new(stages: Vec<Box<dyn Stage + Send>>) -> Self {
        Pipeline { stages }
    }
}

impl Stage for Pipeline {
    fn apply(&self, ticket: &mut Ticket<'_>, ctx: &Context) -> Result<(), RecordError> {
        self.stages
            .iter()
            .try_for_each(|stage| stage.apply(ticket, ctx))
    }
}
