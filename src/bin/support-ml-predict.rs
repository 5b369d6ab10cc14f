use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use support_cli::{self, CommonArgs, ReportFormat};
use support_ml_predict::evaluate::{evaluate, table};
use support_ml_predict::history::{History, Source, Window};
use support_ml_predict::model::Model;
use support_ml_predict::train::progress_steps;
use support_ml_predict::{train, MlPredictConfig, Predictor, EMBEDDED_CONFIG};
use support_store::models::ModelTool;
use support_suite::store_models::StoreModelsArg;

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: support_suite::allocator::Mimalloc = support_suite::allocator::Mimalloc;

const EXAMPLE: &str = r#"  support-ml-predict train --data examples/history.jsonl \
    --feedback examples/feedback.jsonl --out team.model
  support-triage --agents examples/agents.yaml < examples/tickets.jsonl \
    | support-ml-predict --model team.model --agents examples/agents.yaml
  support-ml-predict train --out itsm.model \
    --data ../shared/datasets/itsm_incidents/train.csv
  support-ml-predict evaluate --model itsm.model --format table \
    --data ../shared/datasets/itsm_incidents/dev.csv
  support-ml-predict train --out team.model \
    --db postgres://postgres@127.0.0.1:5432/support
  echo '{"id":"T-1","subject":"Caída total","priority":{"level":"urgent"}}' \
    | support-ml-predict"#;

/// Adds `predictions` to each ticket: resolution minutes with an interval, the
/// probability of breaching the resolution SLA, the expected rating, and the
/// group and agent to assign, each with a confidence and the features that
/// moved it, from a model trained on your closed tickets (`train`). Without
/// --model: embedded priors per priority, marked "source": "default".
#[derive(Parser)]
#[command(name = "support-ml-predict", version, after_help = support_cli::after_help(EXAMPLE))]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    store_models: StoreModelsArg,
    /// Model file from `support-ml-predict train` (default: the embedded priors, not learned).
    #[arg(long, value_name = "MODEL", global = true)]
    model: Option<PathBuf>,
    /// Agents file as support-route reads it (examples/agents.yaml): their current
    /// load and capacity weigh the agent recommendation.
    #[arg(long, value_name = "FILE")]
    agents: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Closed tickets to learn from or to evaluate on.
#[derive(Args)]
#[group(required = true, multiple = false)]
struct Data {
    /// CSV with a header row, or JSON Lines (.jsonl): e.g. the pipeline's output
    /// with `resolved_at`, or ../shared/datasets/itsm_incidents/train.csv.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// PostgreSQL URL of the support-store database: its resolved and closed
    /// tickets (live and archived), with the mean rating of their feedback.
    /// `--db` alone reads the URL from DATABASE_URL (else the local default, as
    /// support-store), which keeps a password out of the command line.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    db: Option<String>,
}

/// A time split of the tickets: train on those opened before a cut, evaluate
/// on those opened since. The others still count towards the team's load.
#[derive(Args, Clone, Copy)]
struct OpenedWindow {
    /// Only tickets opened at or after this time (RFC 3339), e.g. the last four
    /// weeks to evaluate on.
    #[arg(long, value_name = "TIME")]
    opened_since: Option<jiff::Timestamp>,
    /// Only tickets opened before this time (RFC 3339), e.g. all but the last
    /// four weeks to train on.
    #[arg(long, value_name = "TIME")]
    opened_before: Option<jiff::Timestamp>,
}

#[derive(Args)]
struct Ratings {
    /// Ratings for --data: JSON Lines of {"ticket_id", "rating"} (as support-store
    /// feedback takes them); each ticket's mean rating is its csat.
    #[arg(long, value_name = "FILE", requires = "data")]
    feedback: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Learn from closed tickets and write the model to --out; prints a JSON summary.
    Train {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        window: OpenedWindow,
        #[command(flatten)]
        ratings: Ratings,
        /// Format (field mapping) of the configuration to read the data with
        /// (default: detected from the fields; see --print-config).
        #[arg(long, value_name = "NAME")]
        fields: Option<String>,
        /// Where to write the model.
        #[arg(long, value_name = "MODEL")]
        out: PathBuf,
    },
    /// Score --model on held-out closed tickets, next to naive baselines.
    Evaluate {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        window: OpenedWindow,
        #[command(flatten)]
        ratings: Ratings,
        /// Format of the data (default: the model's).
        #[arg(long, value_name = "NAME")]
        fields: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
        format: ReportFormat,
        /// More tickets (CSV or JSON Lines, not those of --data) that count
        /// towards the team's load when each evaluated ticket opened: the rest
        /// of the history when --data is a sample of it, as the store counts.
        #[arg(long, value_name = "FILE")]
        load_context: Option<PathBuf>,
    },
}

impl OpenedWindow {
    fn window(self) -> Window {
        Window {
            since: self.opened_since,
            before: self.opened_before,
        }
    }
}

impl Data {
    fn source(&self, ratings: &Ratings) -> Source {
        match (&self.data, &self.db) {
            (Some(path), _) => Source::File {
                path: path.clone(),
                feedback: ratings.feedback.clone(),
            },
            (None, Some(url)) if url.is_empty() => Source::Database(support_store::url_from_env()),
            (None, Some(url)) => Source::Database(url.clone()),
            (None, None) => unreachable!("clap requires --data or --db"),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let training = matches!(cli.command, Some(Command::Train { .. }));
    let model =
        match cli
            .store_models
            .resolve_one(ModelTool::MlPredict, cli.model.clone(), training)
        {
            Ok(model) => model,
            Err(code) => return code,
        };
    match &cli.command {
        None => support_cli::run_tool(&cli.common, EMBEDDED_CONFIG, |config: MlPredictConfig| {
            Predictor::load(config, model.as_deref(), cli.agents.as_deref())
        }),
        Some(Command::Train {
            data,
            window,
            ratings,
            fields,
            out,
        }) => {
            cli.common.init_logging();
            let config: MlPredictConfig = match cli.common.load_config(EMBEDDED_CONFIG) {
                Ok(c) => c,
                Err(e) => return support_cli::usage_error(e),
            };
            let history = match History::load(
                &data.source(ratings),
                window.window(),
                &config,
                fields.as_deref(),
                None,
                None,
            ) {
                Ok(h) => h,
                Err(e) => {
                    support_cli::print_error(&e);
                    return ExitCode::from(e.exit_code());
                }
            };
            let format = config
                .format(&history.schema.format)
                .expect("the history was read with a format of this configuration");
            let started = Instant::now();
            let progress = ProgressBar::new(progress_steps(&config.training));
            progress.set_style(
                ProgressStyle::with_template("training {bar:40} {pos}/{len} steps, {elapsed}")
                    .expect("a valid template"),
            );
            let (model, seconds_by_model) =
                match train(&history, format, &config.training, &progress) {
                    Ok(trained) => trained,
                    Err(e) => return support_cli::usage_error(e),
                };
            progress.finish_and_clear();
            let bytes = model.to_json();
            if let Err(code) = support_cli::write_output_file(out, &bytes) {
                return code;
            }
            let summary = serde_json::json!({
                "model": out.display().to_string(),
                "data": history.origin,
                "format": model.schema.format,
                "examples": model.trained.examples,
                "learned": {
                    "resolution_minutes": model.resolution.is_some(),
                    "sla_breach": model.sla_breach.is_some(),
                    "csat": model.csat.is_some(),
                    "group": model.group.is_some(),
                    "agent": model.agent.is_some(),
                },
                "bytes": bytes.len(),
                "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
                "seconds_by_model": seconds_by_model
                    .into_iter()
                    .map(|(target, s)| (target.to_string(), serde_json::json!(s)))
                    .collect::<serde_json::Map<_, _>>(),
            });
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Some(Command::Evaluate {
            data,
            window,
            ratings,
            fields,
            format,
            load_context,
        }) => {
            cli.common.init_logging();
            let Some(model_path) = &model else {
                return support_cli::usage_error(
                    "evaluate needs --model MODEL: train one first with `support-ml-predict train --data FILE --out MODEL`",
                );
            };
            let config: MlPredictConfig = match cli.common.load_config(EMBEDDED_CONFIG) {
                Ok(c) => c,
                Err(e) => return support_cli::usage_error(e),
            };
            let model = match Model::load(model_path) {
                Ok(m) => m,
                Err(e) => return support_cli::usage_error(e),
            };
            let context = load_context.as_ref().map(|path| Source::File {
                path: path.clone(),
                feedback: None,
            });
            let history = match History::load(
                &data.source(ratings),
                window.window(),
                &config,
                fields.as_deref(),
                Some(&model.schema),
                context.as_ref(),
            ) {
                Ok(h) => h,
                Err(e) => {
                    support_cli::print_error(&e);
                    return ExitCode::from(e.exit_code());
                }
            };
            let evaluation = evaluate(&model, &model_path.display().to_string(), &history);
            support_cli::print_report(&evaluation, *format, table)
        }
    }
}
