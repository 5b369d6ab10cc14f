//! The examples in every `--help` run when copied: the commands that need
//! no database, no shared dataset and no remote service are run as printed
//! (at 80 columns, the width a terminal wraps help to), from a scratch
//! folder holding the examples, and must succeed.

mod common;

use std::path::Path;
use std::process::Command;

/// Every binary, and the subcommands whose help has examples of its own.
const HELP_PAGES: &[&[&str]] = &[
    &["support-sentiment"],
    &["support-categorize"],
    &["support-tags"],
    &["support-priority"],
    &["support-route"],
    &["support-escalate"],
    &["support-triage"],
    &["support-ml-predict"],
    &["support-answer"],
    &["support-store"],
    &["support-store", "models"],
    &["support-export"],
    &["support-export", "tickets"],
    &["support-export", "dashboard"],
    &["support-export", "kpis"],
    &["support-export", "conversations"],
    &["support-export", "report"],
];

/// What an example needs that a test run does not have: a database (every
/// support-store command), a shared dataset, a classification service, a
/// team's own file, the repository's set-up script (scripts/test.sh has run it).
const NEEDS_MORE: &[&str] = &[
    "scripts/setup-models.sh",
    "--db",
    "--store-models",
    "DATABASE_URL",
    "support-store",
    "../shared",
    "--ml-url",
    "history.csv",
    "train.csv",
    "dev.csv",
];

/// The commands of the `Example:` section as a shell reads them: lines
/// ending in `\` joined with the next, and a quoted string that spans
/// lines kept whole.
fn example_commands(help: &str) -> Vec<String> {
    let section = help
        .split_once("Example:\n")
        .or_else(|| help.split_once("Examples:\n"))
        .map(|(_, rest)| rest.split("\n\n").next().unwrap_or(""))
        .unwrap_or_else(|| panic!("no Example section in:\n{help}"));
    let mut commands = Vec::new();
    let mut current = String::new();
    for line in section.lines() {
        current.push_str(line);
        current.push('\n');
        let open_quote = current.matches('\'').count() % 2 == 1;
        if !open_quote && !line.ends_with('\\') {
            commands.push(std::mem::take(&mut current));
        }
    }
    assert!(
        current.is_empty(),
        "an example ends inside a quote or after `\\`:\n{section}"
    );
    commands
}

#[test]
fn help_examples_run_as_printed() {
    let bin_dir = common::bin("support-triage")
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for page in HELP_PAGES {
        let help = Command::new(common::bin(page[0]))
            .args(&page[1..])
            .arg("--help")
            .env("COLUMNS", "80")
            .output()
            .unwrap();
        assert!(help.status.success(), "{page:?} --help");
        let help = String::from_utf8(help.stdout).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(common::examples_dir(), scratch.path().join("examples"))
            .unwrap();
        for command in example_commands(&help) {
            assert!(
                !command.lines().any(|l| l.trim() == "\\"),
                "{page:?}: a line of only `\\`:\n{command}"
            );
            if NEEDS_MORE.iter().any(|needs| command.contains(needs)) {
                continue;
            }
            let out = run_in(scratch.path(), &path, &command);
            assert!(
                out.status.success() && (!out.stdout.is_empty() || is_file_output(&command)),
                "{page:?}: example failed (exit {:?}):\n{command}\nstderr: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 20, "only {ran} examples ran");
}

fn run_in(dir: &Path, path: &str, command: &str) -> std::process::Output {
    Command::new("sh")
        .args(["-c", &format!("set -e; {command}")])
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        // As every test runs the tools (tests/common/mod.rs): the examples
        // evaluate thousands of rows.
        .env("SUPPORT_LEXICAL", "1")
        .output()
        .unwrap()
}

/// An example that writes its output to a file prints nothing on stdout.
fn is_file_output(command: &str) -> bool {
    command.contains("--output") || command.contains("--out ") || command.contains('>')
}
