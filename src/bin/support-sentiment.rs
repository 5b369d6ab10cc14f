use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use support_cli::{self, CommonArgs, LabelledData, ReportFormat};
use support_embed::Embedder;
use support_model::{load_examples, TrainOptions};
use support_sentiment::trained::{self, SentimentModel};
use support_sentiment::{Analyzer, SentimentConfig, EMBEDDED_CONFIG};
use support_store::models::ModelTool;
use support_suite::store_models::StoreModelsArg;
use support_suite::training::{train_command, EmbeddingSource, TrainArgs, Trained};

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: support_suite::allocator::Mimalloc = support_suite::allocator::Mimalloc;

const EXAMPLE: &str = r#"  echo '{"id":"T-1","subject":"No funciona",
         "description":"Es la tercera vez que escribo y nadie responde!!!"}' \
    | support-sentiment
  support-sentiment < examples/tickets.jsonl | support-priority
  support-sentiment evaluate \
    --data ../shared/datasets/airline_sentiment_es/dev.csv
  support-sentiment train --out airline-es.model \
    --data ../shared/datasets/airline_sentiment_es/train.csv
  support-sentiment --model airline-es.model evaluate \
    --data ../shared/datasets/airline_sentiment_es/dev.csv"#;

/// Adds `sentiment` to each ticket: label, score in [-1, 1], frustration in [0, 1],
/// language, and the trend over a transcript, with reasons and a confidence.
#[derive(Parser)]
#[command(name = "support-sentiment", version, after_help = support_cli::after_help(EXAMPLE))]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Model from `support-sentiment train`: it decides label, score and
    /// confidence, reading the lexicon's verdict beside the words (default:
    /// the lexicon alone).
    #[arg(long, value_name = "MODEL", global = true)]
    model: Option<PathBuf>,
    #[command(flatten)]
    store_models: StoreModelsArg,
    /// Folder of the embedding model, for a model trained with embeddings
    /// (default: $SUPPORT_EMBEDDER, else where scripts/setup-models.sh installs it).
    #[arg(long, value_name = "DIR", global = true)]
    embedder: Option<PathBuf>,
    /// `train`: learn from the words and the lexicon alone, without embeddings.
    #[arg(long, env = "SUPPORT_LEXICAL", global = true, value_parser = clap::builder::FalseyValueParser::new())]
    lexical: bool,
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
    /// Train a model from labelled data (labels negative/neutral/positive) and write it to --out.
    Train(TrainArgs),
}

/// `train`'s defaults: of C = 0.5, 1, 2, 3, 10 and 30 on words and the
/// lexicon, and embedding scales 1, 2 and 4, the best macro-F1 on the last
/// fifth of each airline train split, trained on the rest.
fn train_defaults() -> TrainOptions {
    TrainOptions {
        c: 1.0,
        dense_scale: 2.0,
        ..TrainOptions::default()
    }
}

/// The analyzer of `config`, with the model of `--model` when given (and
/// the embedding model, when that model reads embeddings).
fn analyzer(cli: &Cli, config: SentimentConfig, model: Option<&Path>) -> anyhow::Result<Analyzer> {
    config.validate()?;
    let analyzer = Analyzer::new(config);
    let Some(path) = model else {
        return Ok(analyzer);
    };
    let model = SentimentModel::load(path, || {
        Ok(match cli.lexical {
            true => None,
            false => Embedder::open_if_installed(cli.embedder.as_deref())?.map(Arc::new),
        })
    })?;
    Ok(analyzer.with_model(model))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before any thread starts: each record worker embeds its own tickets;
    // training and evaluation spread their batches over the cores.
    if cli.command.is_none()
        && (cli.model.is_some() || cli.store_models.store_models)
        && !cli.lexical
    {
        support_embed::one_thread_per_call();
    } else {
        support_embed::one_thread_per_batch();
    }
    // A model trains on the lexicon's cues alone, never on another model's verdicts.
    let training = matches!(cli.command, Some(Command::Train(_)));
    let model =
        match cli
            .store_models
            .resolve_one(ModelTool::Sentiment, cli.model.clone(), training)
        {
            Ok(model) => model,
            Err(code) => return code,
        };
    let Some(command) = &cli.command else {
        return support_cli::run_tool(&cli.common, EMBEDDED_CONFIG, |c| {
            analyzer(&cli, c, model.as_deref())
        });
    };
    cli.common.init_logging();
    let data = match command {
        Command::Evaluate { data, .. } => data,
        Command::Train(train) => &train.data,
    };
    let analyzer = match cli
        .common
        .load_config(EMBEDDED_CONFIG)
        .map_err(anyhow::Error::from)
        .and_then(|config| analyzer(&cli, config, model.as_deref()))
    {
        Ok(a) => a,
        Err(e) => return support_cli::usage_error(format_args!("{e:#}")),
    };
    let examples = match load_examples(&data.data, &data.text, &data.label) {
        Ok(e) => e,
        Err(e) => return support_cli::usage_error(e),
    };
    match command {
        Command::Evaluate { format, .. } => {
            match support_sentiment::evaluate::evaluate(&analyzer, &examples) {
                Ok(report) => support_cli::print_report(&report, *format, |r| r.table()),
                Err(e) => support_cli::usage_error(format_args!("{}: {e:#}", data.data.display())),
            }
        }
        Command::Train(train) => {
            let source = EmbeddingSource {
                lexical: cli.lexical,
                embedder: cli.embedder.as_deref(),
                max_tokens: trained::EMBEDDING_TOKENS,
            };
            train_command(
                train,
                source,
                &examples,
                train_defaults(),
                |vectors, options, progress| {
                    let model = trained::train(&analyzer, &examples, vectors, options, progress)?;
                    Ok(Trained {
                        bytes: model.to_bytes(),
                        labels: model.labels().len(),
                    })
                },
            )
        }
    }
}
