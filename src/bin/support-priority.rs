use std::process::ExitCode;

use clap::Parser;
use support_cli::{self, CommonArgs};
use support_priority::{PriorityConfig, EMBEDDED_CONFIG};
use support_sentiment::SentimentConfig;
use support_suite::compose::PriorityTool;

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: support_suite::allocator::Mimalloc = support_suite::allocator::Mimalloc;

const EXAMPLE: &str = r#"  echo '{"id":"T-1","subject":"Caída del servicio",
         "description":"No funciona nada desde esta mañana",
         "channel":"phone","customer":{"tier":"vip"},
         "created_at":"2026-11-24T08:45:00Z"}' \
    | support-priority --now 2026-11-24T09:00:00Z
  support-sentiment < examples/tickets.jsonl | support-priority \
    | support-escalate"#;

/// Adds `priority` to each ticket: a level (low, medium, high, urgent, critical) and a
/// 0-100 score from impact words, sentiment, customer tier, channel and age, with the
/// factors behind it, the SLA due times and their status, reasons and a confidence.
#[derive(Parser)]
#[command(name = "support-priority", version, after_help = support_cli::after_help(EXAMPLE))]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    support_cli::run_tool(&cli.common, EMBEDDED_CONFIG, |c: PriorityConfig| {
        Ok(PriorityTool::new(c, SentimentConfig::default()))
    })
}
