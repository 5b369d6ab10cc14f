use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use support_cli::{self, CommonArgs};
use support_core::config::Embedded;
use support_store::models::ModelTool;
use support_suite::chain::{
    default_config, default_config_json, pipeline, Resources, TriageConfig,
};
use support_suite::store_models::StoreModelsArg;

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: support_suite::allocator::Mimalloc = support_suite::allocator::Mimalloc;

const EXAMPLE: &str = r#"  support-triage --agents examples/agents.yaml < examples/tickets.jsonl \
    > triaged.jsonl
  support-triage --print-config > triage.yaml  # one section per tool
  echo '{"subject":"No puedo acceder","description":"Error al entrar"}' \
    | support-triage"#;

/// Runs sentiment, categorize, tags, priority, route and escalate in one process (and
/// support-answer after categorize with --index): the same keys as piping the tools, for
/// engines that want one step and for speed.
#[derive(Parser)]
#[command(name = "support-triage", version, after_help = support_cli::after_help(EXAMPLE))]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    /// Agents file for route's recommendations (see examples/agents.yaml).
    #[arg(long, value_name = "FILE")]
    agents: Option<PathBuf>,
    /// Categorizer model file (default: the embedded model).
    #[arg(long, value_name = "MODEL")]
    model: Option<PathBuf>,
    /// Classification service for the categorizer, with the local model as fallback.
    #[arg(long, value_name = "URL", env = "SUPPORT_ML_URL")]
    ml_url: Option<String>,
    /// Knowledge-base index from `support-answer index`: adds `answer` after categorize.
    #[arg(long, value_name = "DIR")]
    index: Option<PathBuf>,
    /// Folder of the embedding model categorize and answer use (default: $SUPPORT_EMBEDDER, else
    /// where scripts/setup-models.sh installs it).
    #[arg(long, value_name = "DIR")]
    embedder: Option<PathBuf>,
    /// Categorize on the lexical path only (model and rules, no embeddings): over 100x faster.
    #[arg(long, env = "SUPPORT_LEXICAL", value_parser = clap::builder::FalseyValueParser::new())]
    lexical: bool,
    /// Sentiment model from `support-sentiment train` (default: the lexicon alone).
    #[arg(long, value_name = "MODEL")]
    sentiment_model: Option<PathBuf>,
    #[command(flatten)]
    store_models: StoreModelsArg,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The store may hold an index: decided before the connection starts threads.
    if cli.index.is_some() || cli.store_models.store_models || !cli.lexical {
        // Before any thread starts: each record worker embeds its own tickets.
        support_embed::one_thread_per_call();
    }
    // The knowledge base's index comes from the store only when it holds one:
    // answering is a stage of its own, on only with an index.
    let [model, sentiment_model, index] = match cli.store_models.resolve([
        (ModelTool::Categorize, cli.model),
        (ModelTool::Sentiment, cli.sentiment_model),
        (ModelTool::Answer, cli.index),
    ]) {
        Ok(models) => models,
        Err(code) => return code,
    };
    let resources = Resources {
        agents: cli.agents,
        model,
        ml_url: cli.ml_url,
        index,
        embedder: cli.embedder,
        lexical: cli.lexical,
        sentiment_model,
    };
    // Assembled from every tool's default, and read only with --config or
    // --print-config: a start without them does not pay for it.
    let (yaml, json) = match cli.common.config.is_some() || cli.common.print_config {
        true => (default_config(), default_config_json()),
        false => (String::new(), String::new()),
    };
    let embedded = Embedded {
        yaml: &yaml,
        json: &json,
    };
    support_cli::run_tool(&cli.common, embedded, |config: TriageConfig| {
        pipeline(config, &resources)
    })
}
