use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;
use serde::Serialize;
use support_core::cli::{self, exit, CommonArgs};
use support_export::config::DEFAULT_CONFIG;
use support_export::error::EXIT_CODES_HELP;
use support_export::filter::parse_time;
use support_export::report::{self, ReportFormat};
use support_export::{
    export_tickets, summarize, ExportConfig, ExportError, FileSource, Filter, Output, Period,
    PgSource, ReadSummary, Source, TicketFormat, Window,
};

const EXAMPLE: &str = r#"  support-export dashboard --input examples/history.jsonl \
      --feedback examples/feedback.jsonl --now 2026-11-24T09:00:00Z --period 7d
  support-export report --input examples/history.jsonl --feedback examples/feedback.jsonl \
      --agents examples/agents.yaml --now 2026-11-24T09:00:00Z --output report.html
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
}

const TICKETS_EXAMPLE: &str = r#"  support-export tickets --input examples/history.jsonl --now 2026-11-24T09:00:00Z \
      --period 7d --priority critical,urgent --format csv --output urgent.csv
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/support \
      support-export tickets --format jsonl > all.jsonl"#;
const DASHBOARD_EXAMPLE: &str = r#"  support-export dashboard --input examples/history.jsonl \
      --feedback examples/feedback.jsonl --now 2026-11-24T09:00:00Z --period 24h"#;
const KPIS_EXAMPLE: &str = r#"  support-export kpis --input examples/history.jsonl \
      --feedback examples/feedback.jsonl --now 2026-11-24T09:00:00Z --period 30d"#;
const CONVERSATIONS_EXAMPLE: &str = r#"  support-export conversations --input examples/history.jsonl \
      --feedback examples/feedback.jsonl --now 2026-11-24T09:00:00Z --period 7d"#;
const REPORT_EXAMPLE: &str = r#"  support-export report --input examples/history.jsonl --feedback examples/feedback.jsonl \
      --agents examples/agents.yaml --now 2026-11-24T09:00:00Z --period 7d --output report.html
  support-export report --format md --db postgres://postgres@127.0.0.1:5432/support"#;

fn after_help(example: &str) -> String {
    format!(
        "Example:\n{example}\n\nTickets come from --input FILE (JSON Lines as the pipeline writes them), \
         else from PostgreSQL with --db URL or DATABASE_URL, else from stdin.\n\n{EXIT_CODES_HELP}"
    )
}

/// Flags of every command.
#[derive(Args)]
struct Shared {
    /// JSON Lines of triaged tickets (`support-triage` output). Without it, --db, else stdin.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// With --input: ratings as JSON Lines, {"ticket_id", "rating" (1-5), "comment", "created_at"}.
    #[arg(long, value_name = "FILE")]
    feedback: Option<PathBuf>,
    /// With --input: the agents file (as support-route reads it), for agents' names.
    #[arg(long, value_name = "FILE")]
    agents: Option<PathBuf>,
    /// Read PostgreSQL instead (the schema of `support-store migrate`), e.g. postgres://USER@HOST:5432/DB.
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    db: Option<String>,
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
        Command::Dashboard(shared) => (shared, Some("24h")),
        Command::Kpis(shared) | Command::Conversations(shared) => (shared, Some("7d")),
        Command::Report(args) => (&args.shared, Some("7d")),
    };
    shared.common.init_logging();
    if shared.common.print_config {
        return match io::stdout().write_all(DEFAULT_CONFIG.as_bytes()) {
            Ok(()) => ExitCode::from(exit::OK),
            Err(e) => fail(&ExportError::output("stdout")(e)),
        };
    }
    let config: ExportConfig = match shared.common.load_config() {
        Ok(config) => config,
        Err(e) => {
            return cli::usage_error(format_args!(
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
        Err(e) => return cli::usage_error(e),
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
                let (out, read) = export_tickets(&mut source, &filter, args.format, output)?;
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
                    Command::Tickets(_) => unreachable!("handled above"),
                };
                output
                    .write_all(text.as_bytes())
                    .map_err(ExportError::output(output.name().to_string()))?;
                read
            }
        };
        output.commit()?;
        Ok(read)
    });
    match result {
        Ok(read) => finish(read),
        Err(e) => fail(&e),
    }
}

fn open_source(shared: &Shared) -> Result<Source, ExportError> {
    if let (None, Some(url)) = (&shared.input, &shared.db) {
        if shared.feedback.is_some() || shared.agents.is_some() {
            return Err(ExportError::Usage(
                "--feedback and --agents go with --input; with --db they come from the database"
                    .into(),
            ));
        }
        return Ok(Source::Postgres(Box::new(PgSource::new(url.clone()))));
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

fn json<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("payloads serialize");
    text.push('\n');
    text
}

fn finish(read: ReadSummary) -> ExitCode {
    tracing::info!(tickets = read.rows, failed = read.failed, "done");
    if read.failed > 0 {
        eprintln!(
            "warning: {} input lines could not be read as tickets; see their error records",
            read.failed
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
    eprintln!("error: {error}");
    ExitCode::from(error.exit_code())
}
