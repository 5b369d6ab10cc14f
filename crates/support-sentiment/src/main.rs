use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use support_core::cli::{self, CommonArgs};
use support_sentiment::{Analyzer, SentimentConfig, DEFAULT_CONFIG};

const EXAMPLE: &str = r#"  echo '{"id":"T-1","subject":"No funciona","description":"Es la tercera vez que escribo y nadie responde!!!"}' | support-sentiment
  cat examples/tickets.jsonl | support-sentiment | support-priority
  support-sentiment evaluate --data ../shared/datasets/airline_sentiment_es/dev.csv"#;

/// Adds `sentiment` to each ticket: label, score in [-1, 1], frustration in [0, 1],
/// language, and the trend over a transcript, with reasons and a confidence.
#[derive(Parser)]
#[command(name = "support-sentiment", version, after_help = cli::after_help(EXAMPLE))]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Score a labelled CSV (columns `text,label`; labels negative/neutral/positive) and print accuracy and macro-F1 as JSON.
    Evaluate {
        /// CSV file with a header naming the text and label columns.
        #[arg(long, value_name = "FILE.csv")]
        data: std::path::PathBuf,
        /// Column holding the text.
        #[arg(long, default_value = "text")]
        text: String,
        /// Column holding the label.
        #[arg(long, default_value = "label")]
        label: String,
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Table,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => cli::run_tool(&cli.common, DEFAULT_CONFIG, |c: SentimentConfig| {
            c.validate()?;
            Ok(Analyzer::new(c))
        }),
        Some(Command::Evaluate {
            data,
            text,
            label,
            format,
        }) => {
            cli.common.init_logging();
            let config: SentimentConfig = match cli.common.load_config() {
                Ok(c) => c,
                Err(e) => return cli::usage_error(e),
            };
            if let Err(e) = config.validate() {
                return cli::usage_error(e);
            }
            let examples = match support_model::load_examples(&data, &text, &label) {
                Ok(e) => e,
                Err(e) => return cli::usage_error(e),
            };
            match support_sentiment::evaluate::evaluate(&Analyzer::new(config), &examples) {
                Ok(report) => {
                    match format {
                        Format::Json => println!(
                            "{}",
                            serde_json::to_string_pretty(&report).expect("report serializes")
                        ),
                        Format::Table => print!("{}", report.table()),
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => cli::usage_error(format_args!("{}: {e:#}", data.display())),
            }
        }
    }
}
