use std::process::ExitCode;

use clap::Parser;
use support_cli::{self, CommonArgs};
use support_tags::{Tagger, TagsConfig, EMBEDDED_CONFIG};

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: support_suite::allocator::Mimalloc = support_suite::allocator::Mimalloc;

const EXAMPLE: &str = r#"  echo '{"subject":"Factura duplicada","description":"Quiero un reembolso"}' \
    | support-tags
  support-sentiment < examples/tickets.jsonl | support-priority \
    | support-tags | support-route"#;

/// Adds `tags` to each ticket: tags from Spanish/English keyword rules and custom
/// rules, plus tags derived from sentiment, priority, category, customer tier and
/// channel, each with its confidence and source (rule, words, field).
#[derive(Parser)]
#[command(name = "support-tags", version, after_help = support_cli::after_help(EXAMPLE))]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    support_cli::run_tool(&cli.common, EMBEDDED_CONFIG, |c: TagsConfig| {
        Ok(Tagger::new(c))
    })
}
