//! Golden outputs: every stream tool alone and support-triage on the example
//! tickets give exactly the committed outputs in `tests/golden/`. A refactor
//! that should change nothing shows here that it changed nothing; a
//! deliberate change of a decision is re-recorded with
//! `UPDATE_GOLDEN=1 cargo test --test golden` and shows in the diff.
//! (`scripts/dev/golden.py` does the same on a 10,000-ticket stream.)

mod common;

use std::path::PathBuf;

use common::{example_tickets, run, tool_args};
use serde_json::Value;
use support_suite::TOOLS;

fn golden_path(tool: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!(
            "examples.{}.jsonl",
            tool.trim_start_matches("support-")
        ))
}

fn check(tool: &str) {
    let args = tool_args(tool);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(tool, &args, &example_tickets());
    out.assert_no_panic();
    assert_eq!(out.code, 0, "{tool}: {}", out.stderr);
    let path = golden_path(tool);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &out.stdout).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; record it with UPDATE_GOLDEN=1", path.display()));
    let expected: Vec<Value> = expected
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actual = out.json_lines();
    assert_eq!(actual.len(), expected.len(), "{tool}: line count");
    for (line, (got, want)) in actual.iter().zip(&expected).enumerate() {
        assert_eq!(
            got,
            want,
            "{tool}, line {} (id {}) differs from {}",
            line + 1,
            want["id"],
            path.display()
        );
    }
}

#[test]
fn every_tool_alone_gives_its_golden_output() {
    for tool in TOOLS {
        check(tool.binary);
    }
}

#[test]
fn support_triage_gives_its_golden_output() {
    check("support-triage");
}
