use std::process::ExitCode;

use clap::Parser;
use support_cli::{self, CommonArgs};
use support_escalate::{EscalateConfig, EMBEDDED_CONFIG};
use support_suite::compose::{EscalateTool, PriorityTool};

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: support_suite::allocator::Mimalloc = support_suite::allocator::Mimalloc;

const EXAMPLE: &str = r#"  echo '{"id":"T-9","subject":"Reembolso",
         "description":"Si no me devuelven el dinero, iré a mi abogado.",
         "customer":{"tier":"vip"},"created_at":"2026-11-18T09:00:00Z"}' \
    | support-escalate --now 2026-11-24T09:00:00Z
  support-sentiment < examples/tickets.jsonl | support-priority \
    | support-escalate"#;

/// Adds `escalation` to each ticket: whether to escalate and to which level (none, L1, L2,
/// manager), the triggers that fired (SLA breached or at risk, low bot confidence, the
/// customer asking for a person, bot loops, worsening sentiment, legal or press threats,
/// VIP), the actions to take and their deadlines, with reasons and a confidence.
#[derive(Parser)]
#[command(name = "support-escalate", version, after_help = support_cli::after_help(EXAMPLE))]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    support_cli::run_tool(&cli.common, EMBEDDED_CONFIG, |c: EscalateConfig| {
        Ok(EscalateTool::new(c, PriorityTool::default()))
    })
}
