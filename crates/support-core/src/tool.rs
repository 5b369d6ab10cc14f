//! A tool as the contract defines it: a plain function from a ticket to its
//! typed result; stages and pipelines of tools, and one record through them.

use std::panic::{self, AssertUnwindSafe};

use jiff::Timestamp;
use serde_json::{Map, Value};

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

    /// Applies the stage to each ticket of a group that has not failed; a
    /// ticket that fails, or panics, here becomes its error. A [`Pipeline`]
    /// runs its stages one after the other over the whole group.
    fn apply_each(&self, tickets: &mut [Result<Ticket<'_>, RecordError>], ctx: &Context) {
        for slot in tickets {
            if let Ok(ticket) = slot {
                let applied = panic::catch_unwind(AssertUnwindSafe(|| self.apply(ticket, ctx)))
                    .unwrap_or_else(|_| Err(RecordError::internal()));
                if let Err(err) = applied {
                    *slot = Err(err);
                }
            }
        }
    }
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
        encode(record, ticket)
    })
}

/// [`apply_to_record`] for each of `records`, stage by stage over the group
/// ([`Stage::apply_each`]): each stage's code runs for every ticket of the
/// group while it is hot in the processor's caches, where a record at a time
/// through six tools evicts each tool's code before the next ticket needs it.
/// A panic in a stage is its ticket's error, not the group's.
pub fn apply_to_records(
    stage: &dyn Stage,
    records: &[Record<'_>],
    ctx: &Context,
) -> Vec<Result<Vec<u8>, RecordError>> {
    let first: Vec<Result<Ticket<'_>, RecordError>> =
        records.iter().map(Ticket::from_record).collect();
    // A repeated key is read from the parsed object, as `Ticket::with_record` does.
    let maps: Vec<Option<Map<String, Value>>> = first
        .iter()
        .zip(records)
        .map(|(ticket, record)| {
            matches!(ticket, Err(err) if Ticket::reads_as_map(err)).then(|| record.to_map())
        })
        .collect();
    let mut tickets: Vec<Result<Ticket<'_>, RecordError>> = first
        .into_iter()
        .zip(&maps)
        .map(|(ticket, map)| match map {
            Some(map) => Ticket::from_map(map),
            None => ticket,
        })
        .collect();
    stage.apply_each(&mut tickets, ctx);
    tickets
        .iter()
        .zip(records)
        .map(|(ticket, record)| {
            let ticket = ticket.as_ref().map_err(Clone::clone)?;
            encode(record, ticket)
        })
        .collect()
}

fn encode(record: &Record<'_>, ticket: &Ticket<'_>) -> Result<Vec<u8>, RecordError> {
    record
        .to_json_with(ticket.added())
        .map_err(|e| RecordError::new(ErrorKind::Failed, format!("cannot encode result: {e}")))
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
        ticket.reserve_results(self.stages.len());
        self.stages
            .iter()
            .try_for_each(|stage| stage.apply(ticket, ctx))
    }

    fn apply_each(&self, tickets: &mut [Result<Ticket<'_>, RecordError>], ctx: &Context) {
        for ticket in tickets.iter_mut().flatten() {
            ticket.reserve_results(self.stages.len());
        }
        for stage in &self.stages {
            stage.apply_each(tickets, ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Echo;

    /// A group gives each record what it gives on its own: results, a
    /// repeated key read from the parsed object, a refused ticket's error.
    #[test]
    fn a_group_gives_what_each_record_gives_alone() {
        let inputs: [&[u8]; 4] = [
            br#"{"id":1,"subject":"a"}"#,
            br#"{"subject":"b","customer":{"tier":"x","tier":"vip"}}"#,
            br#"{"id":3}"#,
            br#"{"subject":"d","created_at":5}"#,
        ];
        let records: Vec<Record<'_>> = inputs.iter().map(|i| Record::parse(i).unwrap()).collect();
        let ctx = Context {
            now: Timestamp::UNIX_EPOCH,
        };
        let pipeline = Pipeline::new(vec![Box::new(Echo)]);
        let alone: Vec<_> = records
            .iter()
            .map(|r| apply_to_record(&pipeline, r, &ctx))
            .collect();
        assert_eq!(apply_to_records(&pipeline, &records, &ctx), alone);
        assert!(alone[0].is_ok() && alone[1].is_ok());
        assert!(alone[2].is_err() && alone[3].is_err());
    }
}
