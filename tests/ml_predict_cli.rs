//! The binary end to end: train on the example history (file and database),
//! predict on tickets, evaluate, and the errors a user meets.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use support_store::testing::TestDb;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
}

fn run(args: &[&str], stdin: &str) -> Run {
    let out = support_core::testing::output_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_support-ml-predict"))
            .args(args)
            .current_dir(root())
            .env_remove("RUST_LOG"),
        stdin.as_bytes(),
    );
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "crashed: {}", run.stderr);
    run
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn history() -> Vec<Value> {
    std::fs::read_to_string(root().join("examples/history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn jsonl(records: &[Value]) -> String {
    records.iter().map(|r| r.to_string() + "\n").collect()
}

/// Trains on the example history and its feedback; returns the model path.
fn trained(dir: &Path) -> String {
    let model = dir.join("team.model").display().to_string();
    let r = run(
        &[
            "train",
            "--data",
            "examples/history.jsonl",
            "--feedback",
            "examples/feedback.jsonl",
            "--out",
            &model,
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(summary["format"], "ticket");
    for target in ["resolution_minutes", "sla_breach", "csat", "group", "agent"] {
        assert_eq!(
            summary["learned"][target], true,
            "{target} learned: {summary}"
        );
    }
    model
}

#[test]
fn the_same_history_trains_the_same_model_bytes() {
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let (a, b) = (trained(first.path()), trained(second.path()));
    let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert!(a == b, "two trainings on the same history differ");
    let model: Value = serde_json::from_slice(&a).unwrap();
    assert!(
        !model["resolution"]["median"]["trees"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the median model grew trees"
    );
}

/// A history ticket as it looks when it is opened: no outcome yet.
fn opened(mut ticket: Value) -> Value {
    let fields = ticket.as_object_mut().unwrap();
    for outcome in [
        "resolved_at",
        "closed_at",
        "resolved_by",
        "assigned_to",
        "first_response_at",
    ] {
        fields.remove(outcome);
    }
    fields.insert("status".into(), json!("open"));
    ticket
}

#[test]
fn trains_on_the_example_history_and_predicts_tickets_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    let agents: Vec<&str> = vec![
        "lucia.martin",
        "javier.ortega",
        "emma.clarke",
        "carmen.ruiz",
        "hugo.silva",
        "david.chen",
        "sofia.herrera",
        "mark.obrien",
        "valentina.rossi",
    ];
    let tickets: Vec<Value> = history().into_iter().map(opened).collect();
    let r = run(
        &["--model", &model, "--agents", "examples/agents.yaml"],
        &jsonl(&tickets),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = r.lines();
    assert_eq!(out.len(), tickets.len());
    for (ticket, result) in tickets.iter().zip(&out) {
        assert_eq!(result["id"], ticket["id"], "in order, passed through");
        let p = &result["predictions"];
        assert_eq!(p["source"], "model");
        let minutes = &p["resolution_minutes"];
        let value = minutes["value"].as_f64().unwrap();
        assert!(minutes["interval"]["low"].as_f64().unwrap() <= value);
        assert!(value <= minutes["interval"]["high"].as_f64().unwrap());
        assert!(!minutes["features"].as_array().unwrap().is_empty());
        let risk = p["sla_breach"]["probability"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&risk));
        let rating = p["csat"]["value"].as_f64().unwrap();
        assert!((1.0..=5.0).contains(&rating));
        let agent = p["agent"]["recommended"].as_str().unwrap();
        assert!(agents.contains(&agent), "{agent}");
        assert_ne!(
            agent, "david.chen",
            "david.chen is at capacity (7 of 7) in examples/agents.yaml"
        );
        assert!(p["group"]["candidates"].as_array().unwrap().len() <= 3);
        let confidence = p["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence));
        assert!(!p["reasons"].as_array().unwrap().is_empty());
    }
    // Tickets of the billing queue name david.chen among the candidates, at capacity.
    let at_capacity = out.iter().any(|r| {
        r["predictions"]["agent"]["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "david.chen" && c["score"] == 0.0)
    });
    assert!(
        at_capacity,
        "a billing ticket lists david.chen with score 0"
    );
}

#[test]
fn predictions_match_their_published_schema() {
    let text = std::fs::read_to_string(root().join("schemas/predictions.schema.json")).unwrap();
    let schema = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    let tickets: Vec<Value> = history().into_iter().take(5).map(opened).collect();
    for args in [
        vec![
            "--model",
            model.as_str(),
            "--agents",
            "examples/agents.yaml",
        ],
        vec![],
    ] {
        let r = run(&args, &jsonl(&tickets));
        assert_eq!(r.code, 0, "{}", r.stderr);
        for record in r.lines() {
            let errors: Vec<String> = schema
                .iter_errors(&record["predictions"])
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{args:?}: {errors:?}");
        }
    }
}

#[test]
fn a_value_never_seen_is_handled_and_a_field_of_the_wrong_type_is_an_error_record() {
    let dir = tempfile::tempdir().unwrap();
    let model = trained(dir.path());
    let input = [
        // No text at all: predictions read structured fields only.
        json!({"id": "N", "category": {"name": "teleportation"}, "priority": {"level": "high"}, "channel": "carrier-pigeon", "created_at": "2026-11-24T08:00:00Z"}),
        json!({"id": "W", "subject": "x", "category": ["billing"]}),
        json!({"id": "O", "number": "INC0000045", "opened_at": "2016-02-29 01:16"}),
        json!({"id": "T", "subject": "late", "created_at": "ayer"}),
    ];
    let r = run(&["--model", &model], &jsonl(&input));
    assert_eq!(r.code, 1, "some records failed: {}", r.stderr);
    let out = r.lines();
    assert_eq!(out.len(), 4, "every line gives a line");
    let reasons = out[0]["predictions"]["reasons"].to_string();
    assert!(
        reasons.contains("teleportation") && reasons.contains("new or rare"),
        "{reasons}"
    );
    assert!(
        out[0]["predictions"]["resolution_minutes"]["value"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert_eq!(out[1]["error"]["kind"], "invalid_field");
    assert_eq!(out[1]["error"]["field"], "category");
    assert_eq!(out[1]["error"]["line"], 2);
    assert_eq!(out[2]["error"]["field"], "channel");
    assert!(out[2]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("none of the fields"));
    assert_eq!(out[3]["error"]["field"], "created_at");
}

#[test]
fn evaluate_prints_each_figure_next_to_its_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let all = history();
    let (train, held) = all.split_at(all.len() * 2 / 3);
    let train_path = dir.path().join("train.jsonl");
    let held_path = dir.path().join("held.jsonl");
    std::fs::write(&train_path, jsonl(train)).unwrap();
    std::fs::write(&held_path, jsonl(held)).unwrap();
    let model = dir.path().join("m.model").display().to_string();
    let r = run(
        &[
            "train",
            "--data",
            train_path.to_str().unwrap(),
            "--out",
            &model,
        ],
        "",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let evaluate = |extra: &[&str]| {
        let mut args = vec![
            "evaluate",
            "--data",
            held_path.to_str().unwrap(),
            "--model",
            &model,
        ];
        args.extend(extra);
        let r = run(&args, "");
        assert_eq!(r.code, 0, "{}", r.stderr);
        r
    };
    let r = evaluate(&[]);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let resolution = &report["resolution_minutes"];
    for side in ["model", "baseline"] {
        for score in ["mae", "median_ae", "r2"] {
            assert!(
                resolution[side][score].is_number(),
                "{side}.{score}: {resolution}"
            );
        }
    }
    let coverage = resolution["interval_coverage"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&coverage));
    let sla = &report["sla_breach"];
    assert!(
        sla["model"]["brier"].as_f64().unwrap() < 0.25,
        "better than a coin: {sla}"
    );
    assert!(!sla["calibration"].as_array().unwrap().is_empty());
    for report in [resolution, sla] {
        let shares = report["feature_importance"].as_array().unwrap();
        let total: f64 = shares.iter().map(|s| s["share"].as_f64().unwrap()).sum();
        assert!(
            (total - 1.0).abs() < 0.01,
            "shares of the gain add up: {report}"
        );
        let first = shares[0]["share"].as_f64().unwrap();
        assert!(
            shares.iter().all(|s| s["share"].as_f64().unwrap() <= first),
            "largest first"
        );
    }
    let group = &report["group"];
    assert!(group["top3"].as_f64().unwrap() >= group["top1"].as_f64().unwrap());
    assert!(
        group["top1"].as_f64().unwrap() > group["baseline_top1"].as_f64().unwrap(),
        "{group}"
    );
    let table = evaluate(&["--format", "table"]);
    assert!(
        table
            .stdout
            .contains("baseline: median per category+priority"),
        "{}",
        table.stdout
    );
    // The rest of the history counts towards the load of the held-out tickets.
    let r = evaluate(&["--load-context", train_path.to_str().unwrap()]);
    let with_context: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(with_context["records"], report["records"]);
    let missing = dir.path().join("no-such-history.csv");
    let r = run(
        &[
            "evaluate",
            "--data",
            held_path.to_str().unwrap(),
            "--model",
            &model,
            "--load-context",
            missing.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        r.code != 0 && r.stderr.contains("no-such-history.csv"),
        "{}",
        r.stderr
    );
    let r = run(&["evaluate", "--data", held_path.to_str().unwrap()], "");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--model"), "{}", r.stderr);
}

#[test]
fn before_training_the_embedded_priors_answer_marked_default() {
    let input = [
        json!({"id": "A", "subject": "Caída total", "priority": {"level": "critical"}}),
        json!({"id": "B", "subject": "Duda", "priority": "low"}),
    ];
    let r = run(&[], &jsonl(&input));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = r.lines();
    for record in &out {
        assert_eq!(record["predictions"]["source"], "default");
        assert_eq!(record["predictions"]["model"], "embedded:default-priors");
    }
    let minutes = |i: usize| {
        out[i]["predictions"]["resolution_minutes"]["value"]
            .as_f64()
            .unwrap()
    };
    assert!(
        minutes(0) < minutes(1),
        "critical is resolved sooner than low"
    );
    let printed = run(&["--print-config"], "");
    assert!(printed.stdout.contains("priors:") && printed.stdout.contains("formats:"));
}

#[test]
fn unusable_inputs_are_usage_errors_that_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.model");
    std::fs::write(&garbage, "not a model").unwrap();
    let r = run(
        &["--model", garbage.to_str().unwrap()],
        "{\"subject\":\"x\"}\n",
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("not a support-ml-predict model") && r.stderr.contains("train"),
        "{}",
        r.stderr
    );
    let future = dir.path().join("future.model");
    std::fs::write(&future, r#"{"kind":"support-ml-predict","version":999}"#).unwrap();
    let r = run(
        &["--model", future.to_str().unwrap()],
        "{\"subject\":\"x\"}\n",
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("version 999") && r.stderr.contains("retrain"),
        "{}",
        r.stderr
    );
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"id\":\"1\",\"created_at\":\"2026-01-01T10:00:00Z\",\"category\":\"a\"}\n{\"id\":\"2\",\"created_at\":\"2026-01-01T10:00:00Z\",\"category\":\"a\",\"csat\":\"great\"}\n",
    )
    .unwrap();
    let out = dir.path().join("x.model").display().to_string();
    let r = run(
        &["train", "--data", bad.to_str().unwrap(), "--out", &out],
        "",
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("bad.jsonl:2:") && r.stderr.contains("`csat`"),
        "{}",
        r.stderr
    );
}

#[test]
fn trains_from_the_closed_tickets_of_the_database() {
    let db = TestDb::migrated().expect("PostgreSQL at 127.0.0.1:5432 (see the README to start it)");
    let tickets = history();
    let feedback = std::fs::read_to_string(root().join("examples/feedback.jsonl")).unwrap();
    let feedback: Vec<Value> = feedback
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut client = db.connect().unwrap();
    client
        .execute(
            "INSERT INTO tickets (id, status, channel, language, customer_tier, category, subcategory,
                 priority, queue, assigned_to, resolved_by, created_at, resolved_at, sla_resolution_due, ticket)
             SELECT t->>'id', t->>'status', t->>'channel', t->'sentiment'->>'language', t->'customer'->>'tier',
                 t->'category'->>'name', t->'category'->>'subcategory', t->'priority'->>'level',
                 t->'route'->>'queue', t->>'assigned_to', t->>'resolved_by',
                 (t->>'created_at')::timestamptz, (t->>'resolved_at')::timestamptz,
                 (t->'priority'->'sla'->'resolution'->>'due')::timestamptz, t
             FROM jsonb_array_elements($1::text::jsonb) t",
            &[&Value::from(tickets.clone()).to_string()],
        )
        .unwrap();
    client
        .execute(
            "INSERT INTO feedback (ticket_id, rating)
             SELECT f->>'ticket_id', (f->>'rating')::smallint FROM jsonb_array_elements($1::text::jsonb) f",
            &[&Value::from(feedback.clone()).to_string()],
        )
        .unwrap();
    let closed: Vec<&Value> = tickets
        .iter()
        .filter(|t| {
            matches!(t["status"].as_str(), Some("closed" | "resolved"))
                && t["resolved_at"].is_string()
        })
        .collect();
    let rated = closed
        .iter()
        .filter(|t| feedback.iter().any(|f| f["ticket_id"] == t["id"]))
        .count();
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("db.model").display().to_string();
    let r = run(&["train", "--db", db.url(), "--out", &model], "");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let summary: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(summary["format"], "ticket");
    assert_eq!(summary["examples"]["records"], closed.len());
    assert_eq!(summary["examples"]["resolution_minutes"], closed.len());
    assert_eq!(summary["examples"]["csat"], rated);
    assert!(!summary["data"].as_str().unwrap().contains("password"));
    let predicted = run(&["--model", &model], &jsonl(&[opened(tickets[0].clone())]));
    assert_eq!(predicted.code, 0, "{}", predicted.stderr);
    assert_eq!(predicted.lines()[0]["predictions"]["source"], "model");

    // A time split of the store: trained on the tickets opened before the
    // cut, evaluated on those opened since.
    let cut = "2026-11-17T00:00:00Z";
    let before = closed
        .iter()
        .filter(|t| t["created_at"].as_str().unwrap() < cut)
        .count();
    assert!(before > 0 && before < closed.len());
    let split = dir.path().join("split.model").display().to_string();
    let json_of = |args: &[&str]| {
        let r = run(args, "");
        assert_eq!(r.code, 0, "{}", r.stderr);
        serde_json::from_str::<Value>(&r.stdout).unwrap()
    };
    let (db_url, since, before_cut) = (db.url(), "--opened-since", "--opened-before");
    let summary = json_of(&["train", "--db", db_url, before_cut, cut, "--out", &split]);
    assert_eq!(summary["examples"]["records"], before);
    let report = json_of(&["evaluate", "--db", db_url, since, cut, "--model", &split]);
    assert_eq!(report["records"], closed.len() - before);
    assert!(report["data"]
        .as_str()
        .unwrap()
        .ends_with(&format!(", opened since {cut}")));

    let down = run(
        &[
            "train",
            "--db",
            "postgres://postgres@127.0.0.1:1/none",
            "--out",
            &model,
        ],
        "",
    );
    assert_eq!(
        down.code,
        i32::from(support_store::EXIT_DATABASE),
        "{}",
        down.stderr
    );
    assert!(down.stderr.contains("127.0.0.1:1"), "{}", down.stderr);
}
