//! The contract every tool keeps, checked on each real binary: input forms,
//! bad input, limits, broken pipes, configuration and exit codes.

mod common;

use std::io::{Read, Write};
use std::process::Stdio;

use common::{run, NOW};
use serde_json::{json, Value};
use support_suite::TOOLS;

const GOOD: &str = r#"{"id":"G","subject":"No puedo acceder a mi cuenta","description":"Error al entrar, ayuda por favor"}"#;

/// Every binary that reads tickets, with a key it adds (support-triage adds all of them).
fn each_tool(check: impl Fn(&str, &str)) {
    for tool in TOOLS {
        check(tool.binary, tool.key);
    }
    check("support-triage", "escalation");
}

#[test]
fn bad_records_get_error_records_in_place_and_the_stream_goes_on() {
    let deep = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    let mut input = Vec::new();
    for line in [
        GOOD,
        "{not json",
        "",
        "[1,2]",
        r#"{"id":"E","subject":" ","description":""}"#,
        r#"{"id":"F","subject":"x","customer":{"tier":7}}"#,
        &deep,
    ] {
        input.extend_from_slice(line.as_bytes());
        input.push(b'\n');
    }
    input.extend_from_slice(b"{\"subject\":\"\xff\xfe\"}\n");
    input.extend_from_slice(GOOD.as_bytes());
    each_tool(|tool, key| {
        let r = run(tool, &["--now", NOW], &input);
        r.assert_no_panic();
        assert_eq!(r.code, 1, "{tool}: some records failed, so exit 1");
        let out = r.json_lines();
        let kinds: Vec<&str> = out
            .iter()
            .map(|v| {
                v["error"]["kind"].as_str().unwrap_or_else(|| {
                    if v.get(key).is_some() {
                        "ok"
                    } else {
                        "missing"
                    }
                })
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "ok",
                "invalid_json",
                "not_an_object",
                "no_text",
                "invalid_field",
                "too_deep",
                "invalid_utf8",
                "ok"
            ],
            "{tool}"
        );
        let lines: Vec<u64> = out
            .iter()
            .filter_map(|v| v["error"]["line"].as_u64())
            .collect();
        assert_eq!(
            lines,
            [2, 4, 5, 6, 7, 8],
            "{tool}: error records name their input line"
        );
        assert_eq!(out[3]["error"]["id"], "E", "{tool}");
        assert_eq!(out[4]["error"]["field"], "customer.tier", "{tool}");
        assert!(
            r.stderr.contains("6 of 8 records failed"),
            "{tool}: {}",
            r.stderr
        );
    });
}

#[test]
fn errors_file_takes_the_error_records() {
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let r = run(
        "support-sentiment",
        &["--errors", errors.to_str().unwrap()],
        format!("{GOOD}\n{{}}\n{GOOD}\n").as_bytes(),
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.json_lines().len(), 2);
    let errs = std::fs::read_to_string(&errors).unwrap();
    let err: Value = serde_json::from_str(errs.trim()).unwrap();
    assert_eq!(err["error"]["kind"], "no_text");
    assert_eq!(err["error"]["line"], 2);
}

#[test]
fn empty_input_ends_cleanly_with_nothing() {
    each_tool(|tool, _| {
        let r = run(tool, &[], b"");
        r.assert_no_panic();
        assert_eq!(r.code, 0, "{tool}");
        assert!(r.stdout.is_empty(), "{tool}");
    });
}

#[test]
fn a_50_mb_line_is_refused_without_losing_the_next_one() {
    let mut input = format!(r#"{{"id":"big","subject":"{}"}}"#, "a".repeat(50 << 20)).into_bytes();
    input.push(b'\n');
    input.extend_from_slice(GOOD.as_bytes());
    each_tool(|tool, key| {
        let r = run(tool, &[], &input);
        r.assert_no_panic();
        assert_eq!(r.code, 1, "{tool}");
        let out = r.json_lines();
        assert_eq!(out[0]["error"]["kind"], "too_large", "{tool}");
        assert!(out[1].get(key).is_some(), "{tool}");
    });
}

#[test]
fn input_forms_are_kept_object_array_and_lines() {
    each_tool(|tool, key| {
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(GOOD).unwrap()).unwrap();
        let r = run(tool, &["--now", NOW], pretty.as_bytes());
        assert_eq!(r.code, 0, "{tool}: {}", r.stderr);
        let one: Value = serde_json::from_slice(&r.stdout).unwrap();
        assert!(
            one.is_object() && one.get(key).is_some(),
            "{tool}: object in, object out"
        );

        let array = format!("[{GOOD}, {GOOD}]");
        let r = run(tool, &["--now", NOW], array.as_bytes());
        assert_eq!(r.code, 0, "{tool}");
        let many: Value = serde_json::from_slice(&r.stdout).unwrap();
        assert_eq!(
            many.as_array().map(Vec::len),
            Some(2),
            "{tool}: array in, array out"
        );
        assert!(many[1].get(key).is_some());
    });
}

#[test]
fn a_broken_array_keeps_its_good_elements_and_ends_with_an_error_record() {
    let r = run(
        "support-tags",
        &[],
        b"[{\"id\": \"a\", \"subject\": \"hola\"}, {\"subject\": \"x\"",
    );
    r.assert_no_panic();
    assert_eq!(r.code, 1, "{}", r.stderr);
    let out: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(out[0]["id"], "a");
    assert!(out[0]["tags"].is_object());
    assert_eq!(out[1]["error"]["kind"], "invalid_json");
    assert_eq!(out[1]["error"]["line"], 2);
}

#[test]
fn closed_output_stops_quietly() {
    let input = format!("{GOOD}\n").repeat(200_000);
    each_tool(|tool, _| {
        let mut child = common::command(tool)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let data = input.clone();
        let feeder = std::thread::spawn(move || {
            let _ = stdin.write_all(data.as_bytes());
        });
        let mut first = [0u8; 64];
        child
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut first)
            .unwrap();
        drop(child.stdout.take()); // like `| head -1`
        let out = child.wait_with_output().unwrap();
        feeder.join().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{tool}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("error"),
            "{tool}: {stderr}"
        );
    });
}

/// `tail -f tickets.jsonl | support-triage`: each record is answered while the
/// input stays open, not when a batch fills or the input ends.
#[test]
fn a_slow_stream_gets_each_answer_before_the_next_record() {
    each_tool(|tool, key| {
        let mut child = common::command(tool)
            .args(["--now", NOW])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let (lines_tx, lines) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
                if lines_tx.send(line.unwrap()).is_err() {
                    return;
                }
            }
        });
        for n in 0..3 {
            writeln!(stdin, r#"{{"id":"T{n}","subject":"No puedo acceder"}}"#).unwrap();
            stdin.flush().unwrap();
            // Generous: a loaded machine; a tool that holds the record never answers.
            let line = lines
                .recv_timeout(std::time::Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    panic!("{tool}: no answer to record {n} while the input is open")
                });
            let out: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(out["id"], format!("T{n}"), "{tool}");
            assert!(out.get(key).is_some(), "{tool}: {line}");
        }
        drop(stdin);
        assert!(child.wait().unwrap().success(), "{tool}");
        reader.join().unwrap();
    });
}

#[test]
fn printed_config_is_a_valid_config_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = common::example_tickets();
    each_tool(|tool, _| {
        let printed = run(tool, &["--print-config"], b"");
        assert_eq!(printed.code, 0, "{tool}");
        let path = dir.path().join(format!("{tool}.yaml"));
        std::fs::write(&path, &printed.stdout).unwrap();
        let with_file = run(
            tool,
            &["--now", NOW, "--config", path.to_str().unwrap()],
            &input,
        );
        let with_default = run(tool, &["--now", NOW], &input);
        assert_eq!(with_file.code, 0, "{tool}: {}", with_file.stderr);
        assert_eq!(with_file.stdout, with_default.stdout, "{tool}");
    });
}

#[test]
fn a_config_file_names_only_what_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("priority.yaml");
    // One key: every ticket scoring 1 or more is critical.
    std::fs::write(&path, "# mine\nlevels:\n  critical: 1\n").unwrap();
    let config = path.to_str().unwrap();
    let printed = run(
        "support-priority",
        &["--config", config, "--print-config"],
        b"",
    );
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    let effective = printed.stdout_str();
    assert!(effective.contains("critical: 1"), "{effective}");
    assert!(
        effective.contains("closed_statuses"),
        "the rest is the default: {effective}"
    );
    let out = run(
        "support-priority",
        &["--now", NOW, "--config", config],
        &common::example_tickets(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let levels: Vec<String> = out
        .json_lines()
        .iter()
        .map(|t| t["priority"]["level"].as_str().unwrap().to_string())
        .collect();
    assert!(levels.iter().all(|l| l == "critical"), "{levels:?}");
    // The same key in the triage file's priority section changes the same thing.
    let path = dir.path().join("triage.yaml");
    std::fs::write(&path, "priority:\n  levels:\n    critical: 1\n").unwrap();
    let out = run(
        "support-triage",
        &["--now", NOW, "--config", path.to_str().unwrap()],
        &common::example_tickets(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out
        .json_lines()
        .iter()
        .all(|t| t["priority"]["level"] == "critical"));
}

#[test]
fn config_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    each_tool(|tool, _| {
        let printed = run(tool, &["--print-config"], b"");
        let mut yaml = String::from_utf8(printed.stdout).unwrap();
        yaml.push_str("no_such_setting: 1\n");
        let line = yaml.lines().count();
        let path = dir.path().join("bad.yaml");
        std::fs::write(&path, &yaml).unwrap();
        let r = run(tool, &["--config", path.to_str().unwrap()], GOOD.as_bytes());
        r.assert_no_panic();
        assert_eq!(r.code, 2, "{tool}");
        assert!(r.stdout.is_empty(), "{tool}: nothing processed");
        let expected = format!("{}:{line}:", path.display());
        assert!(
            r.stderr.contains(&expected),
            "{tool}: {} should contain {expected}",
            r.stderr
        );
        assert!(r.stderr.contains("no_such_setting"), "{tool}: {}", r.stderr);
    });
}

#[test]
fn missing_config_file_and_bad_now_are_usage_errors() {
    each_tool(|tool, _| {
        let r = run(
            tool,
            &["--config", "/nonexistent/cfg.yaml"],
            GOOD.as_bytes(),
        );
        assert_eq!(r.code, 2, "{tool}");
        assert!(
            r.stderr.contains("/nonexistent/cfg.yaml"),
            "{tool}: {}",
            r.stderr
        );
        let r = run(tool, &["--now", "yesterday"], GOOD.as_bytes());
        assert_eq!(r.code, 2, "{tool}");
    });
}

#[test]
fn same_input_and_clock_give_the_same_output() {
    let input = common::example_tickets();
    each_tool(|tool, _| {
        let a = run(tool, &["--now", NOW, "--threads", "1"], &input);
        let b = run(tool, &["--now", NOW, "--threads", "2"], &input);
        assert_eq!(a.code, 0, "{tool}: {}", a.stderr);
        assert_eq!(
            a.stdout, b.stdout,
            "{tool}: parallelism must not change output or order"
        );
    });
}

#[test]
fn help_shows_an_example_and_the_exit_codes() {
    each_tool(|tool, _| {
        let r = run(tool, &["--help"], b"");
        assert_eq!(r.code, 0);
        let help = r.stdout_str();
        assert!(help.contains("Example:") && help.contains(tool), "{tool}");
        assert!(
            help.contains("Exit codes:") && help.contains("  3  "),
            "{tool}"
        );
    });
}

#[test]
fn logs_go_to_stderr_as_json_when_asked() {
    let r = run("support-priority", &["--log-format", "json"], b"{}\n");
    assert_eq!(r.code, 1);
    let log_line = r
        .stderr
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("a JSON log line");
    let log: Value = serde_json::from_str(log_line).unwrap();
    assert_eq!(log["level"], "WARN");
    assert_eq!(r.json_lines()[0]["error"]["kind"], json!("no_text"));
}
