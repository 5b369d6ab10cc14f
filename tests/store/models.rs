//! `support-store models`: promotion only when the candidate beats the active
//! model on the same data, rollback, list, and the active model's path.

use std::path::Path;

use serde_json::{json, Value};

use support_store::testing::TestDb;

use crate::common::{migrated, stderr, stdout_lines, store};

/// A categorize evaluation report on 120 held-out examples.
fn report(dir: &Path, name: &str, macro_f1: f64) -> String {
    let path = dir.join(name);
    let report = json!({"model": name, "level": "subcategory", "count": 120,
                        "accuracy": macro_f1, "macro_f1": macro_f1});
    std::fs::write(&path, report.to_string()).unwrap();
    path.display().to_string()
}

fn model(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

fn json_out(output: &std::process::Output) -> Value {
    assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(output)))
}

/// Checks `value` against `schemas/store-models-<command>.schema.json`.
fn assert_schema(command: &str, value: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(format!("store-models-{command}.schema.json"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{command}: {value} does not match {}: {errors:?}",
        path.display()
    );
}

fn path_of(db: &TestDb, tool: &str, cache: &Path) -> String {
    let cache = cache.display().to_string();
    let out = store(
        db,
        &["models", "path", "--tool", tool, "--cache-dir", &cache],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

/// `support-store models promote --tool categorize --file FILE` with reports
/// of the candidate's and the active model's macro-F1, and `extra` flags.
fn promote(db: &TestDb, dir: &Path, file: &str, f1: (f64, f64), extra: &[&str]) -> Value {
    let (candidate, active) = (
        report(dir, "candidate.json", f1.0),
        report(dir, "active.json", f1.1),
    );
    let mut args = vec!["models", "promote", "--tool", "categorize", "--file", file];
    args.extend(["--report", &candidate, "--active-report", &active]);
    args.extend(extra);
    let promoted = json_out(&store(db, &args, ""));
    assert_schema("promote", &promoted);
    promoted
}

fn model_command(db: &TestDb, args: &[&str]) -> Value {
    let mut all = vec!["models"];
    all.extend(args);
    let out = json_out(&store(db, &all, ""));
    assert_schema(args[0], &out);
    out
}

#[test]
fn a_candidate_is_promoted_only_when_it_beats_the_active_model_and_rollback_undoes_it() {
    let db = migrated();
    let dir = tempfile::tempdir().unwrap();
    let (d, cache) = (dir.path(), dir.path().join("cache"));
    let eval_data = model(d, "dev.csv", b"text,label\nhola,greeting\n");
    assert_eq!(
        path_of(&db, "categorize", &cache),
        "",
        "nothing active: the embedded default"
    );

    // Against the embedded default's report: better, so version 1.
    let first = model(d, "first.model", b"first model bytes");
    let recorded = [
        "--eval-data",
        &eval_data,
        "--training-data",
        "train.csv + 3 corrections",
    ];
    let promoted = promote(&db, d, &first, (0.80, 0.70), &recorded);
    assert_eq!(promoted["promoted"], true);
    assert_eq!(promoted["version"], 1);
    assert_eq!(promoted["replaced"], Value::Null);
    let change = &promoted["changes"][0];
    assert_eq!(
        (
            change["metric"].as_str(),
            change["active"].as_f64(),
            change["candidate"].as_f64()
        ),
        (Some("/macro_f1"), Some(0.70), Some(0.80))
    );
    let active = path_of(&db, "categorize", &cache);
    assert!(active.starts_with(&cache.display().to_string()), "{active}");
    assert_eq!(std::fs::read(&active).unwrap(), b"first model bytes");

    // A worse candidate and an equal one are kept out; the active model stays.
    let second = model(d, "second.model", b"second model bytes");
    for f1 in [0.79, 0.80] {
        let kept = promote(&db, d, &second, (f1, 0.80), &[]);
        assert_eq!(kept["promoted"], false, "macro-F1 {f1}");
        assert_eq!(kept["replaced"]["version"], 1);
        assert!(
            kept["reason"].as_str().unwrap().contains("does not beat"),
            "{kept}"
        );
    }
    assert_eq!(path_of(&db, "categorize", &cache), active);

    // A better one replaces it; the path follows.
    let promoted = promote(&db, d, &second, (0.85, 0.80), &[]);
    assert_eq!(
        (promoted["promoted"].as_bool(), promoted["version"].as_i64()),
        (Some(true), Some(2))
    );
    assert_eq!(promoted["replaced"]["version"], 1);
    assert_eq!(
        std::fs::read(path_of(&db, "categorize", &cache)).unwrap(),
        b"second model bytes"
    );

    let listed = stdout_lines(&store(&db, &["models", "list", "--tool", "categorize"], ""));
    listed.iter().for_each(|model| assert_schema("list", model));
    let summary: Vec<_> = listed
        .iter()
        .map(|m| {
            (
                m["version"].as_i64().unwrap(),
                m["active"].as_bool().unwrap(),
                m["metrics"]["/macro_f1"].as_f64(),
            )
        })
        .collect();
    assert_eq!(summary, [(2, true, Some(0.85)), (1, false, Some(0.80))]);
    assert_eq!(listed[1]["training_data"], "train.csv + 3 corrections");
    assert!(
        listed[1]["eval_data"].as_str().unwrap().contains("sha256:"),
        "{}",
        listed[1]
    );
    assert_eq!(listed[0]["bytes"], "second model bytes".len());

    // Rollback: version 1 again, then the embedded default, then nothing left to undo.
    let rolled = model_command(&db, &["rollback", "--tool", "categorize"]);
    assert_eq!(
        (
            rolled["from"]["version"].as_i64(),
            rolled["to"]["version"].as_i64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(
        std::fs::read(path_of(&db, "categorize", &cache)).unwrap(),
        b"first model bytes"
    );
    let rolled = model_command(&db, &["rollback", "--tool", "categorize"]);
    assert_eq!(
        (rolled["from"]["version"].as_i64(), &rolled["to"]),
        (Some(1), &Value::Null)
    );
    assert_eq!(path_of(&db, "categorize", &cache), "");
    let nothing = store(&db, &["models", "rollback", "--tool", "categorize"], "");
    assert_eq!(nothing.status.code(), Some(2));
    assert!(
        stderr(&nothing).contains("no active model"),
        "{}",
        stderr(&nothing)
    );

    // Any version can be made active again by number.
    let chosen = model_command(&db, &["rollback", "--tool", "categorize", "--to", "2"]);
    assert_eq!(chosen["to"]["version"], 2);
    assert_eq!(
        std::fs::read(path_of(&db, "categorize", &cache)).unwrap(),
        b"second model bytes"
    );
    // Another tool's models are its own.
    let out = store(&db, &["models", "path", "--tool", "sentiment"], "");
    assert_eq!((out.status.code(), out.stdout.is_empty()), (Some(0), true));
}

#[test]
fn reports_on_different_data_are_refused_and_nothing_changes() {
    let db = migrated();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let other = d.join("other.json");
    std::fs::write(&other, json!({"count": 99, "macro_f1": 0.1}).to_string()).unwrap();
    let out = store(
        &db,
        &[
            "models",
            "promote",
            "--tool",
            "categorize",
            "--file",
            &model(d, "m.model", b"m"),
            "--report",
            &report(d, "c.json", 0.9),
            "--active-report",
            &other.display().to_string(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not on the same held-out data"),
        "{}",
        stderr(&out)
    );
    assert!(stdout_lines(&store(&db, &["models", "list"], "")).is_empty());
}

#[test]
fn a_folder_model_is_stored_whole_and_fetched_whole() {
    let db = migrated();
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index");
    std::fs::create_dir(&index).unwrap();
    std::fs::write(index.join("index.json"), b"{}").unwrap();
    std::fs::write(index.join("vectors.bin"), [0u8, 1, 2, 3]).unwrap();
    let promoted = json_out(&store(
        &db,
        &[
            "models",
            "promote",
            "--tool",
            "answer",
            "--force",
            "--file",
            &index.display().to_string(),
            "--report",
            &model(
                dir.path(),
                "r.json",
                br#"{"examples": 10, "recall_at_1": 0.9, "mrr": 0.95}"#,
            ),
        ],
        "",
    ));
    assert_eq!(promoted["promoted"], true);
    let cache = dir.path().join("cache");
    let fetched = Path::new(&path_of(&db, "answer", &cache)).to_path_buf();
    assert!(fetched.is_dir(), "{}", fetched.display());
    assert_eq!(
        std::fs::read(fetched.join("vectors.bin")).unwrap(),
        [0u8, 1, 2, 3]
    );
    assert_eq!(std::fs::read(fetched.join("index.json")).unwrap(), b"{}");
    // A damaged copy in the cache is fetched again.
    std::fs::write(fetched.join("vectors.bin"), b"damaged").unwrap();
    assert_eq!(Path::new(&path_of(&db, "answer", &cache)), fetched);
    assert_eq!(
        std::fs::read(fetched.join("vectors.bin")).unwrap(),
        [0u8, 1, 2, 3]
    );
}

/// `--store-models`: a tool runs the store's active model, fetched into the
/// cache, and its embedded default once the promotion is rolled back.
#[test]
fn a_tool_with_store_models_predicts_with_the_promoted_model() {
    let db = migrated();
    let dir = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let model = dir.path().join("ml.model");
    let run = |args: &[&str], stdin: &str| {
        support_core::testing::output_with_stdin(
            std::process::Command::new(env!("CARGO_BIN_EXE_support-ml-predict"))
                .args(args)
                .env("DATABASE_URL", db.url())
                .env("XDG_CACHE_HOME", dir.path()),
            stdin.as_bytes(),
        )
    };
    let history = examples.join("history.jsonl").display().to_string();
    let trained = run(
        &[
            "train",
            "--data",
            &history,
            "--out",
            &model.display().to_string(),
        ],
        "",
    );
    assert!(trained.status.success(), "{}", stderr(&trained));
    let report = dir.path().join("report.json");
    std::fs::write(&report, r#"{"records": 294}"#).unwrap();
    let promoted = json_out(&store(
        &db,
        &[
            "models",
            "promote",
            "--tool",
            "ml-predict",
            "--force",
            "--file",
            &model.display().to_string(),
            "--report",
            &report.display().to_string(),
        ],
        "",
    ));
    let sha = promoted["sha256"].as_str().unwrap();

    // A triaged ticket, as the flows hand it over: the example history's first.
    let history_text = std::fs::read_to_string(examples.join("history.jsonl")).unwrap();
    let ticket = history_text.lines().next().unwrap();
    let predicted = |stdin: &str| {
        let out = run(&["--store-models"], stdin);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["predictions"].clone()
    };
    let with_model = predicted(ticket);
    assert_eq!(with_model["source"], "model");
    let fetched = dir
        .path()
        .join("support-suite/models")
        .join(format!("ml-predict-v1-{}.model", &sha[..16]));
    assert_eq!(with_model["model"], fetched.display().to_string());
    assert_eq!(
        std::fs::read(&fetched).unwrap(),
        std::fs::read(&model).unwrap()
    );

    json_out(&store(
        &db,
        &["models", "rollback", "--tool", "ml-predict"],
        "",
    ));
    assert_eq!(predicted(ticket)["source"], "default");

    // The store out of reach: an error naming the flag, never a silent default.
    let out = support_core::testing::output_with_stdin(
        std::process::Command::new(env!("CARGO_BIN_EXE_support-ml-predict"))
            .arg("--store-models")
            .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
            .env("XDG_CACHE_HOME", dir.path()),
        ticket.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("--store-models"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}
