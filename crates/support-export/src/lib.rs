//! Exports, dashboards, KPIs and reports of support tickets.
//!
//! Tickets come from a [`Source`]: JSON Lines files as the pipeline writes
//! them (the embedded default, no database) or PostgreSQL (the tables of
//! `sql/migrations`). Both give [`TicketRow`]s, and every figure is a plain
//! function of rows ([`metrics::Aggregator`]), so the two sources cannot
//! disagree on a definition; the SQL views define the same figures for
//! people querying the database directly, and a test holds them equal.

pub mod config;
pub mod error;
pub mod filter;
pub mod knowledge;
pub mod metrics;
pub mod report;
pub mod row;
pub mod source;
pub mod write;

use std::io::Write;

use jiff::Timestamp;

pub use config::ExportConfig;
pub use error::ExportError;
pub use filter::{Filter, Period, Window};
pub use knowledge::FailedArticle;
pub use metrics::{Aggregator, Conversations, Dashboard, Kpis};
pub use row::TicketRow;
pub use source::{FileSource, PgSource, ReadOptions, ReadSummary, Source};
pub use write::{CsvCells, Output, RowWriter, TicketFormat};

/// Everything the aggregate commands print, from one pass over the tickets.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Where the tickets came from.
    pub source: String,
    pub dashboard: Dashboard,
    pub kpis: Kpis,
    pub conversations: Conversations,
    /// Knowledge-base articles that failed customers (PostgreSQL only; worst first).
    pub failed_articles: Vec<FailedArticle>,
}

/// Reads the tickets `filter` selects in `window` and computes every figure.
pub fn summarize(
    source: &mut Source,
    window: Window,
    filter: &Filter,
    now: Timestamp,
    config: &ExportConfig,
) -> Result<(Summary, ReadSummary), ExportError> {
    let filter = Filter {
        window: Some(window),
        ..filter.clone()
    };
    let mut aggregator = Aggregator::new(window, now, config.clone());
    let read = source.read(
        ReadOptions {
            filter: &filter,
            activity: true,
            metrics_only: true,
            progress: true,
        },
        &mut |row| {
            aggregator.add(&row);
            Ok(())
        },
    )?;
    let names = source.agent_names()?;
    let summary = Summary {
        source: source.describe(),
        dashboard: aggregator.dashboard(&names),
        kpis: aggregator.kpis(),
        conversations: aggregator.conversations(),
        failed_articles: source.failed_articles()?,
    };
    Ok((summary, read))
}

/// Writes the tickets `filter` selects to `out` in `format`, streaming.
/// The tools that learn from text labels, whose corrected decisions
/// `corrections` exports as training data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CorrectedTool {
    /// support-categorize's `category` (a category, or the model's label).
    Category,
    /// support-sentiment's `sentiment` (negative, neutral or positive).
    Sentiment,
}

impl CorrectedTool {
    /// Its key in the ticket, which is `triage_results.tool`.
    pub fn key(self) -> &'static str {
        match self {
            CorrectedTool::Category => "category",
            CorrectedTool::Sentiment => "sentiment",
        }
    }
}

/// Writes `tool`'s corrections of the tickets that pass `filter` as CSV
/// `text,label`, what the tool's `train` reads; returns how many.
pub fn export_corrections<W: Write>(
    source: &mut Source,
    tool: CorrectedTool,
    filter: &Filter,
    out: W,
) -> Result<(W, ReadSummary), ExportError> {
    let corrections = source.corrections(tool, filter)?;
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record(["text", "label"])
        .and_then(|()| corrections.iter().try_for_each(|c| writer.serialize(c)))
        .map_err(|e| ExportError::output("the corrections")(e.into()))?;
    // Flushes what the writer buffers.
    let out = writer
        .into_inner()
        .map_err(|e| ExportError::output("the corrections")(e.into_error()))?;
    let read = ReadSummary {
        rows: corrections.len() as u64,
        failed: 0,
    };
    Ok((out, read))
}

pub fn export_tickets<W: Write>(
    source: &mut Source,
    filter: &Filter,
    format: TicketFormat,
    cells: CsvCells,
    out: W,
) -> Result<(W, ReadSummary), ExportError> {
    let mut writer = RowWriter::new(format, out).csv_cells(cells);
    let read = source.read(
        ReadOptions {
            filter,
            activity: false,
            metrics_only: false,
            progress: true,
        },
        &mut |row| {
            writer
                .write(&row)
                .map_err(ExportError::output("the export"))
        },
    )?;
    let out = writer.finish().map_err(ExportError::output("the export"))?;
    Ok((out, read))
}
