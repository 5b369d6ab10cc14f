use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use jiff::{SignedDuration, Timestamp};
use support_cli::{self, exit, print_error, LogFormat};
use support_store::ingest::{IngestError, IngestOptions, IngestSummary};
use support_store::lines::{LinesError, LinesSummary};
use support_store::models::{Against, ModelFiles, ModelTool, ModelsError};
use support_store::review::{Correction, Feedback};
use support_store::{parse_duration, Client, StoreError, TimeoutArgs, Timeouts, EXIT_DATABASE};

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: support_suite::allocator::Mimalloc = support_suite::allocator::Mimalloc;

const EXAMPLE: &str = r#"  export DATABASE_URL=postgres://postgres@127.0.0.1:5432/support
  support-store migrate
  support-triage --agents examples/agents.yaml < examples/tickets.jsonl \
    | support-store ingest
  support-store correct --ticket T-1003 --tool category --label contact \
    --by ana
  support-store feedback --ticket T-1004 --rating 5 --comment "quick fix"
  support-store due --within 30m | support-escalate > escalations.jsonl
  support-store maintain --archive-after 90d --metrics-retention 30d"#;

const STORE_EXIT_CODES: &str = "\
Exit codes:
  0  done; every record was stored
  1  some records failed: each has an error record {\"error\": {kind, message, line, field, id}}
     on stdout, or in --errors FILE; the others were stored
  2  bad command line or auxiliary file (agents); nothing was done
  3  the input could not be read
  4  the output or the errors file could not be written
  5  the database could not be reached or did not answer within --connect-timeout, the
     connection was lost, or the server refused the work (the schema is not migrated, a
     migration file changed, a statement ran past --statement-timeout, a permission): the
     message says which, and what to do. A deadlock with a concurrent ingest is retried first.";

/// PostgreSQL as the system of record for triaged tickets: migrations, ingest, corrections,
/// feedback, SLA-due tickets and maintenance.
#[derive(Parser)]
#[command(
    name = "support-store",
    version,
    after_help = format!("Examples:\n{EXAMPLE}\n\n{STORE_EXIT_CODES}")
)]
struct Cli {
    /// PostgreSQL URL: postgres://USER[:PASSWORD]@HOST:PORT/DATABASE (or key=value pairs).
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        default_value = support_store::DEFAULT_URL,
        hide_env_values = true,
    )]
    db: String,
    #[command(flatten)]
    timeouts: TimeoutArgs,
    /// Log format on stderr; the level comes from RUST_LOG (default: warn).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply the migrations the database lacks (idempotent); prints what it did as JSON.
    Migrate,
    /// Upsert triaged tickets (JSON Lines, the pipeline's output) by id: with their messages,
    /// one triage result per tool, and an escalation when one is called for.
    Ingest(IngestArgs),
    /// Record the right label for a tool's decision (true_label): one with --ticket/--tool/--label,
    /// or JSON Lines {"ticket", "tool", "label", "by"} from --input or stdin.
    Correct(CorrectArgs),
    /// Record customer feedback (rating 1-5, comment) on a ticket or one of its messages: one with
    /// --ticket/--rating, or JSON Lines {"ticket", "rating", "comment", "message"} from --input or stdin.
    Feedback(FeedbackArgs),
    /// Print open tickets whose SLA is breached or due within --within, as JSON Lines in the
    /// ticket format (with their current status), soonest first: ready for support-escalate.
    Due(DueArgs),
    /// Archive old closed tickets, purge old operation metrics, ANALYZE, refresh the daily summary;
    /// prints what it did as JSON.
    Maintain(MaintainArgs),
    /// Load the agents table from support-route's agents file (agents missing from it become
    /// inactive); prints what it did as JSON.
    Agents(AgentsArgs),
    /// The models the tools learn: promote a retrained one when it beats the active one,
    /// roll back, list, and give the active model's path for a tool's --model.
    #[command(subcommand, after_help = format!("Examples:\n{MODELS_EXAMPLE}"))]
    Models(ModelsCommand),
}

const MODELS_EXAMPLE: &str = r#"  support-categorize train --data train.csv --out new.model
  support-categorize evaluate --model new.model --data dev.csv > new.json
  support-categorize evaluate --store-models --data dev.csv > active.json
  support-store models promote --tool categorize --file new.model \
    --report new.json --active-report active.json --eval-data dev.csv
  support-store models list --tool categorize
  support-store models rollback --tool categorize
  support-triage --store-models < examples/tickets.jsonl"#;

#[derive(Subcommand)]
enum ModelsCommand {
    /// Store a retrained model as the tool's active one when it beats the active model on the
    /// same held-out data (no gate metric worse, one better); prints the decision and the
    /// change of each metric as JSON. Not promoted is not an error: exit 0, "promoted": false.
    Promote(PromoteArgs),
    /// Undo the tool's last promotion (the model before it becomes active again; before the
    /// first, the embedded default), or make --to VERSION active; prints what changed.
    Rollback {
        #[arg(long, value_enum)]
        tool: ModelTool,
        /// Make this version active instead.
        #[arg(long, value_name = "VERSION")]
        to: Option<i32>,
    },
    /// The stored models, newest first, as JSON Lines with their gate metrics.
    List {
        /// Only this tool's.
        #[arg(long, value_enum)]
        tool: Option<ModelTool>,
    },
    /// Print the path of the tool's active model, fetched into --cache-dir (nothing when no
    /// model is active: the tool's embedded default), for the tool's --model.
    Path {
        #[arg(long, value_enum)]
        tool: ModelTool,
        /// Where fetched models are kept (default: $XDG_CACHE_HOME/support-suite/models).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}

#[derive(Args)]
struct PromoteArgs {
    #[arg(long, value_enum)]
    tool: ModelTool,
    /// The retrained model: a file, or a folder (support-answer's index).
    #[arg(long, value_name = "PATH")]
    file: PathBuf,
    /// The tool's `evaluate` JSON of the candidate on the held-out data.
    #[arg(long, value_name = "JSON")]
    report: PathBuf,
    /// The same of the active model (or of the embedded default) on the same data.
    #[arg(long, value_name = "JSON", required_unless_present_any = ["against_baseline", "force"])]
    active_report: Option<PathBuf>,
    /// No model is active and the tool's default cannot be evaluated (support-ml-predict):
    /// the candidate must beat the baseline its own report carries.
    #[arg(long, conflicts_with_all = ["active_report", "force"])]
    against_baseline: bool,
    /// The held-out data both were evaluated on (recorded by name and SHA-256).
    #[arg(long, value_name = "FILE")]
    eval_data: Option<PathBuf>,
    /// What the model was trained on, in words (recorded).
    #[arg(long, value_name = "TEXT")]
    training_data: Option<String>,
    /// Promote without comparing (the first model of a tool without a default, a model a person vouches for).
    #[arg(long, conflicts_with = "active_report")]
    force: bool,
}

#[derive(Args)]
struct IngestArgs {
    /// JSON Lines file to read (default: stdin).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Write error records to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,
    /// Records per transaction.
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..))]
    batch_size: u32,
    /// Records larger than this become `too_large` error records.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    max_record_bytes: usize,
}

#[derive(Args)]
struct LinesArgs {
    /// JSON Lines file of records (default: stdin, unless --ticket is given).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Write error records to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,
}

#[derive(Args)]
struct CorrectArgs {
    /// Ticket id.
    #[arg(long, requires_all = ["tool", "label"], conflicts_with = "input")]
    ticket: Option<String>,
    /// The tool whose decision is corrected: sentiment, category, answer (the right article id), tags, priority, route, escalation.
    #[arg(long)]
    tool: Option<String>,
    /// The right label (e.g. the right category name).
    #[arg(long)]
    label: Option<String>,
    /// Who made the correction.
    #[arg(long, value_name = "WHO")]
    by: Option<String>,
    #[command(flatten)]
    lines: LinesArgs,
}

#[derive(Args)]
struct FeedbackArgs {
    /// Ticket id.
    #[arg(long, requires = "rating", conflicts_with = "input")]
    ticket: Option<String>,
    /// 1 (worst) to 5 (best).
    #[arg(long)]
    rating: Option<i64>,
    #[arg(long)]
    comment: Option<String>,
    /// Position (from 0) of the rated message in the ticket's transcript.
    #[arg(long, value_name = "POSITION")]
    message: Option<i32>,
    #[command(flatten)]
    lines: LinesArgs,
}

#[derive(Args)]
struct DueArgs {
    /// Also list tickets due within this time (e.g. 30m, 2h, 1d); breached ones always come out.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    within: SignedDuration,
    /// The current time (RFC 3339), for reproducible runs.
    #[arg(long, value_name = "RFC3339")]
    now: Option<Timestamp>,
}

#[derive(Args)]
struct MaintainArgs {
    /// Archive resolved or closed tickets untouched for this long (e.g. 90d).
    #[arg(long, value_name = "DURATION", default_value = "90d", value_parser = parse_duration)]
    archive_after: SignedDuration,
    /// Delete operation metrics older than this (e.g. 30d).
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = parse_duration)]
    metrics_retention: SignedDuration,
    /// The current time (RFC 3339), for reproducible runs.
    #[arg(long, value_name = "RFC3339")]
    now: Option<Timestamp>,
}

#[derive(Args)]
struct AgentsArgs {
    /// The agents file (YAML, or JSON when it ends in .json), as support-route --agents reads it.
    #[arg(long, value_name = "FILE")]
    file: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    support_cli::init_logging(cli.log_format);
    let db = &Server {
        url: cli.db,
        timeouts: cli.timeouts.timeouts(),
    };
    match cli.command {
        Command::Migrate => with_client(db, |client| {
            let report = support_store::migrate(client)?;
            print_json(&report)
        }),
        Command::Ingest(args) => ingest(db, &args),
        Command::Correct(args) => {
            let single = args.ticket.map(|ticket| Correction {
                ticket,
                tool: args.tool.unwrap_or_default(),
                label: args.label.unwrap_or_default(),
                by: args.by,
            });
            run_lines(db, single, &args.lines, support_store::review::correct)
        }
        Command::Feedback(args) => {
            let single = args.ticket.map(|ticket| Feedback {
                ticket,
                rating: args.rating.unwrap_or_default(),
                comment: args.comment,
                message: args.message,
                created_at: None,
            });
            run_lines(db, single, &args.lines, support_store::review::feedback)
        }
        Command::Due(args) => {
            let now = args.now.unwrap_or_else(Timestamp::now);
            let Ok(by) = now.checked_add(args.within) else {
                return support_cli::usage_error("--within is too far in the future");
            };
            let mut client = match db.connect() {
                Ok(client) => client,
                Err(e) => return fail(&e),
            };
            let mut output = BufWriter::new(io::stdout().lock());
            match support_store::due::due(&mut client, by, &mut output) {
                Ok(count) => {
                    tracing::info!(count, "due tickets");
                    ExitCode::from(exit::OK)
                }
                Err(e) => lines_failure(&e),
            }
        }
        Command::Maintain(args) => {
            let now = args.now.unwrap_or_else(Timestamp::now);
            let (Ok(archive_before), Ok(metrics_before)) = (
                now.checked_sub(args.archive_after),
                now.checked_sub(args.metrics_retention),
            ) else {
                return support_cli::usage_error(
                    "--archive-after or --metrics-retention is too long",
                );
            };
            with_client(db, |client| {
                let started = Instant::now();
                let report =
                    support_store::maintain::maintain(client, archive_before, metrics_before)?;
                support_store::record_operation(
                    client,
                    "support-store maintain",
                    started,
                    report.archived,
                    None,
                );
                print_json(&report)
            })
        }
        Command::Models(command) => models(db, command),
        Command::Agents(args) => {
            let roster = match support_agents::Roster::load(&args.file) {
                Ok(roster) => roster,
                Err(e) => return support_cli::usage_error(format_args!("{e:#}")),
            };
            with_client(db, |client| {
                let report = support_store::agents::load_agents(client, &roster)?;
                print_json(&report)
            })
        }
    }
}

/// The `--db` server and how long to wait for it.
struct Server {
    url: String,
    timeouts: Timeouts,
}

impl Server {
    fn connect(&self) -> Result<Client, StoreError> {
        support_store::connect_with(&self.url, self.timeouts)
    }

    /// [`Server::connect`] to a database with this binary's migrations.
    fn connect_current(&self) -> Result<Client, StoreError> {
        support_store::connect_current(&self.url, self.timeouts)
    }
}

fn with_client(
    db: &Server,
    work: impl FnOnce(&mut Client) -> Result<ExitCode, StoreError>,
) -> ExitCode {
    db.connect()
        .and_then(|mut client| work(&mut client))
        .unwrap_or_else(|e| fail(&e))
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<ExitCode, StoreError> {
    let mut out = io::stdout().lock();
    let written = serde_json::to_writer(&mut out, value)
        .map_err(io::Error::from)
        .and_then(|()| writeln!(out));
    Ok(match written {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => write_failure(&e),
    })
}

fn fail(error: &StoreError) -> ExitCode {
    print_error(error);
    ExitCode::from(error.exit_code())
}

fn ingest(db: &Server, args: &IngestArgs) -> ExitCode {
    let input = match support_cli::open_input(args.input.as_deref()) {
        Ok(input) => input,
        Err(code) => return code,
    };
    let mut errors_file = match support_cli::create_output(args.errors.as_deref()) {
        Ok(file) => file,
        Err(code) => return code,
    };
    let mut client = match db.connect() {
        Ok(client) => client,
        Err(e) => return fail(&e),
    };
    let mut stdout = BufWriter::new(io::stdout().lock());
    let errors: &mut dyn Write = match errors_file.as_mut() {
        Some(file) => file,
        None => &mut stdout,
    };
    let options = IngestOptions {
        batch_size: args.batch_size as usize,
        max_record_bytes: args.max_record_bytes,
    };
    let bar = progress_bar();
    let started = Instant::now();
    let result = support_store::ingest::ingest(&mut client, input, errors, &options, &|s| {
        if let Some(bar) = &bar {
            bar.set_position(s.records);
        }
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let code = match result {
        Ok(summary) => {
            support_store::record_operation(
                &mut client,
                "support-store ingest",
                started,
                summary.stored,
                None,
            );
            print_summary(&summary, started);
            if summary.failed > 0 {
                eprintln!(
                    "warning: {} of {} records failed; see the error records ({{\"error\": ...}})",
                    summary.failed, summary.records
                );
                exit::RECORDS_FAILED
            } else {
                exit::OK
            }
        }
        Err(e) => {
            print_error(&e);
            match e {
                IngestError::Input(_) => exit::INPUT,
                IngestError::Output(_) => exit::OUTPUT,
                IngestError::Store(e) => e.exit_code(),
                IngestError::Database { .. } => EXIT_DATABASE,
            }
        }
    };
    ExitCode::from(code)
}

fn print_summary(summary: &IngestSummary, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{}",
        serde_json::json!({"summary": {
            "records": summary.records,
            "stored": summary.stored,
            "failed": summary.failed,
            "batches": summary.batches,
            "seconds": (seconds * 1000.0).round() / 1000.0,
            "records_per_second": (summary.records as f64 / seconds.max(1e-9)).round(),
        }})
    );
}

/// A record counter on stderr, only when a person is watching it.
fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos} records stored ({per_sec}) {elapsed}",
        )
        .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

/// `correct` and `feedback`: one command from the flags, or JSON Lines.
fn run_lines<T, O>(
    db: &Server,
    single: Option<T>,
    args: &LinesArgs,
    apply: impl Fn(&mut Client, &T) -> Result<O, support_store::lines::Refusal>,
) -> ExitCode
where
    T: support_store::lines::Command,
    O: serde::Serialize,
{
    let mut errors_file = match support_cli::create_output(args.errors.as_deref()) {
        Ok(file) => file,
        Err(code) => return code,
    };
    let mut client = match db.connect_current() {
        Ok(client) => client,
        Err(e) => return fail(&e),
    };
    let mut stdout = BufWriter::new(io::stdout().lock());
    let errors = errors_file.as_mut().map(|f| f as &mut dyn Write);
    let result = match single {
        Some(command) => {
            support_store::lines::run_one(&command, &mut stdout, errors, |c| apply(&mut client, c))
        }
        None => {
            let mut input = match support_cli::open_input(args.input.as_deref()) {
                Ok(input) => input,
                Err(code) => return code,
            };
            support_store::lines::run_lines(&mut input, &mut stdout, errors, |c| {
                apply(&mut client, c)
            })
        }
    };
    match result {
        Ok(LinesSummary { failed: 0, .. }) => ExitCode::from(exit::OK),
        Ok(summary) => {
            eprintln!(
                "warning: {} of {} records failed; see the error records ({{\"error\": ...}})",
                summary.failed, summary.records
            );
            ExitCode::from(exit::RECORDS_FAILED)
        }
        Err(e) => lines_failure(&e),
    }
}

fn lines_failure(error: &LinesError) -> ExitCode {
    let code = match error {
        // A closed output (`| head -1`) stops quietly, as in every tool.
        LinesError::Output(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            return ExitCode::from(exit::OK)
        }
        LinesError::Input(_) => exit::INPUT,
        LinesError::Output(_) => exit::OUTPUT,
        LinesError::Store(e) => e.exit_code(),
    };
    print_error(error);
    ExitCode::from(code)
}

fn models(db: &Server, command: ModelsCommand) -> ExitCode {
    let result = (|| -> Result<ExitCode, ModelsError> {
        match command {
            ModelsCommand::Promote(args) => {
                let read_report =
                    |path: &std::path::Path| -> Result<serde_json::Value, ModelsError> {
                        let text =
                            std::fs::read_to_string(path).map_err(|source| ModelsError::Read {
                                path: path.to_path_buf(),
                                source,
                            })?;
                        serde_json::from_str(&text).map_err(|e| {
                            ModelsError::Refused(format!(
                                "{} is not an evaluation report (JSON): {e}",
                                path.display()
                            ))
                        })
                    };
                let eval_data = match &args.eval_data {
                    Some(path) => Some(format!(
                        "{} sha256:{}",
                        path.display(),
                        support_store::models::file_sha256(path)?
                    )),
                    None => None,
                };
                let candidate = support_store::models::Candidate {
                    tool: args.tool,
                    files: ModelFiles::read(&args.file)?,
                    report: read_report(&args.report)?,
                    against: match &args.active_report {
                        Some(path) => Against::Active(read_report(path)?),
                        None if args.against_baseline => Against::Baseline,
                        None => Against::Nothing,
                    },
                    training_data: args.training_data,
                    eval_data,
                };
                let mut client = db.connect_current()?;
                let promotion = support_store::models::promote(&mut client, &candidate)?;
                Ok(print_json(&promotion)?)
            }
            ModelsCommand::Rollback { tool, to } => {
                let mut client = db.connect_current()?;
                Ok(print_json(&support_store::models::rollback(
                    &mut client,
                    tool,
                    to,
                )?)?)
            }
            ModelsCommand::List { tool } => {
                let mut client = db.connect_current()?;
                let mut out = BufWriter::new(io::stdout().lock());
                for model in support_store::models::list(&mut client, tool)? {
                    let written = serde_json::to_writer(&mut out, &model)
                        .map_err(io::Error::from)
                        .and_then(|()| writeln!(out));
                    if let Err(e) = written {
                        return Ok(write_failure(&e));
                    }
                }
                Ok(match out.flush() {
                    Ok(()) => ExitCode::from(exit::OK),
                    Err(e) => write_failure(&e),
                })
            }
            ModelsCommand::Path { tool, cache_dir } => {
                let cache =
                    cache_dir.unwrap_or_else(|| support_core::suite_cache_dir().join("models"));
                let mut client = db.connect_current()?;
                let Some(path) = support_store::models::active_path(&mut client, tool, &cache)?
                else {
                    tracing::info!(
                        tool = tool.name(),
                        "no active model: the tool's embedded default"
                    );
                    return Ok(ExitCode::from(exit::OK));
                };
                let mut out = io::stdout().lock();
                Ok(match writeln!(out, "{}", path.display()) {
                    Ok(()) => ExitCode::from(exit::OK),
                    Err(e) => write_failure(&e),
                })
            }
        }
    })();
    result.unwrap_or_else(|e| {
        print_error(&e);
        ExitCode::from(e.exit_code())
    })
}

/// A closed output (`| head -1`) stops quietly; any other write error is exit 4.
fn write_failure(error: &io::Error) -> ExitCode {
    if error.kind() == io::ErrorKind::BrokenPipe {
        return ExitCode::from(exit::OK);
    }
    print_error(format_args!("cannot write output: {error}"));
    ExitCode::from(exit::OUTPUT)
}
