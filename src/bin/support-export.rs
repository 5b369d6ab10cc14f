use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;
use serde::Serialize;
use support_cli::{self, exit, print_error, print_message, CommonArgs};
use support_export::config::EMBEDDED_CONFIG;
use support_export::error::EXIT_CODES_HELP;
use support_export::filter::parse_time;
use support_export::report::{self, ReportFormat};
use support_export::{
    export_corrections, export_tickets, summarize, CorrectedTool, CsvCells, ExportConfig,
    ExportError, FileSource, Filter, Output, Period, PgSource, ReadSummary, Source, TicketFormat,
    Window,
};
use support_runner::Summary;
use support_store::TimeoutArgs;

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: support_suite::allocator::Mimalloc = support_suite::allocator::Mimalloc;

const EXAMPLE: &str = r#"  support-export dashboard --input examples/history.jsonl \
    --feedback examples/feedback.jsonl --now 2026-11-24T09:00:00Z --period 7d
  support-export report --input examples/history.jsonl \
    --feedback examples/feedback.jsonl --agents examples/agents.yaml \
    --now 2026-11-24T09:00:00Z --output report.html
  support-export tickets --db postgres://postgres@127.0.0.1:5432/support \
    --since 2026-11-01 --status open,pending --format csv --output open.csv"#;

/// Exports tickets and computes the dashboard, KPIs, conversation metrics
/// and reports, from JSON Lines files (default) or PostgreSQL (--db).
#[derive(Parser)]
#[command(name = "support-export", version, after_help = after_help(EXAMPLE))]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Tickets as CSV, JSON Lines or JSON: the columns of the `tickets` table, streamed.
    #[command(after_help = after_help(TICKETS_EXAMPLE))]
    Tickets(TicketsArgs),
    /// The dashboard payload: metrics, hourly trends, priorities, categories, agents, feedback (default period 24h).
    #[command(after_help = after_help(DASHBOARD_EXAMPLE))]
    Dashboard(Shared),
    /// KPIs: bot resolution, first response by priority, SLA compliance, CSAT, feedback response (default period 7d).
    #[command(after_help = after_help(KPIS_EXAMPLE))]
    Kpis(Shared),
    /// Transcript metrics: resolution, CSAT, turns and duration, by channel and language (default period 7d).
    #[command(after_help = after_help(CONVERSATIONS_EXAMPLE))]
    Conversations(Shared),
    /// A report for people: one self-contained HTML page with charts, or Markdown (default period 7d).
    #[command(after_help = after_help(REPORT_EXAMPLE))]
    Report(ReportArgs),
    /// A tool's decisions people corrected in the store, as CSV `text,label` for
    /// `support-categorize train` or `support-sentiment train` (the retrain DAG's input).
    #[command(after_help = after_help(CORRECTIONS_EXAMPLE))]
    Corrections(CorrectionsArgs),
}

const TICKETS_EXAMPLE: &str = r#"  support-export tickets --input examples/history.jsonl \
    --now 2026-11-24T09:00:00Z --period 7d --priority critical,urgent \
    --format csv --output urgent.csv
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/support \
    support-export tickets --format jsonl > all.jsonl"#;
const CORRECTIONS_EXAMPLE: &str = r#"  DATABASE_URL=postgres://postgres@127.0.0.1:5432/support \
    support-export corrections --output corrections.csv
  support-export corrections --db postgres://postgres@127.0.0.1:5432/support --period 90d \
    --tool sentiment --output sentiment-corrections.csv"#;
const DASHBOARD_EXAMPLE: &str = r#"  support-export dashboard --input examples/history.jsonl \
    --feedback examples/feedback.jsonl --now 2026-11-24T09:00:00Z --period 24h"#;
const KPIS_EXAMPLE: &str = r#"  support-export kpis --input examples/history.jsonl \
    --feedback examples/feedback.jsonl --now 2026-11-24T09:00:00Z --period 30d"#;
const CONVERSATIONS_EXAMPLE: &str = r#"  support-export conversations --input examples/history.jsonl \
    --feedback examples/feedback.jsonl --now 2026-11-24T09:00:00Z --period 7d"#;
const REPORT_EXAMPLE: &str = r#"  support-export report --input examples/history.jsonl \
    --feedback examples/feedback.jsonl --agents examples/agents.yaml \
    --now 2026-11-24T09:00:00Z --period 7d --output report.html
  support-export report --format md \
    --db postgres://postgres@127.0.0.1:5432/support"#;

fn after_help(example: &str) -> String {
    format!(
        "Example:\n{example}\n\nTickets come from --input FILE (JSON Lines as the pipeline writes them) or \
         PostgreSQL with --db URL; without either, from stdin when it is a pipe or a file, else from \
         the database in DATABASE_URL, else from stdin. The summary on stderr names the source.\n\n{EXIT_CODES_HELP}"
    )
}

/// Flags of every command.
#[derive(Args)]
struct Shared {
    /// JSON Lines of triaged tickets (`support-triage` output). Without it or --db: piped stdin,
    /// else DATABASE_URL, else stdin.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// With --input: ratings as JSON Lines, {"ticket_id", "rating" (1-5), "comment", "created_at"}.
    #[arg(long, value_name = "FILE")]
    feedback: Option<PathBuf>,
    /// With --input: the agents file (as support-route reads it), for agents' names.
    #[arg(long, value_name = "FILE")]
    agents: Option<PathBuf>,
    /// Read PostgreSQL instead (the schema of `support-store migrate`), e.g. postgres://USER@HOST:5432/DB.
    /// DATABASE_URL is used only when stdin is not piped.
    #[arg(long, value_name = "URL", conflicts_with = "input")]
    db: Option<String>,
    #[command(flatten)]
    timeouts: TimeoutArgs,
    /// Tickets created in the last SPAN before --now (or --until): 24h, 7d, 30d, any number of h, d or w.
    #[arg(long, value_name = "SPAN")]
    period: Option<Period>,
    /// Tickets created at or after this time (RFC 3339, or a date: its UTC midnight).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    since: Option<Timestamp>,
    /// Tickets created before this time (RFC 3339 or a date).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    until: Option<Timestamp>,
    /// Only tickets with these statuses (comma-separated or repeated), e.g. open,pending.
    #[arg(long, value_name = "STATUS", value_delimiter = ',')]
    status: Vec<String>,
    /// Only tickets of these categories, e.g. refund,payment.
    #[arg(long, value_name = "CATEGORY", value_delimiter = ',')]
    category: Vec<String>,
    /// Only tickets of these priorities, e.g. urgent,critical.
    #[arg(long, value_name = "LEVEL", value_delimiter = ',', value_parser = ["low", "medium", "high", "urgent", "critical"])]
    priority: Vec<String>,
    /// Write to FILE instead of stdout; it appears only when complete.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Args)]
struct TicketsArgs {
    #[arg(long, value_enum, default_value_t = TicketFormat::Csv)]
    format: TicketFormat,
    /// With --format csv: write text cells as they are, also those beginning with = + - @, a tab
    /// or a carriage return (for programs reading the file; by default such cells get a leading
    /// apostrophe so that spreadsheets do not run them as formulas).
    #[arg(long)]
    raw_csv: bool,
    #[command(flatten)]
    shared: Shared,
}

#[derive(Args)]
struct CorrectionsArgs {
    /// Whose decisions: the categorizer's (`category`) or the sentiment's.
    #[arg(long, value_enum, default_value_t = CorrectedTool::Category)]
    tool: CorrectedTool,
    #[command(flatten)]
    shared: Shared,
}

#[derive(Args)]
struct ReportArgs {
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    format: ReportFormat,
    #[command(flatten)]
    shared: Shared,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (shared, default_period) = match &cli.command {
        Command::Tickets(args) => (&args.shared, None),
        Command::Corrections(args) => (&args.shared, None),
        Command::Dashboard(shared) => (shared, Some("24h")),
        Command::Kpis(shared) | Command::Conversations(shared) => (shared, Some("7d")),
        Command::Report(args) => (&args.shared, Some("7d")),
    };
    shared.common.init_logging();
    if shared.common.print_config {
        return shared.common.print_config::<ExportConfig>(EMBEDDED_CONFIG);
    }
    let config: ExportConfig = match shared.common.load_config(EMBEDDED_CONFIG) {
        Ok(config) => config,
        Err(e) => {
            return support_cli::usage_error(format_args!(
                "{e}\nhint: `--print-config` prints a valid configuration to start from"
            ))
        }
    };
    let now = shared.common.context().now;
    let default_period = default_period.map(|p| p.parse::<Period>().expect("defaults parse"));
    let window = match Window::from_args(
        shared.period,
        shared.since,
        shared.until,
        now,
        default_period,
    ) {
        Ok(window) => window,
        Err(e) => return support_cli::usage_error(e),
    };
    let filter = Filter {
        window,
        statuses: shared.status.clone(),
        categories: shared.category.clone(),
        priorities: shared.priority.clone(),
    };
    let result = open_source(shared).and_then(|mut source| {
        let mut output = Output::create(shared.output.as_deref())?;
        let read = match &cli.command {
            Command::Tickets(args) => {
                let cells = if args.raw_csv {
                    CsvCells::Raw
                } else {
                    CsvCells::Neutralized
                };
                let (out, read) = export_tickets(&mut source, &filter, args.format, cells, output)?;
                output = out;
                read
            }
            Command::Corrections(args) => {
                let (out, read) = export_corrections(&mut source, args.tool, &filter, output)?;
                output = out;
                read
            }
            command => {
                let window = window.expect("aggregate commands have a default period");
                let (summary, read) = summarize(&mut source, window, &filter, now, &config)?;
                let text = match command {
                    Command::Dashboard(_) => json(&summary.dashboard),
                    Command::Kpis(_) => json(&summary.kpis),
                    Command::Conversations(_) => json(&summary.conversations),
                    Command::Report(args) => report::render(&summary, &config, args.format),
                    Command::Tickets(_) | Command::Corrections(_) => unreachable!("handled above"),
                };
                output
                    .write_all(text.as_bytes())
                    .map_err(ExportError::output(output.name().to_string()))?;
                read
            }
        };
        output.commit()?;
        Ok((read, source.describe()))
    });
    match result {
        Ok((read, source)) => finish(read, &source, shared.common.kestra),
        Err(e) => fail(&e),
    }
}

/// Explicit flags first (`--input`, `--db`), then piped stdin, then `DATABASE_URL`.
fn open_source(shared: &Shared) -> Result<Source, ExportError> {
    let url = match (&shared.input, &shared.db) {
        (Some(_), _) => None,
        (None, Some(url)) => Some(url.clone()),
        (None, None) if stdin_is_piped() => {
            if std::env::var_os("DATABASE_URL").is_some() {
                tracing::info!(
                    "reading the piped stdin, not DATABASE_URL (give --db to read the database)"
                );
            }
            None
        }
        (None, None) => std::env::var("DATABASE_URL").ok(),
    };
    if let Some(url) = url {
        if shared.feedback.is_some() || shared.agents.is_some() {
            return Err(ExportError::Usage(
                "--feedback and --agents go with --input; with --db they come from the database"
                    .into(),
            ));
        }
        let source = PgSource::new(url).with_timeouts(shared.timeouts.timeouts());
        return Ok(Source::Postgres(Box::new(source)));
    }
    let errors: Box<dyn Write + Send> = match &shared.common.errors {
        Some(path) => Box::new(File::create(path).map_err(ExportError::output(format!(
            "errors file {}",
            path.display()
        )))?),
        None => Box::new(io::stderr()),
    };
    Ok(Source::Files(FileSource {
        tickets: shared.input.clone(),
        feedback: shared.feedback.clone(),
        agents: shared.agents.clone(),
        threads: shared.common.threads,
        max_record_bytes: shared.common.max_record_bytes,
        errors,
    }))
}

/// Whether stdin is a pipe or a file (`cmd | support-export`, `< file`),
/// rather than a terminal or /dev/null.
#[cfg(unix)]
fn stdin_is_piped() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    io::stdin()
        .as_fd()
        .try_clone_to_owned()
        .map(File::from)
        .and_then(|stdin| stdin.metadata())
        .is_ok_and(|meta| meta.file_type().is_fifo() || meta.is_file())
}

#[cfg(not(unix))]
fn stdin_is_piped() -> bool {
    !io::IsTerminal::is_terminal(&io::stdin())
}

fn json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("payloads serialize");
    text.push('\n');
    text
}

fn finish(read: ReadSummary, source: &str, kestra: bool) -> ExitCode {
    eprintln!(
        "{}",
        serde_json::json!({"summary": {"source": source, "tickets": read.rows, "failed": read.failed}})
    );
    if kestra {
        let summary = Summary {
            records: read.rows + read.failed,
            failed: read.failed,
            output_closed: false,
        };
        eprint!("{}", support_cli::kestra_lines("support-export", &summary));
    }
    if read.failed > 0 {
        print_message(
            "warning",
            format_args!(
                "{} input lines could not be read as tickets; see their error records",
                read.failed
            ),
        );
        ExitCode::from(exit::RECORDS_FAILED)
    } else {
        ExitCode::from(exit::OK)
    }
}

fn fail(error: &ExportError) -> ExitCode {
    if error.is_closed_output() {
        return ExitCode::from(exit::OK);
    }
    print_error(error);
    ExitCode::from(error.exit_code())
}
