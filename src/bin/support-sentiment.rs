use std::process::ExitCode;

use clap::{Parser, Subcommand};
use support_cli::{self, CommonArgs, LabelledData, ReportFormat};
use support_sentiment::{Analyzer, SentimentConfig, EMBEDDED_CONFIG};

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXAMPLE: &str = r#"  echo '{"id":"T-1","subject":"No funciona",
         "description":"Es la tercera vez que escribo y nadie responde!!!"}' \
    | support-sentiment
  support-sentiment < examples/tickets.jsonl | support-priority
  support-sentiment evaluate \
    --data ../shared/datasets/airline_sentiment_es/dev.csv"#;

/// Adds `sentiment` to each ticket: label, score in [-1, 1], frustration in [0, 1],
/// language, and the trend over a transcript, with reasons and a confidence.
#[derive(Parser)]
#[command(name = "support-sentiment", version, after_help = support_cli::after_help(EXAMPLE))]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Score labelled data (CSV with a header, or JSON Lines; labels negative/neutral/positive): accuracy, macro-F1, per-class figures.
    Evaluate {
        #[command(flatten)]
        data: LabelledData,
        #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
        format: ReportFormat,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => support_cli::run_tool(&cli.common, EMBEDDED_CONFIG, |c: SentimentConfig| {
            c.validate()?;
            Ok(Analyzer::new(c))
        }),
        Some(Command::Evaluate { data, format }) => {
            cli.common.init_logging();
            let config: SentimentConfig = match cli.common.load_config(EMBEDDED_CONFIG) {
                Ok(c) => c,
                Err(e) => return support_cli::usage_error(e),
            };
            if let Err(e) = config.validate() {
                return support_cli::usage_error(e);
            }
            let examples = match support_model::load_examples(&data.data, &data.text, &data.label) {
                Ok(e) => e,
                Err(e) => return support_cli::usage_error(e),
            };
            match support_sentiment::evaluate::evaluate(&Analyzer::new(config), &examples) {
                Ok(report) => support_cli::print_report(&report, format, |r| r.table()),
                Err(e) => support_cli::usage_error(format_args!("{}: {e:#}", data.data.display())),
            }
        }
    }
}
