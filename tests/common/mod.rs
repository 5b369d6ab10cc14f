//! Running the built tools as processes, the way shells and engines do.
#![allow(dead_code)] // each test file uses its own part of this module

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The path of a built binary of the workspace (same profile as the tests).
pub fn bin(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().expect("test executable path");
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run the tests with `cargo test --workspace` (or build it first)",
        path.display()
    );
    path
}

pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_str(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("stdout is UTF-8")
    }

    /// Every stdout line parsed as JSON (fails on any line that is not).
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout_str()
            .lines()
            .map(|l| {
                serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l:.200}"))
            })
            .collect()
    }

    /// Fails if the process panicked or printed a backtrace.
    pub fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked")
                && !self.stderr.contains("backtrace")
                && !self.stderr.contains("overflow"),
            "stderr shows a crash:\n{}",
            self.stderr
        );
        assert!(self.code >= 0, "killed by a signal");
    }
}

/// A tool as the tests run it: the categorizer on its lexical path, so
/// decisions do not depend on whether the embedding model is installed and
/// big hostile streams stay quick (tests/categorize.rs runs the embedding
/// path, removing `SUPPORT_LEXICAL`).
pub fn command(name: &str) -> Command {
    let mut command = Command::new(bin(name));
    command.env_remove("RUST_LOG").env("SUPPORT_LEXICAL", "1");
    command
}

/// Runs `name args` with `stdin`, feeding it from a thread so big inputs cannot deadlock.
pub fn run(name: &str, args: &[&str], stdin: &[u8]) -> Run {
    run_command(command(name).args(args), stdin)
}

/// Runs `command` with `stdin`.
pub fn run_command(command: &mut Command, stdin: &[u8]) -> Run {
    let out = support_core::testing::output_with_stdin(command, stdin);
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The arguments a tool gets in the end-to-end runs: the fixed clock, and the
/// example agents for the tools that route.
pub fn tool_args(tool: &str) -> Vec<String> {
    let mut args = vec!["--now".to_string(), NOW.to_string()];
    if tool == "support-route" || tool == "support-triage" {
        args.push("--agents".into());
        args.push(examples_dir().join("agents.yaml").display().to_string());
    }
    args
}

/// Runs the tools one after another, each reading the previous one's output,
/// as `a | b | c` does, each with its `tool_args`.
pub fn pipe(tools: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut data = stdin.to_vec();
    for tool in tools {
        let args = tool_args(tool);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = run(tool, &args, &data);
        r.assert_no_panic();
        assert_eq!(r.code, 0, "{tool} failed: {}", r.stderr);
        data = r.stdout;
    }
    data
}

pub fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples")
}

pub fn example_tickets() -> Vec<u8> {
    std::fs::read(examples_dir().join("tickets.jsonl")).expect("examples/tickets.jsonl")
}

/// The fixed clock the examples are written against.
pub const NOW: &str = "2026-11-24T09:00:00Z";
