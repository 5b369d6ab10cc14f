//! JSON Lines files: the tickets as the pipeline writes them, ratings from a
//! feedback file, agent names from the agents file `support-route` reads.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::PathBuf;

use rayon::prelude::*;
use support_agents::Roster;
use support_core::error::ErrorRecord;
use support_core::json_text::top_level_id;
use support_core::{Record, RecordError};
use support_runner::id_string;
use support_runner::input::{RawRecord, Records};
use support_store::row::TicketRow as StoredRow;

use super::{progress_bar, ReadOptions, ReadSummary, Unit};
use crate::error::ExportError;
use crate::metrics::AgentNames;
use crate::row::{Feedback, TicketRow};

pub struct FileSource {
    /// JSON Lines of triaged tickets; `None` reads stdin.
    pub tickets: Option<PathBuf>,
    /// JSON Lines of ratings (`{"ticket_id", "rating", "comment", "created_at"}`).
    pub feedback: Option<PathBuf>,
    /// Agents file (YAML or JSON, as `support-route --agents`), for names.
    pub agents: Option<PathBuf>,
    /// Threads parsing tickets; 0 means one per core.
    pub threads: usize,
    pub max_record_bytes: usize,
    /// Where the error records of unreadable lines go.
    pub errors: Box<dyn Write + Send>,
}

impl FileSource {
    pub(super) fn read(
        &mut self,
        options: ReadOptions<'_>,
        each: &mut dyn FnMut(TicketRow) -> Result<(), ExportError>,
    ) -> Result<ReadSummary, ExportError> {
        let feedback = match &self.feedback {
            Some(path) if options.activity => load_feedback(path)?,
            _ => HashMap::new(),
        };
        let what = self.tickets_name();
        let (input, total): (Box<dyn Read + Send>, Option<u64>) = match &self.tickets {
            Some(path) => {
                let file = File::open(path).map_err(|source| ExportError::Input {
                    what: what.clone(),
                    source,
                })?;
                let len = file.metadata().ok().map(|m| m.len());
                (Box::new(file), len)
            }
            None => (Box::new(io::stdin()), None),
        };
        let bar = progress_bar(options.progress, total, Unit::Bytes);
        let input = BufReader::with_capacity(256 << 10, bar.wrap_read(input));
        let input_error = |source| ExportError::Input {
            what: what.clone(),
            source,
        };
        let mut records = Records::new(input, self.max_record_bytes).map_err(input_error)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads)
            .build()
            .map_err(|e| ExportError::Usage(format!("cannot start worker threads: {e}")))?;
        let mut summary = ReadSummary::default();
        loop {
            let batch = records.next_batch().map_err(input_error)?;
            if batch.is_empty() {
                break;
            }
            let rows: Vec<Result<TicketRow, Vec<u8>>> = pool.install(|| {
                batch
                    .into_par_iter()
                    .map(|line| parse_line(&line))
                    .collect()
            });
            for row in rows {
                match row {
                    Ok(mut row) if options.filter.matches(&row) => {
                        if let Some(ratings) = feedback.get(&row.columns.id) {
                            row.activity.feedback = ratings.clone();
                        }
                        summary.rows += 1;
                        each(row)?;
                    }
                    Ok(_) => {}
                    Err(error_record) => {
                        summary.failed += 1;
                        self.errors
                            .write_all(&error_record)
                            .and_then(|()| self.errors.flush())
                            .map_err(ExportError::output("error records"))?;
                    }
                }
            }
        }
        bar.finish_and_clear();
        Ok(summary)
    }

    pub(super) fn agent_names(&mut self) -> Result<AgentNames, ExportError> {
        let Some(path) = &self.agents else {
            return Ok(AgentNames::new());
        };
        let roster = Roster::load(path).map_err(|e| ExportError::Usage(format!("{e:#}")))?;
        Ok(roster.agents.into_iter().map(|a| (a.id, a.name)).collect())
    }

    pub(super) fn describe(&self) -> String {
        match &self.feedback {
            Some(feedback) => format!("{}, feedback {}", self.tickets_name(), feedback.display()),
            None => self.tickets_name(),
        }
    }

    fn tickets_name(&self) -> String {
        match &self.tickets {
            Some(path) => format!("tickets file {}", path.display()),
            None => "tickets from stdin".to_string(),
        }
    }
}

/// A row, or the serialized error record (with its newline) that takes the
/// line's place; an earlier tool's error record is passed on unchanged.
fn parse_line(line: &RawRecord) -> Result<TicketRow, Vec<u8>> {
    let error_line = |error: &RecordError, id| {
        let mut bytes = ErrorRecord::json(error, line.number, id);
        bytes.push(b'\n');
        bytes
    };
    let bytes = line.bytes().map_err(|e| error_line(&e, None))?;
    let record = Record::parse(bytes).map_err(|e| error_line(&e, top_level_id(bytes)))?;
    if record.is_error_record() {
        let mut bytes = record.to_json();
        bytes.push(b'\n');
        return Err(bytes);
    }
    // Record::parse has checked the UTF-8.
    let text = std::str::from_utf8(bytes).expect("a parsed record is UTF-8");
    StoredRow::parse(text, &record)
        .map(TicketRow::from_stored)
        .map_err(|e| error_line(&e, id_string(&record)))
}

/// Ratings by ticket id. A bad line is a usage error naming the file, line and field:
/// ratings are few, and a figure silently missing some would mislead.
fn load_feedback(path: &PathBuf) -> Result<HashMap<String, Vec<Feedback>>, ExportError> {
    let file = File::open(path).map_err(|e| {
        ExportError::Usage(format!("cannot read feedback file {}: {e}", path.display()))
    })?;
    let mut by_ticket: HashMap<String, Vec<Feedback>> = HashMap::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let at = || format!("feedback file {}:{}", path.display(), i + 1);
        let line = line.map_err(|e| ExportError::Usage(format!("{}: {e}", at())))?;
        if line.trim().is_empty() {
            continue;
        }
        let mut deserializer = serde_json::Deserializer::from_str(&line);
        let feedback: Feedback =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
                let field = e.path().to_string();
                ExportError::Usage(format!("{}: field `{field}`: {}", at(), e.into_inner()))
            })?;
        if !(1..=5).contains(&feedback.rating) {
            return Err(ExportError::Usage(format!(
                "{}: field `rating`: {} is not a rating from 1 to 5",
                at(),
                feedback.rating
            )));
        }
        by_ticket
            .entry(feedback.ticket_id.clone())
            .or_default()
            .push(feedback);
    }
    Ok(by_ticket)
}
