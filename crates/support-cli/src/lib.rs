//! Flags every tool shares, logging, exit codes, and the `main` of a tool.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use jiff::Timestamp;
use serde::de::DeserializeOwned;

use support_core::config::{self, Embedded};
use support_core::{Context, Stage};
use support_runner::{RunError, RunOptions, Summary};

pub use kestra::kestra_lines;

mod kestra;
mod log_writer;

/// Exit codes, the same for every tool.
pub mod exit {
    /// Every record was processed.
    pub const OK: u8 = 0;
    /// Some records failed; each has an error record in its place (or in `--errors`).
    pub const RECORDS_FAILED: u8 = 1;
    /// Bad command line, configuration or auxiliary file (agents, data): nothing was processed.
    pub const USAGE: u8 = 2;
    /// The input could not be read at all (an I/O error). A broken JSON array
    /// is not this: its elements before the break are processed, and an
    /// error record says where it broke.
    pub const INPUT: u8 = 3;
    /// The output or the errors file could not be written.
    pub const OUTPUT: u8 = 4;
    /// The database (`--db`, `DATABASE_URL`) could not be reached, lost the
    /// connection, or is not migrated; work of batches not committed is undone.
    pub const DATABASE: u8 = 5;
}

/// The exit-code table for `--help` and the README.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  every record was processed
  1  some records failed: each has an error record {\"error\": {kind, message, line, field, id}}
     in its place, or in --errors FILE
  2  bad command line, configuration file or auxiliary file; nothing was processed
  3  the input could not be read at all (an I/O error; a broken JSON array keeps its elements
     before the break and ends with an error record, code 1)
  4  the output or the errors file could not be written
  5  the database could not be reached or timed out, lost the connection, refused the work
     (its message and SQLSTATE are printed) or is not migrated (tools with --db)
A closed output (e.g. `| head -1`) stops the tool quietly with code 0.";

/// Builds the `--help` epilogue: the tool's example, then the exit codes.
pub fn after_help(example: &str) -> String {
    format!("Example:\n{example}\n\nInput is one JSON object, a JSON array, or JSON Lines (streamed); output keeps the form.\n\n{EXIT_CODES_HELP}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Flags shared by every tool.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// YAML file naming only what it changes: merged onto the embedded default (maps key by
    /// key, lists replaced). --print-config shows the result.
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Print the configuration the tool would run with (YAML) and exit: the embedded default,
    /// or with --config the file merged onto it.
    #[arg(long)]
    pub print_config: bool,

    /// Fix the clock for everything time-based (SLA, ticket age, working hours), e.g. 2024-05-01T10:00:00Z.
    #[arg(long, value_name = "RFC3339", global = true)]
    pub now: Option<Timestamp>,

    /// Write error records to FILE (JSON Lines) instead of in place on stdout (support-export:
    /// instead of stderr, since its stdout is the export).
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,

    /// Log format on stderr; the level comes from RUST_LOG (default: warn).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", default_value_t = 0, hide_default_value = true)]
    pub threads: usize,

    /// Records larger than this become `too_large` error records.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub max_record_bytes: usize,

    /// After the run, print the counts as Kestra `::{"outputs":..}::` and `::{"metrics":..}::` lines (on stderr).
    #[arg(long)]
    pub kestra: bool,
}

impl CommonArgs {
    /// The clock: `--now`, or the time the process started.
    pub fn context(&self) -> Context {
        Context {
            now: self.now.unwrap_or_else(Timestamp::now),
        }
    }

    /// Starts logging to stderr. Safe to call more than once.
    pub fn init_logging(&self) {
        init_logging(self.log_format);
    }

    /// Loads the configuration: `--config` merged onto `embedded` (the tool's
    /// default YAML), or the embedded default (`C::default()`).
    pub fn load_config<C: DeserializeOwned + Default>(
        &self,
        embedded: Embedded<'_>,
    ) -> Result<C, config::ConfigError> {
        config::load(self.config.as_deref(), embedded)
    }

    /// `--print-config`: prints the effective configuration (see
    /// [`config::effective_yaml`]) and gives the exit code.
    pub fn print_config<C: DeserializeOwned>(&self, embedded: Embedded<'_>) -> ExitCode {
        let yaml = match config::effective_yaml::<C>(self.config.as_deref(), embedded) {
            Ok(yaml) => yaml,
            Err(e) => return usage_error(e),
        };
        match io::stdout().write_all(yaml.as_bytes()) {
            Ok(()) => ExitCode::from(exit::OK),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::from(exit::OK),
            Err(e) => {
                print_error(format_args!("cannot write output: {e}"));
                ExitCode::from(exit::OUTPUT)
            }
        }
    }
}

/// Starts logging to stderr in `format`, the level from `RUST_LOG` (default
/// `warn`), each event on one line whatever the logged values contain (see
/// `log_writer.rs`). Safe to call more than once.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let ansi = format == LogFormat::Text && io::IsTerminal::is_terminal(&io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(crate::log_writer::OneLine::new(io::stderr, ansi));
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// A labelled data file and the columns (CSV) or fields (JSON Lines) to read,
/// as `train` and `evaluate` subcommands take them.
#[derive(Debug, Clone, Args)]
pub struct LabelledData {
    /// CSV with a header row, or JSON Lines (.jsonl).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Column or field holding the text.
    #[arg(long, default_value = "text")]
    pub text: String,
    /// Column or field holding the label.
    #[arg(long, default_value = "label")]
    pub label: String,
}

/// How an evaluation report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Json,
    Table,
}

/// Prints `report` as pretty JSON, or as the table `table` renders.
pub fn print_report<R: serde::Serialize>(
    report: &R,
    format: ReportFormat,
    table: impl FnOnce(&R) -> String,
) -> ExitCode {
    match format {
        ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(report).expect("reports serialize")
        ),
        ReportFormat::Table => print!("{}", table(report)),
    }
    ExitCode::from(exit::OK)
}

/// Prints `level: message` on stderr, outside the logs. The message may
/// quote input (a database error quoting a ticket's value), so each of its
/// lines after the first is indented and control characters are escaped:
/// no line of it can pass for a Kestra `::{...}::` line.
pub fn print_message(level: &str, message: impl std::fmt::Display) {
    let text = crate::log_writer::message(level, &message.to_string());
    // Nowhere left to report a failure to write to stderr.
    let _ = io::stderr().write_all(text.as_bytes());
}

/// Prints an error that ends the run (see [`print_message`]).
pub fn print_error(message: impl std::fmt::Display) {
    print_message("error", message);
}

/// Writes a file the command produces (a trained model); on failure, says so
/// and gives the exit code for an unwritable output.
/// The input: `path`, else stdin; buffered. A file that cannot be opened is
/// exit code 3, said on stderr.
pub fn open_input(
    path: Option<&std::path::Path>,
) -> Result<Box<dyn std::io::BufRead + Send>, ExitCode> {
    match path {
        None => Ok(Box::new(BufReader::with_capacity(256 << 10, io::stdin()))),
        Some(path) => File::open(path)
            .map(|f| {
                Box::new(BufReader::with_capacity(256 << 10, f)) as Box<dyn std::io::BufRead + Send>
            })
            .map_err(|e| {
                print_error(format_args!("cannot open input {}: {e}", path.display()));
                ExitCode::from(exit::INPUT)
            }),
    }
}

/// An output file a flag names, created and buffered; `None` without the
/// flag. A file that cannot be created is exit code 4, said on stderr.
pub fn create_output(path: Option<&std::path::Path>) -> Result<Option<BufWriter<File>>, ExitCode> {
    path.map(|path| {
        File::create(path).map(BufWriter::new).map_err(|e| {
            print_error(format_args!("cannot create {}: {e}", path.display()));
            ExitCode::from(exit::OUTPUT)
        })
    })
    .transpose()
}

pub fn write_output_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), ExitCode> {
    std::fs::write(path, bytes).map_err(|e| {
        print_error(format_args!("cannot write {}: {e}", path.display()));
        ExitCode::from(exit::OUTPUT)
    })
}

/// Prints a usage-level error (bad flag value, config, auxiliary file) and gives code 2.
pub fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    print_error(message);
    ExitCode::from(exit::USAGE)
}

/// The whole life of a ticket tool: logging, `--print-config` (the effective
/// configuration; `embedded_config` is the YAML that `C::default()` reads), configuration, then
/// stdin to stdout. `build` turns the configuration into the stage to run.
pub fn run_tool<C, S, F>(common: &CommonArgs, embedded_config: Embedded<'_>, build: F) -> ExitCode
where
    C: DeserializeOwned + Default,
    S: Stage,
    F: FnOnce(C) -> anyhow::Result<S>,
{
    common.init_logging();
    if common.print_config {
        return common.print_config::<C>(embedded_config);
    }
    let config: C = match common.load_config(embedded_config) {
        Ok(c) => c,
        Err(e) => {
            return usage_error(format_args!(
                "{e}\nhint: `--print-config` prints a valid configuration to start from"
            ))
        }
    };
    let stage = match build(config) {
        Ok(s) => s,
        Err(e) => return usage_error(format_args!("{e:#}")),
    };
    let code = run_stdio(common, &stage);
    // The process ends here: freeing the stage's lexicons, rules and model
    // piece by piece would cost a single ticket's run a tenth of its time.
    std::mem::forget(stage);
    code
}

/// Runs a stage from stdin to stdout with the shared flags, and maps the
/// result to an exit code.
pub fn run_stdio(common: &CommonArgs, stage: &dyn Stage) -> ExitCode {
    let opts = RunOptions {
        ctx: common.context(),
        max_record_bytes: common.max_record_bytes,
        threads: common.threads,
    };
    let mut errors_file = match &common.errors {
        None => None,
        Some(path) => match File::create(path) {
            Ok(f) => Some(BufWriter::new(f)),
            Err(e) => {
                print_error(format_args!(
                    "cannot create errors file {}: {e}",
                    path.display()
                ));
                return ExitCode::from(exit::OUTPUT);
            }
        },
    };
    let input = BufReader::with_capacity(256 << 10, io::stdin());
    let mut output =
        BufWriter::with_capacity(support_runner::OUTPUT_BUFFER_BYTES, io::stdout().lock());
    let result = support_runner::run(
        stage,
        &opts,
        input,
        &mut output,
        errors_file.as_mut().map(|f| f as &mut dyn Write),
    );
    if let (true, Ok(summary)) = (common.kestra, &result) {
        let program = std::env::args_os().next().unwrap_or_default();
        let tool = std::path::Path::new(&program)
            .file_name()
            .unwrap_or_default();
        eprint!("{}", kestra_lines(&tool.to_string_lossy(), summary));
    }
    exit_code(result)
}

fn exit_code(result: Result<Summary, RunError>) -> ExitCode {
    match result {
        Ok(summary) => {
            tracing::info!(records = summary.records, failed = summary.failed, "done");
            if summary.failed > 0 && !summary.output_closed {
                print_message(
                    "warning",
                    format_args!(
                        "{} of {} records failed; see the error records ({{\"error\": ...}})",
                        summary.failed, summary.records
                    ),
                );
                ExitCode::from(exit::RECORDS_FAILED)
            } else {
                ExitCode::from(exit::OK)
            }
        }
        Err(e @ RunError::Input(_)) => {
            print_error(e);
            ExitCode::from(exit::INPUT)
        }
        Err(e @ RunError::Output(_)) => {
            print_error(e);
            ExitCode::from(exit::OUTPUT)
        }
    }
}
