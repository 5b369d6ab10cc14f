use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use support_agents::Roster;
use support_cli::{self, CommonArgs};
use support_route::{RouteConfig, Router, EMBEDDED_CONFIG};

// Many small allocations from several threads: mimalloc (see the README's performance notes).
#[global_allocator]
static ALLOCATOR: support_suite::allocator::Mimalloc = support_suite::allocator::Mimalloc;

const EXAMPLE: &str = r#"  echo '{"subject":"Cobro duplicado","description":"Me cobraron dos veces"}' \
    | support-tags \
    | support-route --agents examples/agents.yaml --now 2026-11-24T09:00:00Z
  support-sentiment < examples/tickets.jsonl | support-tags \
    | support-route --agents examples/agents.yaml"#;

/// Adds `route` to each ticket: the queue chosen by ordered rules (category, tags,
/// language, tier, priority, channel), and with --agents the best available agent
/// of that queue (skills, languages, free capacity, satisfaction, on shift at --now
/// in the agent's time zone), with ranked candidates and reasons.
#[derive(Parser)]
#[command(name = "support-route", version, after_help = support_cli::after_help(EXAMPLE))]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,

    /// Agents to recommend (YAML, or JSON when the name ends in .json): a list `agents` of
    /// {id, name, skills, languages, capacity, load, satisfaction (1-5, optional),
    /// queues (optional), hours: {time_zone, shifts: [{days, start, end}]}}.
    /// See examples/agents.yaml. Without it, tickets are routed to a queue only.
    #[arg(long, value_name = "FILE")]
    agents: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    support_cli::run_tool(&cli.common, EMBEDDED_CONFIG, |config: RouteConfig| {
        let roster = cli.agents.as_deref().map(Roster::load).transpose()?;
        Router::new(config, roster)
    })
}
