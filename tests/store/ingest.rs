use std::time::Instant;

use serde_json::json;

use crate::common::{count, jsonl, migrated, snapshot, stderr, stdout_lines, store, ticket};

fn escalated(id: &str) -> serde_json::Value {
    ticket(
        id,
        json!({
            "messages": [
                {"role": "user", "content": "no funciona"},
                {"role": "bot", "content": "¿Ha probado a reiniciar?"},
                {"role": "user", "content": "sí, tercera vez"}
            ],
            "tags": {"tags": [{"name": "outage"}, {"name": "vip"}], "confidence": 0.9},
            "escalation": {"escalate": true, "level": "L2", "triggers": [{"kind": "vip"}],
                           "actions": [{"action": "notify", "who": "lead"}], "confidence": 0.8}
        }),
    )
}

#[test]
fn ingesting_twice_leaves_the_same_rows() {
    let db = migrated();
    let input = jsonl(
        &(0..30)
            .map(|i| escalated(&format!("T-{i}")))
            .collect::<Vec<_>>(),
    );
    let first = store(&db, &["ingest", "--batch-size", "7"], &input);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(first.stdout.is_empty(), "no error records");
    let summary: serde_json::Value =
        serde_json::from_str(stderr(&first).lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"]["stored"], 30);
    assert_eq!(
        summary["summary"]["batches"], 5,
        "30 records in batches of 7"
    );

    let mut client = db.connect().unwrap();
    let before = snapshot(&mut client);
    assert_eq!(count(&mut client, "SELECT count(*) FROM tickets"), 30);
    assert_eq!(count(&mut client, "SELECT count(*) FROM messages"), 90);
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM triage_results"),
        6 * 30,
        "six tools"
    );
    assert_eq!(count(&mut client, "SELECT count(*) FROM escalations"), 30);

    let second = store(&db, &["ingest", "--batch-size", "4"], &input);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_eq!(snapshot(&mut client), before, "same rows, same timestamps");
}

#[test]
fn a_changed_record_updates_its_rows_and_keeps_human_corrections() {
    let db = migrated();
    let original = escalated("T-1");
    store(&db, &["ingest"], &jsonl(std::slice::from_ref(&original)));
    let corrected = store(
        &db,
        &[
            "correct", "--ticket", "T-1", "--tool", "category", "--label", "refund",
        ],
        "",
    );
    assert!(corrected.status.success(), "{}", stderr(&corrected));

    let mut changed = original;
    changed["status"] = json!("resolved");
    changed["category"]["name"] = json!("refund");
    changed["messages"] = json!([{"role": "user", "content": "gracias"}]);
    changed.as_object_mut().unwrap().remove("tags");
    let out = store(&db, &["ingest"], &jsonl(&[changed]));
    assert!(out.status.success(), "{}", stderr(&out));

    let mut client = db.connect().unwrap();
    let row = client
        .query_one("SELECT status, category FROM tickets WHERE id = 'T-1'", &[])
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "resolved");
    assert_eq!(row.get::<_, String>(1), "refund");
    assert_eq!(count(&mut client, "SELECT count(*) FROM messages"), 1);
    let result = client
        .query_one(
            "SELECT label, true_label FROM triage_results WHERE ticket_id = 'T-1' AND tool = 'category'",
            &[],
        )
        .unwrap();
    assert_eq!(result.get::<_, String>(0), "refund");
    assert_eq!(
        result.get::<_, String>(1),
        "refund",
        "the correction survives"
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM triage_results WHERE tool = 'tags'"
        ),
        0,
        "a result no longer in the record goes"
    );
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM escalations"),
        1,
        "no second escalation to L2"
    );
}

#[test]
fn the_last_record_for_an_id_in_a_batch_wins() {
    let db = migrated();
    let input = jsonl(&[
        ticket("T-1", json!({"status": "open"})),
        ticket("T-1", json!({"status": "pending"})),
    ]);
    let out = store(&db, &["ingest"], &input);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut client = db.connect().unwrap();
    let status: String = client
        .query_one("SELECT status FROM tickets WHERE id = 'T-1'", &[])
        .unwrap()
        .get(0);
    assert_eq!(status, "pending");
}

#[test]
fn malformed_records_are_reported_and_the_rest_kept() {
    let db = migrated();
    let big = ticket("T-big", json!({"description": "x".repeat(5000)}));
    let input = [
        ticket("T-1", json!({})).to_string(),
        "{not json".to_owned(),
        ticket("T-2", json!({})).to_string(),
        json!({"subject": "no id"}).to_string(),
        String::new(),
        ticket("T-3", json!({"priority": {"level": "extreme"}})).to_string(),
        ticket("T-4", json!({"created_at": "ayer"})).to_string(),
        "[1, 2]".to_owned(),
        big.to_string(),
        ticket("T-5", json!({"subject": "nul \u{0} byte"})).to_string(),
        ticket("T-6", json!({})).to_string(),
    ]
    .join("\n");
    let out = store(
        &db,
        &["ingest", "--batch-size", "3", "--max-record-bytes", "4000"],
        &input,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let errors: Vec<(u64, String, Option<String>, Option<String>)> = stdout_lines(&out)
        .iter()
        .map(|e| {
            let e = &e["error"];
            (
                e["line"].as_u64().unwrap(),
                e["kind"].as_str().unwrap().to_owned(),
                e["field"].as_str().map(str::to_owned),
                e["id"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (2, "invalid_json".into(), None, None),
            (4, "invalid_field".into(), Some("id".into()), None),
            (
                6,
                "invalid_field".into(),
                Some("priority.level".into()),
                Some("T-3".into())
            ),
            (
                7,
                "invalid_field".into(),
                Some("created_at".into()),
                Some("T-4".into())
            ),
            (8, "not_an_object".into(), None, None),
            (9, "too_large".into(), None, None),
        ]
    );
    let mut client = db.connect().unwrap();
    let ids: Vec<String> = client
        .query("SELECT id FROM tickets ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        ids,
        ["T-1", "T-2", "T-5", "T-6"],
        "a NUL does not refuse T-5"
    );
    assert!(
        stderr(&out).contains("6 of 10 records failed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn error_records_can_go_to_their_own_file() {
    let db = migrated();
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let input = format!("{}\n{{\n", ticket("T-1", json!({})));
    let out = store(
        &db,
        &["ingest", "--errors", errors.to_str().unwrap()],
        &input,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let written = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(written.lines().count(), 1);
    assert!(written.contains(r#""line":2"#), "{written}");
}

#[test]
fn a_ticket_read_from_a_file_is_stored_with_its_columns() {
    let db = migrated();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    std::fs::write(
        &path,
        jsonl(&[ticket(
            "T-9",
            json!({"status": "closed", "closed_at": "2026-01-02T00:00:00Z",
                   "messages": [{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}],
                   "priority": {"level": "urgent", "sla": {"first_response": {"due": "2026-01-01T10:30:00Z"}}},
                   "route": {"queue": "billing", "agent": "ana"}}),
        )]),
    )
    .unwrap();
    let out = store(&db, &["ingest", "--input", path.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let mut client = db.connect().unwrap();
    let row = client
        .query_one(
            "SELECT priority, queue, assigned_to, resolved_by, bot_resolved,
                    sla_first_response_due = '2026-01-01T10:30:00Z', ticket->>'id'
             FROM tickets WHERE id = 'T-9'",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "urgent");
    assert_eq!(row.get::<_, String>(1), "billing");
    assert_eq!(row.get::<_, String>(2), "ana");
    assert_eq!(row.get::<_, String>(3), "bot");
    assert!(row.get::<_, bool>(4));
    assert!(row.get::<_, bool>(5));
    assert_eq!(row.get::<_, String>(6), "T-9");
    let metrics = count(
        &mut client,
        "SELECT count(*) FROM operation_metrics WHERE tool = 'support-store ingest' AND success AND records = 1",
    );
    assert_eq!(metrics, 1, "the run is recorded in operation_metrics");
}

/// What support-triage accepts is stored: `\u0000` (PostgreSQL cannot hold
/// it) as U+FFFD with a warning, a key repeated inside `customer` with its
/// last value, as the runner reads it.
#[test]
fn a_nul_and_a_repeated_customer_key_are_stored_as_triage_read_them() {
    let db = migrated();
    let nul = ticket(
        "T-1",
        json!({"subject": "nul \u{0} byte", "messages": [{"role": "user", "content": "a\u{0}"}]}),
    );
    let repeated = ticket("T-2", json!({})).to_string().replace(
        r#""email":"a@example.com""#,
        r#""email":"old@example.com","email":"new@example.com""#,
    );
    assert!(repeated.contains("old@example.com"), "{repeated}");
    let input = format!("{nul}\n{repeated}\n");
    let out = store(&db, &["ingest"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "no error records");
    let warning = stderr(&out);
    assert!(
        warning.contains("U+FFFD") && warning.contains("T-1"),
        "the replacement is told, with the ticket's id: {warning}"
    );
    let mut client = db.connect().unwrap();
    let row = client
        .query_one(
            "SELECT t.subject, t.ticket->>'subject', m.content
             FROM tickets t JOIN messages m ON m.ticket_id = t.id WHERE t.id = 'T-1'",
            &[],
        )
        .unwrap();
    for column in 0..3 {
        let text: String = row.get(column);
        assert!(
            text.contains('\u{FFFD}') && !text.contains('\0'),
            "{text:?}"
        );
    }
    let row = client
        .query_one(
            "SELECT customer_email, ticket->'customer'->>'email' FROM tickets WHERE id = 'T-2'",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "new@example.com");
    assert_eq!(row.get::<_, String>(1), "new@example.com");
}

/// Three ingests of the same tickets at once, each in another order (as two
/// schedules and a rerun would send them): before the rows were locked in id
/// order, two of three such runs often died of a deadlock.
#[test]
fn three_concurrent_ingests_of_the_same_tickets_all_succeed_without_duplicates() {
    let db = migrated();
    let n = 1200;
    let tickets: Vec<_> = (0..n)
        .map(|i| {
            ticket(
                &format!("T-{i:04}"),
                json!({"messages": [{"role": "user", "content": "a"}, {"role": "agent", "content": "b"}],
                       "escalation": {"escalate": true, "level": "L1"}}),
            )
        })
        .collect();
    // Three orders that share no stretch: position p holds ticket p * k mod n.
    let inputs: Vec<String> = [7, 11, 13]
        .iter()
        .map(|k| {
            jsonl(
                &(0..n)
                    .map(|p| tickets[p * k % n].clone())
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let started = Instant::now();
    let outputs: Vec<_> = std::thread::scope(|scope| {
        let runs: Vec<_> = inputs
            .iter()
            .map(|input| {
                let db = &db;
                scope.spawn(move || store(db, &["ingest", "--batch-size", "200"], input))
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    let codes: Vec<_> = outputs.iter().map(|out| out.status.code()).collect();
    eprintln!(
        "3 concurrent ingests x {n} tickets: exit codes {codes:?} in {:?}",
        started.elapsed()
    );
    for out in &outputs {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    }
    let mut client = db.connect().unwrap();
    let n = n as i64;
    assert_eq!(
        count(&mut client, "SELECT count(DISTINCT id) FROM tickets"),
        n
    );
    assert_eq!(count(&mut client, "SELECT count(*) FROM tickets"), n);
    assert_eq!(count(&mut client, "SELECT count(*) FROM messages"), 2 * n);
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM triage_results"),
        5 * n
    );
    assert_eq!(count(&mut client, "SELECT count(*) FROM escalations"), n);
}
