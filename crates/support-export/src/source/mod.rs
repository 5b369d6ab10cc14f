//! Where tickets come from: JSON Lines files (the embedded default, no
//! database), or PostgreSQL. Both give [`TicketRow`]s to the same code.

mod file;
mod pg;

pub use file::FileSource;
pub use pg::PgSource;

use indicatif::{ProgressBar, ProgressStyle};

use crate::error::ExportError;
use crate::filter::Filter;
use crate::knowledge::FailedArticle;
use crate::metrics::AgentNames;
use crate::row::TicketRow;
use crate::CorrectedTool;

/// What to read.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions<'a> {
    pub filter: &'a Filter,
    /// Also the transcript figures and feedback of each ticket (the metrics need them; exports do not).
    pub activity: bool,
    /// Only the columns the metrics read: the texts (subject, body, customer
    /// name and email) are left empty.
    pub metrics_only: bool,
    /// A progress bar on stderr (when it is a terminal).
    pub progress: bool,
}

/// How many tickets were given, and how many input lines failed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReadSummary {
    pub rows: u64,
    pub failed: u64,
}

pub enum Source {
    Files(FileSource),
    /// Boxed: a connection is large, and a source is made once.
    Postgres(Box<PgSource>),
}

impl Source {
    /// Calls `each` with every ticket that passes the filter; stops at the first error `each` returns.
    pub fn read(
        &mut self,
        options: ReadOptions<'_>,
        each: &mut dyn FnMut(TicketRow) -> Result<(), ExportError>,
    ) -> Result<ReadSummary, ExportError> {
        match self {
            Source::Files(source) => source.read(options, each),
            Source::Postgres(source) => source.read(options, each),
        }
    }

    /// Knowledge-base articles that failed customers: the store's view;
    /// files hold no ratings and corrections of answers to judge them by.
    pub fn failed_articles(&mut self) -> Result<Vec<FailedArticle>, ExportError> {
        match self {
            Source::Files(_) => Ok(Vec::new()),
            Source::Postgres(source) => source.failed_articles(),
        }
    }

    /// The decisions of `tool` people corrected (text, label): kept only
    /// in the store.
    pub fn corrections(
        &mut self,
        tool: CorrectedTool,
        filter: &Filter,
    ) -> Result<Vec<(String, String)>, ExportError> {
        match self {
            Source::Files(_) => Err(ExportError::Usage(
                "corrections are kept in the store (triage_results.true_label): give --db URL or set DATABASE_URL".into(),
            )),
            Source::Postgres(source) => source.corrections(tool, filter),
        }
    }

    /// Display names of agents, for the dashboard and the report.
    pub fn agent_names(&mut self) -> Result<AgentNames, ExportError> {
        match self {
            Source::Files(source) => source.agent_names(),
            Source::Postgres(source) => source.agent_names(),
        }
    }

    /// Where the tickets came from, for the report (never a password).
    pub fn describe(&self) -> String {
        match self {
            Source::Files(source) => source.describe(),
            Source::Postgres(source) => source.describe(),
        }
    }
}

/// A bar when stderr is a terminal, else nothing drawn at all.
#[derive(Clone, Copy)]
enum Unit {
    Bytes,
    Tickets,
}

fn progress_bar(shown: bool, total: Option<u64>, unit: Unit) -> ProgressBar {
    if !shown || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    let template = match (total, unit) {
        (Some(_), Unit::Bytes) => "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        (None, Unit::Bytes) => "{spinner} {bytes} read, {bytes_per_sec}",
        (Some(_), Unit::Tickets) => "{bar:40} {human_pos}/{human_len} tickets {per_sec} eta {eta}",
        (None, Unit::Tickets) => "{spinner} {human_pos} tickets {per_sec}",
    };
    let bar = total.map_or_else(ProgressBar::new_spinner, ProgressBar::new);
    bar.set_style(ProgressStyle::with_template(template).expect("templates are valid"));
    bar
}
