//! `support-sentiment train` and `--model`, as a team runs them: a model
//! trained on its labelled texts decides the stream's labels and the
//! evaluation, names the words behind each label, and a wrong file or label
//! is refused with a message that says what to do.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Labelled texts of an airline team whose customers use "lounge" for praise
/// and "escala" (a connection) for a complaint, words the lexicon does not
/// know, with no word it does know.
const TEAM_DATA: &str = "text,label
The lounge in Madrid,positive
Three hours in your lounge,positive
lounge access on this trip,positive
El lounge de Barajas,positive
Otra vez el lounge,positive
La escala en Lima,negative
Otra escala en Panamá,negative
La escala de Bogotá,negative
an escala again,negative
the escala in Miami,negative
What time does boarding start?,neutral
¿Cuál es el límite de equipaje?,neutral
Flight 202 departs from gate 5,neutral
¿A qué hora sale el vuelo?,neutral
Do you fly to Quito?,neutral
";

/// `tool train` with `data` (a CSV's text) in `dir`, as `command` runs it;
/// gives the run and where the model goes.
fn train_with(mut command: Command, dir: &Path, name: &str, data: &str) -> (common::Run, PathBuf) {
    let csv = dir.join(format!("{name}.csv"));
    std::fs::write(&csv, data).unwrap();
    let model = dir.join(format!("{name}.model"));
    command.args([
        "train",
        "--data",
        csv.to_str().unwrap(),
        "--out",
        model.to_str().unwrap(),
    ]);
    (common::run_command(&mut command, b""), model)
}

/// `support-sentiment train` on words and the lexicon, as the tests pin it.
fn train(dir: &Path, data: &str) -> (common::Run, PathBuf) {
    train_with(common::command("support-sentiment"), dir, "team", data)
}

#[test]
fn a_trained_model_labels_the_stream_and_the_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let (trained, model) = train(dir.path(), TEAM_DATA);
    assert_eq!(trained.code, 0, "{}", trained.stderr);
    let summary = &trained.json_lines()[0];
    assert_eq!(summary["examples"], 15, "{summary}");
    assert_eq!(summary["labels"], 3, "{summary}");
    assert_eq!(
        summary["bytes"].as_u64().unwrap(),
        std::fs::metadata(&model).unwrap().len()
    );

    let tickets = br#"{"id":"T-1","description":"Nos dieron el lounge"}
{"id":"T-2","description":"We had an escala"}
"#;
    let lexicon = common::run("support-sentiment", &[], tickets).json_lines();
    let with_model = common::run(
        "support-sentiment",
        &["--model", model.to_str().unwrap()],
        tickets,
    );
    assert_eq!(with_model.code, 0, "{}", with_model.stderr);
    let with_model = with_model.json_lines();
    for (i, label) in ["positive", "negative"].iter().enumerate() {
        assert_eq!(lexicon[i]["sentiment"]["label"], "neutral");
        let sentiment = &with_model[i]["sentiment"];
        assert_eq!(sentiment["label"], *label, "{sentiment}");
        let reason = sentiment["reasons"][0].as_str().unwrap();
        assert!(
            reason.starts_with(&format!("model: {label} at")),
            "{reason}"
        );
    }

    let evaluate = |args: &[&str]| {
        let csv = dir.path().join("team.csv");
        let mut all = args.to_vec();
        all.extend(["evaluate", "--data", csv.to_str().unwrap()]);
        let run = common::run("support-sentiment", &all, b"");
        assert_eq!(run.code, 0, "{}", run.stderr);
        let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        report["accuracy"].as_f64().unwrap()
    };
    let (lexicon, trained) = (
        evaluate(&[]),
        evaluate(&["--model", model.to_str().unwrap()]),
    );
    assert!(
        lexicon < 0.5 && trained == 1.0,
        "lexicon {lexicon}, model {trained}"
    );
}

#[test]
fn a_wrong_label_or_a_category_model_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (run, model) = train(
        dir.path(),
        &TEAM_DATA.replace("Otra vez el lounge,positive", "Otra vez el lounge,mixed"),
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("example 5: label `mixed` is not negative, neutral or positive"),
        "{}",
        run.stderr
    );
    assert!(!model.exists());

    let (made, categories) = train_with(
        common::command("support-categorize"),
        dir.path(),
        "categories",
        "text,label\nrefund please,refund\nmy invoice,billing\n",
    );
    assert_eq!(made.code, 0, "{}", made.stderr);
    let run = common::run(
        "support-sentiment",
        &["--model", categories.to_str().unwrap()],
        br#"{"description":"hola"}"#,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("categories.model")
            && run
                .stderr
                .contains("make a sentiment model with `support-sentiment train`"),
        "{}",
        run.stderr
    );
}

/// The tool with the embedding model, as a user who installed it runs it
/// (the other tests pin the lexical path).
fn with_embeddings() -> Command {
    let mut command = common::command("support-sentiment");
    command.env_remove("SUPPORT_LEXICAL");
    command
}

#[test]
fn with_the_embedding_model_a_model_learns_from_embeddings_and_needs_them() {
    let dir = tempfile::tempdir().unwrap();
    let (trained, model) = train_with(with_embeddings(), dir.path(), "team", TEAM_DATA);
    assert_eq!(trained.code, 0, "{}", trained.stderr);
    let bytes = std::fs::read(&model).unwrap();
    assert_eq!(
        u32::from_le_bytes(bytes[8..12].try_into().unwrap()),
        2,
        "a model with embedding weights"
    );

    let ticket = br#"{"id":"T-1","description":"Nos dieron el lounge"}"#;
    let run = common::run_command(
        with_embeddings().args(["--model", model.to_str().unwrap()]),
        ticket,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sentiment = &run.json_lines()[0]["sentiment"];
    assert_eq!(sentiment["label"], "positive", "{sentiment}");
    let reason = sentiment["reasons"][0].as_str().unwrap();
    assert!(reason.ends_with("and the text's embedding"), "{reason}");

    // support-triage runs it too, on the embedding categorize computes for the ticket.
    let triaged = common::run_command(
        common::command("support-triage")
            .env_remove("SUPPORT_LEXICAL")
            .args(["--sentiment-model", model.to_str().unwrap()]),
        ticket,
    );
    assert_eq!(triaged.code, 0, "{}", triaged.stderr);
    let triaged = &triaged.json_lines()[0];
    assert_eq!(triaged["sentiment"]["reasons"][0], sentiment["reasons"][0]);
    assert!(
        triaged["category"]["source"]
            .as_str()
            .unwrap()
            .starts_with("embeddings"),
        "{}",
        triaged["category"]
    );

    let lexical = common::run(
        "support-sentiment",
        &["--model", model.to_str().unwrap()],
        ticket,
    );
    assert_eq!(lexical.code, 2, "{}", lexical.stderr);
    assert!(lexical.stdout.is_empty());
    assert!(
        lexical
            .stderr
            .contains("trained with embeddings as features")
            && lexical.stderr.contains("support-sentiment train --lexical"),
        "{}",
        lexical.stderr
    );
}
