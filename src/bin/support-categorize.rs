use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use support_categorize::{evaluate, CategorizeConfig, Categorizer, EMBEDDED_CONFIG};
use support_cli::{self, CommonArgs, LabelledData, ReportFormat};
use support_embed::Embedder;
use support_model::{load_examples, train_on_features, TrainOptions, VoteSettings};
use support_store::models::ModelTool;
use support_suite::store_models::StoreModelsArg;
use support_suite::training::{train_command, EmbeddingSource, TrainArgs, Trained};
use support_text::tokenize;

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: support_suite::allocator::Mimalloc = support_suite::allocator::Mimalloc;

const EXAMPLE: &str = r#"  echo '{"id":"T-9","subject":"Reembolso",
         "description":"Quiero que me devuelvan el dinero"}' \
    | support-categorize
  support-categorize --lexical < examples/tickets.jsonl  # no embeddings
  support-categorize train --data history.csv --text text --label category \
    --out team.model
  support-categorize evaluate --label intent --format table \
    --data ../shared/datasets/bitext_cs_20k/dev.csv
  support-categorize --model team.model \
    --ml-url http://127.0.0.1:8080/classify < examples/tickets.jsonl"#;

/// Adds `category` to each ticket: name, subcategory (intent), confidence, alternatives,
/// `needs_review`, and the words or rules that decided.
#[derive(Parser)]
#[command(name = "support-categorize", version, after_help = support_cli::after_help(EXAMPLE))]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Model file from `support-categorize train` (default: the embedded model).
    #[arg(long, value_name = "MODEL", global = true)]
    model: Option<PathBuf>,
    #[command(flatten)]
    store_models: StoreModelsArg,
    /// Classification service to ask first (contract in schemas/remote-*.schema.json); the local model is the fallback.
    #[arg(long, value_name = "URL", env = "SUPPORT_ML_URL")]
    ml_url: Option<String>,
    /// Folder of the embedding model (default: $SUPPORT_EMBEDDER, else where
    /// scripts/setup-models.sh installs it; without it the lexical path runs).
    #[arg(long, value_name = "DIR", global = true)]
    embedder: Option<PathBuf>,
    /// Lexical path only (model and rules): no embeddings, over 100x faster.
    #[arg(long, env = "SUPPORT_LEXICAL", global = true, value_parser = clap::builder::FalseyValueParser::new())]
    lexical: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model from labelled CSV (with header) or JSON Lines and write it to --out.
    Train {
        #[command(flatten)]
        args: TrainArgs,
        /// Share of each prediction from the vote of the training texts nearest the ticket,
        /// whose embeddings the model then keeps (0: no vote, a smaller model). Only with
        /// the embeddings.
        #[arg(long, default_value_t = VOTE.weight)]
        vote_weight: f32,
    },
    /// Evaluate on labelled data: accuracy, macro-F1, per-class figures, confusions, review threshold.
    Evaluate {
        #[command(flatten)]
        data: LabelledData,
        /// Precision the review threshold must reach.
        #[arg(long, default_value_t = 0.9)]
        target_precision: f64,
        #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
        format: ReportFormat,
    },
}

/// How the nearest training texts vote: neighbours and temperature chosen
/// by scripts/bench/tune-categorize-vote.sh, the weight by
/// scripts/bench/tune-categorize-train.sh (five folds of Banking77's train
/// split).
const VOTE: VoteSettings = VoteSettings {
    neighbours: 10,
    temperature: 0.02,
    weight: 0.3,
};

/// `train`'s defaults: with embeddings (C = 10), scale 3 weighs them best
/// on every fifth row of Banking77's train split, trained on the rest
/// (scripts/bench/tune-categorize-train.sh); the nearest texts vote with
/// `vote_weight` (none at 0).
fn train_defaults(vote_weight: f32) -> TrainOptions {
    TrainOptions {
        dense_scale: 3.0,
        neighbours: (vote_weight != 0.0).then_some(VoteSettings {
            weight: vote_weight,
            ..VOTE
        }),
        ..TrainOptions::default()
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before any thread starts: each record worker embeds its own tickets;
    // training and evaluation spread their batches over the cores.
    if !cli.lexical && cli.command.is_none() {
        support_embed::one_thread_per_call();
    } else {
        support_embed::one_thread_per_batch();
    }
    let training = matches!(cli.command, Some(Command::Train { .. }));
    let model =
        match cli
            .store_models
            .resolve_one(ModelTool::Categorize, cli.model.clone(), training)
        {
            Ok(model) => model,
            Err(code) => return code,
        };
    let build = |config: CategorizeConfig| {
        let categorizer = Categorizer::load(config, model.as_deref())?;
        let categorizer = if cli.lexical {
            categorizer.lexical_on_request()
        } else {
            let embedder = Embedder::open_if_installed(cli.embedder.as_deref())?;
            categorizer.with_embedding_model(embedder.map(Arc::new))?
        };
        Ok(match &cli.ml_url {
            Some(url) => categorizer.with_remote(url),
            None => categorizer,
        })
    };
    match &cli.command {
        None => support_cli::run_tool(&cli.common, EMBEDDED_CONFIG, build),
        Some(Command::Train {
            args: train,
            vote_weight,
        }) => {
            cli.common.init_logging();
            let examples =
                match load_examples(&train.data.data, &train.data.text, &train.data.label) {
                    Ok(e) => e,
                    Err(e) => return support_cli::usage_error(e),
                };
            let config: CategorizeConfig = match cli.common.load_config(EMBEDDED_CONFIG) {
                Ok(c) => c,
                Err(e) => return support_cli::usage_error(e),
            };
            let source = EmbeddingSource {
                lexical: cli.lexical,
                embedder: cli.embedder.as_deref(),
                max_tokens: config.embeddings.max_tokens,
            };
            train_command(
                train,
                source,
                &examples,
                train_defaults(*vote_weight),
                |vectors, options, progress| {
                    let model =
                        train_on_features(&examples, &|t| tokenize(t), vectors, options, progress)?;
                    Ok(Trained {
                        bytes: model.to_bytes(),
                        labels: model.labels().len(),
                    })
                },
            )
        }
        Some(Command::Evaluate {
            data,
            target_precision,
            format,
        }) => {
            cli.common.init_logging();
            let config = match cli.common.load_config(EMBEDDED_CONFIG) {
                Ok(c) => c,
                Err(e) => return support_cli::usage_error(e),
            };
            let categorizer = match build(config) {
                Ok(c) => c,
                Err(e) => return support_cli::usage_error(format_args!("{e:#}")),
            };
            let examples = match load_examples(&data.data, &data.text, &data.label) {
                Ok(e) => e,
                Err(e) => return support_cli::usage_error(e),
            };
            match evaluate::evaluate(&categorizer, &examples, *target_precision) {
                Ok(evaluation) => support_cli::print_report(&evaluation, *format, evaluate::table),
                Err(e) => support_cli::usage_error(format_args!("{e:#}")),
            }
        }
    }
}
