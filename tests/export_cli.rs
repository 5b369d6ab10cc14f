//! The binary on the file source (no database): examples/history.jsonl and
//! examples/feedback.jsonl, checked against figures this test computes from
//! the files itself.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

const NOW: &str = "2026-11-24T09:00:00Z";

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn export(args: &[&str], stdin: &[u8]) -> Output {
    support_core::testing::output_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_support-export"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("RUST_LOG"),
        stdin,
    )
}

/// `command` over the examples with the clock fixed, plus `extra` flags.
fn on_examples(command: &str, extra: &[&str]) -> Output {
    let tickets = example("history.jsonl");
    let feedback = example("feedback.jsonl");
    let agents = example("agents.yaml");
    let mut args = vec![command, "--input", tickets.to_str().unwrap(), "--now", NOW];
    if command != "tickets" {
        args.extend(["--feedback", feedback.to_str().unwrap()]);
        args.extend(["--agents", agents.to_str().unwrap()]);
    }
    args.extend(extra);
    export(&args, b"")
}

fn ok_json(output: &Output) -> Value {
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

fn history() -> Vec<Value> {
    fs::read_to_string(example("history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn created_within(ticket: &Value, hours: i64) -> bool {
    let now: Timestamp = NOW.parse().unwrap();
    let created: Timestamp = ticket["created_at"].as_str().unwrap().parse().unwrap();
    created >= now - SignedDuration::from_hours(hours) && created < now
}

#[test]
fn the_dashboard_counts_the_tickets_of_its_period() {
    let tickets = history();
    for (period, hours) in [("24h", 24), ("7d", 168), ("30d", 720)] {
        let dashboard = ok_json(&on_examples("dashboard", &["--period", period]));
        let window: Vec<&Value> = tickets
            .iter()
            .filter(|t| created_within(t, hours))
            .collect();
        let metrics = &dashboard["metrics"];
        assert_eq!(metrics["total_tickets"], window.len(), "{period}");
        let open = window
            .iter()
            .filter(|t| !matches!(t["status"].as_str(), Some("resolved" | "closed")))
            .count();
        assert_eq!(metrics["pending"], open, "{period}");
        let bot = window.iter().filter(|t| t["resolved_by"] == "bot").count();
        assert_eq!(metrics["chatbot_resolved"], bot, "{period}");
        let pressing = window
            .iter()
            .filter(|t| matches!(t["priority"]["level"].as_str(), Some("critical" | "urgent")))
            .count();
        assert_eq!(metrics["critical_urgent"], pressing, "{period}");

        let trends = dashboard["trends"].as_array().unwrap();
        assert_eq!(trends.len() as i64, hours, "one entry per hour");
        let in_trends: u64 = trends.iter().map(|t| t["tickets"].as_u64().unwrap()).sum();
        assert_eq!(in_trends, window.len() as u64);
        let by_priority: u64 = dashboard["priority_distribution"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["tickets"].as_u64().unwrap())
            .sum();
        assert_eq!(
            by_priority,
            window.len() as u64,
            "every example has a priority"
        );
        for agent in dashboard["top_agents"].as_array().unwrap() {
            assert!(
                agent["name"].is_string(),
                "names come from --agents: {agent}"
            );
        }
        let feedback = dashboard["recent_feedback"].as_array().unwrap();
        let times: Vec<&str> = feedback
            .iter()
            .map(|f| f["created_at"].as_str().unwrap())
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] >= w[1]),
            "newest first: {times:?}"
        );
    }
}

#[test]
fn kpis_and_conversations_are_consistent_with_the_dashboard() {
    let dashboard = ok_json(&on_examples("dashboard", &["--period", "30d"]));
    let kpis = ok_json(&on_examples("kpis", &["--period", "30d"]));
    let conversations = ok_json(&on_examples("conversations", &["--period", "30d"]));
    assert_eq!(kpis["tickets"], dashboard["metrics"]["total_tickets"]);
    assert_eq!(
        kpis["bot_resolution_rate"],
        dashboard["metrics"]["chatbot_resolution_rate"]
    );
    let ratings: usize = fs::read_to_string(example("feedback.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(
        kpis["csat"]["ratings"], ratings,
        "every example rating is on a ticket of the last 30 days"
    );
    let sla = kpis["sla_compliance"].as_array().unwrap();
    assert_eq!(sla.len(), 5);
    let met: u64 = sla
        .iter()
        .map(|s| s["first_response_met"].as_u64().unwrap())
        .sum();
    assert_eq!(kpis["sla_overall"]["first_response_met"], met);
    let with_transcript = history()
        .iter()
        .filter(|t| {
            created_within(t, 720) && t["messages"].as_array().is_some_and(|m| !m.is_empty())
        })
        .count();
    assert_eq!(conversations["overall"]["conversations"], with_transcript);
    let by_channel: u64 = conversations["by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["conversations"].as_u64().unwrap())
        .sum();
    assert_eq!(by_channel, with_transcript as u64);
}

#[test]
fn tickets_export_filtered_in_every_format() {
    let expected: Vec<String> = history()
        .iter()
        .filter(|t| created_within(t, 168))
        .filter(|t| matches!(t["priority"]["level"].as_str(), Some("high" | "critical")))
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!expected.is_empty());
    let filters = ["--period", "7d", "--priority", "high,critical"];

    let csv = on_examples("tickets", &[&filters[..], &["--format", "csv"]].concat());
    assert_eq!(
        csv.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&csv.stderr)
    );
    let mut reader = csv::Reader::from_reader(&csv.stdout[..]);
    assert_eq!(reader.headers().unwrap().get(0), Some("id"));
    let ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    assert_eq!(ids, expected, "in input order");

    let lines = on_examples("tickets", &[&filters[..], &["--format", "jsonl"]].concat());
    let rows: Vec<Value> = String::from_utf8(lines.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows.iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        expected
    );
    assert!(rows
        .iter()
        .all(|r| matches!(r["priority"].as_str(), Some("high" | "critical"))));

    let array = ok_json(&on_examples(
        "tickets",
        &[&filters[..], &["--format", "json"]].concat(),
    ));
    assert_eq!(array.as_array().unwrap(), &rows);

    let closed = on_examples(
        "tickets",
        &["--status", "open,pending", "--format", "jsonl"],
    );
    let statuses: Vec<Value> = String::from_utf8(closed.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["status"].clone())
        .collect();
    assert!(!statuses.is_empty() && statuses.iter().all(|s| s == "open" || s == "pending"));
}

#[test]
fn bad_lines_get_error_records_and_the_rest_is_exported() {
    let good = r#"{"id":"A","subject":"Hola","created_at":"2026-11-24T08:00:00Z","priority":{"level":"low"}}"#;
    let input = format!(
        "{good}\nnot json\n{{\"id\":\"B\",\"created_at\":\"yesterday\"}}\n\n{}\n",
        good.replace("\"A\"", "\"C\"")
    );
    let output = export(&["tickets", "--format", "jsonl"], input.as_bytes());
    assert_eq!(output.status.code(), Some(1));
    let ids: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids, ["A", "C"]);
    let stderr = String::from_utf8(output.stderr).unwrap();
    let errors: Vec<Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("error").is_some())
        .collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert_eq!(
        (
            errors[0]["error"]["line"].as_u64(),
            errors[0]["error"]["kind"].as_str()
        ),
        (Some(2), Some("invalid_json"))
    );
    assert_eq!(errors[1]["error"]["line"], 3);
    assert_eq!(errors[1]["error"]["field"], "created_at");
    assert_eq!(errors[1]["error"]["id"], "B");
    assert!(
        stderr.contains("2 input lines could not be read"),
        "{stderr}"
    );
}

#[test]
fn a_tools_array_or_pretty_output_is_read_like_json_lines() {
    let tickets: Vec<Value> = history().into_iter().take(3).collect();
    let ids: Vec<&Value> = tickets.iter().map(|t| &t["id"]).collect();
    for input in [
        serde_json::to_string_pretty(&tickets).unwrap(),
        serde_json::to_string_pretty(&tickets[0]).unwrap(),
    ] {
        let output = export(&["tickets", "--format", "jsonl"], input.as_bytes());
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let exported: Vec<Value> = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].clone())
            .collect();
        let expected = if input.starts_with('[') {
            &ids[..]
        } else {
            &ids[..1]
        };
        assert_eq!(exported.iter().collect::<Vec<_>>(), expected);
    }
}

#[test]
fn the_output_file_appears_only_when_the_export_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tickets.csv");
    let target_arg = target.to_str().unwrap();
    let missing = dir.path().join("missing.jsonl");
    let output = export(
        &[
            "tickets",
            "--input",
            missing.to_str().unwrap(),
            "--output",
            target_arg,
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(3), "input unreadable");
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.jsonl"));
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file, no temporary file"
    );

    let output = on_examples("tickets", &["--output", target_arg]);
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty(), "the export went to the file");
    let rows = csv::Reader::from_path(&target).unwrap().records().count();
    assert_eq!(rows, history().len());
}

#[test]
fn reports_are_self_contained() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let output = on_examples(
        "report",
        &[
            "--format",
            "html",
            "--period",
            "7d",
            "--output",
            page.to_str().unwrap(),
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let html = fs::read_to_string(&page).unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.matches("<svg").count() >= 6, "charts are inline SVG");
    assert!(html.contains("@media print"));
    for outside in ["<script", "<link", "src=", "@import", "url("] {
        assert!(
            !html.contains(outside),
            "the page loads nothing: found {outside}"
        );
    }
    let links: Vec<&str> = html
        .match_indices("http")
        .map(|(i, _)| &html[i..i + 26])
        .collect();
    assert!(
        links
            .iter()
            .all(|l| l.starts_with("http://www.w3.org/2000/svg")),
        "{links:?}"
    );
    let total =
        ok_json(&on_examples("dashboard", &["--period", "7d"]))["metrics"]["total_tickets"].clone();
    assert!(
        html.contains(&format!(r#"<div class="value">{total}</div>"#)),
        "the ticket count tile"
    );

    let md = on_examples("report", &["--format", "md", "--period", "7d"]);
    assert_eq!(md.status.code(), Some(0));
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("# Support report: last 7 days"), "{md:.80}");
    assert!(md.contains(&format!("- **{total}** tickets")));
    assert!(md.contains("| Priority | Tickets |"));
    assert!(md.contains("## Latest feedback"));
}

#[test]
fn usage_errors_say_what_to_do() {
    let output = on_examples("dashboard", &["--period", "7x"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("24h, 7d or 30d"));

    let output = on_examples("kpis", &["--period", "7d", "--since", "2026-11-01"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not both"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("feedback.jsonl");
    fs::write(
        &bad,
        "{\"ticket_id\":\"H-0001\",\"rating\":4}\n{\"ticket_id\":\"H-0002\",\"rating\":9}\n",
    )
    .unwrap();
    let tickets = example("history.jsonl");
    let output = export(
        &[
            "kpis",
            "--input",
            tickets.to_str().unwrap(),
            "--feedback",
            bad.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("feedback.jsonl:2") && stderr.contains("rating"),
        "{stderr}"
    );

    let config = dir.path().join("export.yaml");
    fs::write(&config, "dashboard:\n  top_agentz: 3\n").unwrap();
    let output = on_examples("dashboard", &["--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("top_agentz"));
}

#[test]
fn the_configuration_is_printed_and_replaceable() {
    let printed = export(&["dashboard", "--print-config"], b"");
    assert_eq!(printed.status.code(), Some(0));
    let yaml = String::from_utf8(printed.stdout).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("export.yaml");
    fs::write(
        &config,
        yaml.replace("top_categories: 10", "top_categories: 2"),
    )
    .unwrap();
    let dashboard = ok_json(&on_examples(
        "dashboard",
        &["--period", "30d", "--config", config.to_str().unwrap()],
    ));
    assert_eq!(dashboard["top_categories"].as_array().unwrap().len(), 2);
}

#[test]
fn a_closed_output_stops_quietly() {
    let tickets = example("history.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_support-export"))
        .args([
            "tickets",
            "--format",
            "jsonl",
            "--input",
            tickets.to_str().unwrap(),
        ])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn outputs_match_their_published_schemas() {
    let schema = |name: &str| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schemas")
            .join(name);
        let schema: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    };
    let check = |validator: &jsonschema::Validator, value: &Value, what: &str| {
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{what}: {}", errors.join("\n"));
    };
    for (command, file) in [
        ("dashboard", "export-dashboard.schema.json"),
        ("kpis", "export-kpis.schema.json"),
        ("conversations", "export-conversations.schema.json"),
    ] {
        let output = ok_json(&on_examples(command, &["--period", "30d"]));
        check(&schema(file), &output, command);
    }
    let lines = on_examples("tickets", &["--format", "jsonl"]);
    let ticket = schema("export-ticket.schema.json");
    for line in String::from_utf8(lines.stdout).unwrap().lines() {
        check(
            &ticket,
            &serde_json::from_str(line).unwrap(),
            "an exported ticket",
        );
    }
    // Not vacuous: a wrong type fails.
    assert!(!ticket.is_valid(&serde_json::json!({"id": "A", "bot_resolved": "yes"})));
}

/// Explicit flags first, then piped stdin, then DATABASE_URL: `head -3
/// tickets.jsonl | support-export` reads those three even when DATABASE_URL
/// is set, and the summary on stderr says so.
#[test]
fn piped_stdin_comes_before_database_url() {
    let input: String = fs::read_to_string(example("history.jsonl"))
        .unwrap()
        .lines()
        .take(3)
        .map(|line| format!("{line}\n"))
        .collect();
    let output = support_core::testing::output_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_support-export"))
            .args(["tickets", "--format", "jsonl"])
            // Nothing listens on port 1: reading it would fail.
            .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/support")
            .env_remove("RUST_LOG"),
        input.as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 3);
    let summary: Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(
        summary["summary"]["source"], "tickets from stdin",
        "{stderr}"
    );
    assert_eq!(summary["summary"]["tickets"], 3);
}

/// Text cells a spreadsheet would run as a formula get OWASP's leading
/// apostrophe; numbers (a negative sentiment score) stay numbers; --raw-csv
/// writes them as they are.
#[test]
fn csv_cells_that_look_like_formulas_are_neutralized_unless_raw() {
    let ticket = serde_json::json!({
        "id": "-1", "subject": "=HYPERLINK(\"http://x\",\"y\")", "description": "+1 call me",
        "customer": {"name": "@SUM(A1)", "email": "\tmail@x.es"}, "category": {"name": "billing", "subcategory": "\rrefund"},
        "status": "open", "sentiment": {"label": "negative", "score": -0.5}
    });
    let input = format!("{ticket}\n");
    let cells = |extra: &[&str]| {
        let output = export(
            &[&["tickets", "--format", "csv"][..], extra].concat(),
            input.as_bytes(),
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut reader = csv::Reader::from_reader(&output.stdout[..]);
        let headers = reader.headers().unwrap().clone();
        let row = reader.records().next().unwrap().unwrap();
        let cell = |name: &str| row[headers.iter().position(|h| h == name).unwrap()].to_string();
        [
            "id",
            "subject",
            "body",
            "customer_name",
            "customer_email",
            "subcategory",
            "sentiment_score",
            "status",
        ]
        .map(cell)
    };
    assert_eq!(
        cells(&[]),
        [
            "'-1",
            "'=HYPERLINK(\"http://x\",\"y\")",
            "'+1 call me",
            "'@SUM(A1)",
            "'\tmail@x.es",
            "'\rrefund",
            "-0.5",
            "open"
        ]
    );
    assert_eq!(
        cells(&["--raw-csv"]),
        [
            "-1",
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1 call me",
            "@SUM(A1)",
            "\tmail@x.es",
            "\rrefund",
            "-0.5",
            "open"
        ]
    );
}

/// `sh -c 'umask MASK; exec support-export ARGS'`, stdin and outputs piped.
#[cfg(unix)]
fn export_under_umask(umask: &str, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_support-export"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG");
    command
}

#[cfg(unix)]
#[test]
fn the_output_file_respects_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let tickets = example("history.jsonl");
    for (umask, mode) in [("077", 0o600), ("027", 0o640), ("022", 0o644)] {
        let target = dir.path().join(format!("tickets-{umask}.csv"));
        let args = [
            "tickets",
            "--input",
            tickets.to_str().unwrap(),
            "--output",
            target.to_str().unwrap(),
        ];
        let output = export_under_umask(umask, &args).output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let actual = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(actual, mode, "umask {umask}: {actual:o}");
    }
}

/// SIGTERM (or SIGINT) while the export waits for its input: the temporary
/// file goes, and the process dies of the signal.
#[cfg(unix)]
#[test]
fn a_killed_export_leaves_no_temporary_file() {
    use std::io::Write;
    use std::os::unix::process::ExitStatusExt;
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("tickets.csv");
        let mut child =
            export_under_umask("022", &["tickets", "--output", target.to_str().unwrap()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let first = fs::read_to_string(example("history.jsonl")).unwrap();
        writeln!(stdin, "{}", first.lines().next().unwrap()).unwrap();
        stdin.flush().unwrap();
        let started = std::time::Instant::now();
        while fs::read_dir(dir.path()).unwrap().count() == 0 {
            assert!(
                started.elapsed().as_secs() < 30,
                "no temporary file appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // Let it read the line it was given: it is now waiting for more.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let output = child.wait_with_output().unwrap();
        drop(stdin);
        assert_eq!(
            output.status.signal(),
            Some(if signal == "TERM" { 15 } else { 2 }),
            "{:?} {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "SIG{signal} left {left:?}");
    }
}

#[test]
fn kestra_lines_give_the_counts_of_what_was_read() {
    let output = on_examples(
        "tickets",
        &["--period", "30d", "--format", "jsonl", "--kestra"],
    );
    assert_eq!(output.status.code(), Some(0));
    let exported = output.stdout.iter().filter(|&&b| b == b'\n').count();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let outputs = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("::{\"outputs\":")
                .and_then(|l| l.strip_suffix("}::"))
        })
        .unwrap_or_else(|| panic!("no Kestra outputs line in {stderr}"));
    let counts: Value = serde_json::from_str(outputs).unwrap();
    assert_eq!(counts["failed"], 0);
    assert!(
        counts["records"].as_u64().unwrap() >= exported as u64,
        "{counts} vs {exported}"
    );
}
