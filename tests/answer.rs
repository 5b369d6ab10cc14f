//! support-answer as a user runs it: an index built from the example
//! knowledge base, then tickets answered in both languages. Needs the
//! embedding model (`scripts/setup-models.sh`, which scripts/test.sh runs).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// `support-answer index` of the example knowledge base into `out`, with
/// `extra` arguments; its summary.
fn build_index(out: &Path, extra: &[&str]) -> Value {
    let kb = common::examples_dir().join("kb/articles.jsonl");
    let mut args = vec![
        "index",
        "--kb",
        kb.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = common::run("support-answer", &args, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(run.stdout_str()).unwrap()
}

/// The example knowledge base's index, built once for every test here.
fn index() -> &'static Path {
    static INDEX: OnceLock<PathBuf> = OnceLock::new();
    INDEX.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("answer-tests.index");
        assert_eq!(build_index(&out, &[])["articles"], 31);
        out
    })
}

fn answer(ticket: Value) -> Value {
    let run = common::run(
        "support-answer",
        &["--index", index().to_str().unwrap()],
        ticket.to_string().as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut out = run.json_lines();
    assert_eq!(out.len(), 1);
    out.remove(0)
}

#[test]
fn a_spanish_ticket_gets_the_article_and_a_spanish_reply() {
    let out = answer(serde_json::json!({
        "id": "T-77", "customer": {"name": "Lucía"},
        "subject": "Cobro duplicado",
        "description": "Me habéis cobrado dos veces la misma suscripción este mes"
    }));
    let answer = &out["answer"];
    assert_eq!(answer["articles"][0]["id"], "kb-double-charge", "{answer}");
    let reply = &answer["reply"];
    assert_eq!(reply["language"], "es");
    let text = reply["text"].as_str().unwrap();
    assert!(
        text.starts_with("Hola Lucía,") && text.contains("T-77"),
        "{text}"
    );
    assert!(!text.contains('{'), "unfilled placeholder: {text}");
    assert_eq!(
        out["subject"], "Cobro duplicado",
        "the ticket passes through"
    );
    let schema: Value =
        serde_json::from_str(include_str!("../schemas/answer.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert!(validator.is_valid(answer), "{answer}");
}

#[test]
fn an_english_ticket_finds_a_spanish_article_across_languages() {
    // kb-order-tracking is written in Spanish and has only a Spanish reply.
    let out = answer(serde_json::json!({
        "id": "T-78", "language": "en",
        "subject": "My order is late",
        "description": "The tracking of my order has not been updated for a week. When will it be delivered?"
    }));
    let answer = &out["answer"];
    assert_eq!(answer["articles"][0]["id"], "kb-order-tracking", "{answer}");
    assert_eq!(answer["reply"]["language"], "es");
    assert!(answer["reply"]["note"]
        .as_str()
        .unwrap()
        .contains("no reply in `en`"));
}

#[test]
fn a_thank_you_note_is_not_answered_automatically() {
    let out = answer(serde_json::json!({
        "subject": "Thanks!", "description": "Thank you so much for your help yesterday, great service."
    }));
    let answer = &out["answer"];
    assert_eq!(answer["auto_reply"], false, "{answer}");
    let reasons = answer["reasons"].to_string();
    assert!(reasons.contains("no confident answer"), "{reasons}");
}

#[test]
fn an_article_that_promises_a_person_is_only_a_draft() {
    // kb-hacked-account says the security team will lock the account and
    // get in touch, so it carries `auto_reply: false`.
    let out = answer(serde_json::json!({
        "id": "T-79", "customer": {"name": "Javier"},
        "subject": "Security breach? Unknown logins",
        "description": "I got alerts of logins from another country and my password was changed without me. I think my account was hacked."
    }));
    let answer = &out["answer"];
    assert_eq!(answer["articles"][0]["id"], "kb-hacked-account", "{answer}");
    assert_eq!(answer["auto_reply"], false, "{answer}");
    assert!(answer["reply"]["text"]
        .as_str()
        .unwrap()
        .starts_with("Hi Javier,"));
    let reasons = answer["reasons"].to_string();
    assert!(
        reasons.contains("an agent sends its reply (`auto_reply: false`)"),
        "{reasons}"
    );
}

/// The report of `support-answer evaluate --index <the example index> ARGS`.
fn evaluation(args: &[&str]) -> Value {
    let index = index();
    let mut all = vec!["evaluate", "--index", index.to_str().unwrap()];
    all.extend(args);
    let run = common::run("support-answer", &all, b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(run.stdout_str()).unwrap()
}

#[test]
fn evaluate_prints_recall_and_the_threshold_for_a_precision() {
    let queries = common::examples_dir().join("kb/queries.csv");
    let report = evaluation(&[
        "--data",
        queries.to_str().unwrap(),
        "--target-precision",
        "0.9",
    ]);
    assert_eq!(report["examples"], 60);
    // Held-out paraphrases of the example articles: well above chance (1/31).
    assert!(report["recall_at_5"].as_f64().unwrap() >= 0.9, "{report}");
    assert!(
        report["threshold_for_target"]["precision"]
            .as_f64()
            .unwrap()
            >= 0.9
    );
}

#[test]
fn evaluate_asks_the_index_its_own_questions_each_left_out() {
    let report = evaluation(&["--leave-one-out"]);
    let articles =
        std::fs::read_to_string(common::examples_dir().join("kb/articles.jsonl")).unwrap();
    let questions: usize = articles
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .map(|article| article["questions"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(report["examples"], questions);
    // A question asked with itself indexed would always find its article:
    // left out, some fall to a neighbouring article, most still do not.
    let recall = report["recall_at_1"].as_f64().unwrap();
    assert!(recall > 0.5 && recall < 1.0, "{report}");
}

#[test]
fn a_missing_index_or_model_says_what_to_run() {
    let run = common::run(
        "support-answer",
        &["--index", "/nonexistent/kb.index"],
        b"{}",
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("support-answer index --kb"),
        "{}",
        run.stderr
    );
    let out = Command::new(common::bin("support-answer"))
        .args([
            "--index",
            index().to_str().unwrap(),
            "--embedder",
            "/nonexistent/e5",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("scripts/setup-models.sh"), "{stderr}");
}

#[test]
fn a_ticket_without_text_is_an_error_record_in_its_place() {
    let input = b"{\"id\":\"a\",\"subject\":\"Password reset\"}\n{\"id\":\"b\"}\n";
    let run = common::run(
        "support-answer",
        &["--index", index().to_str().unwrap()],
        input,
    );
    assert_eq!(run.code, 1);
    let lines = run.json_lines();
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["answer"].is_object());
    assert_eq!(lines[1]["error"]["kind"], "no_text");
    assert_eq!(lines[1]["error"]["line"], 2);
}

#[test]
fn support_triage_answers_too_when_given_an_index() {
    let agents = common::examples_dir().join("agents.yaml");
    let run = common::run(
        "support-triage",
        &[
            "--index",
            index().to_str().unwrap(),
            "--agents",
            agents.to_str().unwrap(),
            "--now",
            "2026-11-24T09:00:00Z",
        ],
        &common::example_tickets(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tickets = run.json_lines();
    assert_eq!(tickets.len(), 24);
    for ticket in &tickets {
        for key in [
            "sentiment",
            "category",
            "answer",
            "tags",
            "priority",
            "route",
            "escalation",
        ] {
            assert!(ticket.get(key).is_some(), "{key} missing in {ticket}");
        }
    }
    // The same answer as support-answer alone gives.
    let alone = answer(tickets[1].clone());
    assert_eq!(tickets[1]["answer"], alone["answer"]);
}

#[test]
fn the_index_can_come_from_the_stores_knowledge_base() {
    let db = support_store::testing::TestDb::migrated()
        .expect("PostgreSQL at 127.0.0.1:5432 (see the developers' guide to start it)");
    db.connect()
        .unwrap()
        .batch_execute(
            r#"INSERT INTO kb_entries (id, title, body, language, questions, url, reply) VALUES
               ('kb-invoice', 'Download your invoices', 'Open Billing and choose Invoices.', 'en',
                '{"where is my invoice", "necesito la factura"}', 'https://help.example.com/invoices',
                '{"es": "Hola {customer_name}, tu factura está en Facturación.", "en": "Hi {customer_name}, your invoice is under Billing."}'),
               ('kb-password', 'Reset your password', 'Use the link on the sign-in page.', 'en',
                '{}', NULL, '{}');
               UPDATE kb_entries SET auto_reply = false WHERE id = 'kb-password'"#,
        )
        .unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("store.index");
    let run = common::run(
        "support-answer",
        &["index", "--db", db.url(), "--out", out.to_str().unwrap()],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: Value = serde_json::from_str(run.stdout_str()).unwrap();
    assert_eq!(
        (summary["articles"].clone(), summary["texts"].clone()),
        (2.into(), 4.into())
    );
    let stored = std::fs::read_to_string(out.join("index.json")).unwrap();
    let articles = serde_json::from_str::<Value>(&stored).unwrap()["articles"].clone();
    let sendable: Vec<_> = articles
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].clone(), a.get("auto_reply").cloned()))
        .collect();
    assert_eq!(
        sendable,
        [
            ("kb-invoice".into(), None),
            ("kb-password".into(), Some(false.into()))
        ],
        "the store's `auto_reply` reaches the index"
    );
    let ticket =
        br#"{"customer":{"name":"Marta"},"description":"No encuentro la factura de noviembre"}"#;
    let run = common::run(
        "support-answer",
        &["--index", out.to_str().unwrap()],
        ticket,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let answer = &run.json_lines()[0]["answer"];
    assert_eq!(answer["articles"][0]["id"], "kb-invoice", "{answer}");
    assert_eq!(
        answer["reply"]["text"],
        "Hola Marta, tu factura está en Facturación."
    );
}

#[test]
fn rebuilding_the_index_gives_the_same_files() {
    let again = tempfile::tempdir().unwrap();
    build_index(again.path(), &[]);
    for file in ["index.json", "vectors.f32"] {
        let first = std::fs::read(index().join(file)).unwrap();
        let second = std::fs::read(again.path().join(file)).unwrap();
        assert!(first == second, "{file} differs between two builds");
    }
}

#[test]
fn a_passage_cap_in_the_config_cuts_the_articles_not_their_questions() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("answer.yaml");
    std::fs::write(&config, "passage_tokens: 8\n").unwrap();
    let out = dir.path().join("capped.index");
    let summary = build_index(&out, &["--config", config.to_str().unwrap()]);
    assert_eq!(summary["passage_tokens"], 8);
    let stored: Value =
        serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
    assert_eq!(stored["passage_tokens"], 8);
    let default: Value =
        serde_json::from_slice(&std::fs::read(index().join("index.json")).unwrap()).unwrap();
    assert_eq!(default["passage_tokens"], 128);

    // Row by row against the default build: every article (longer than 8
    // tokens) is embedded from its first tokens only; every question as before.
    let row_bytes = stored["dim"].as_u64().unwrap() as usize * 4;
    let rows = |index: &Path| -> Vec<Vec<u8>> {
        let bytes = std::fs::read(index.join("vectors.f32")).unwrap();
        bytes.chunks(row_bytes).map(<[u8]>::to_vec).collect()
    };
    let (capped, full) = (rows(&out), rows(index()));
    let kinds = stored["texts"].as_array().unwrap();
    assert_eq!((capped.len(), full.len()), (kinds.len(), kinds.len()));
    for ((kind, capped), full) in kinds.iter().zip(&capped).zip(&full) {
        match kind["kind"].as_str().unwrap() {
            "article" => assert_ne!(capped, full, "an article embedded whole"),
            _ => assert_eq!(capped, full, "a question changed"),
        }
    }
}
