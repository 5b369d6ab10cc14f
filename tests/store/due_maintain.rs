use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::common::{at, count, jsonl, migrated, stderr, stdout_lines, store, ticket};
use crate::views::stored_known_tickets;

#[test]
fn due_lists_breached_and_at_risk_open_tickets_soonest_first() {
    let now = Timestamp::now();
    let db = stored_known_tickets(now);
    let out = store(
        &db,
        &["due", "--within", "30m", "--now", &now.to_string()],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let due = stdout_lines(&out);
    let ids: Vec<&str> = due.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["C", "H", "D"]);
    assert_eq!(due[2]["status"], "pending", "with the current status");
    assert_eq!(
        due[0]["priority"]["level"], "low",
        "the whole stored ticket"
    );

    // Half an hour later E is not due yet; two hours later it is.
    let later = (now + SignedDuration::from_mins(100)).to_string();
    let out = store(&db, &["due", "--within", "30m", "--now", &later], "");
    let ids: Vec<String> = stdout_lines(&out)
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["C", "H", "D", "E"]);
}

#[test]
fn a_bad_duration_is_a_usage_error() {
    let db = migrated();
    let out = store(&db, &["due", "--within", "soon"], "");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

#[test]
fn maintain_archives_only_old_closed_tickets_and_keeps_their_corrections() {
    let now = Timestamp::now();
    let db = migrated();
    let day = 24 * 60;
    let tickets = [
        ticket(
            "old-closed",
            json!({"status": "closed", "created_at": at(now, -120 * day), "closed_at": at(now, -100 * day)}),
        ),
        ticket(
            "old-resolved",
            json!({"status": "resolved", "created_at": at(now, -120 * day), "resolved_at": at(now, -95 * day)}),
        ),
        ticket(
            "recent-closed",
            json!({"status": "closed", "created_at": at(now, -20 * day), "closed_at": at(now, -10 * day)}),
        ),
        ticket(
            "old-open",
            json!({"status": "open", "created_at": at(now, -200 * day)}),
        ),
    ];
    let out = store(&db, &["ingest"], &jsonl(&tickets));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = store(
        &db,
        &[
            "correct",
            "--ticket",
            "old-closed",
            "--tool",
            "category",
            "--label",
            "refund",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut client = db.connect().unwrap();
    client
        .batch_execute(&format!(
            "INSERT INTO operation_metrics (tool, started_at, duration_ms, success)
             VALUES ('old', '{}', 1, true), ('recent', '{}', 1, true)",
            at(now, -40 * day),
            at(now, -day)
        ))
        .unwrap();

    let out = store(
        &db,
        &[
            "maintain",
            "--archive-after",
            "90d",
            "--metrics-retention",
            "30d",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = &stdout_lines(&out)[0];
    assert_eq!(report["archived"], 2);
    assert_eq!(report["archived_results"], 10, "five tool results each");
    assert_eq!(report["metrics_purged"], 1);
    assert_eq!(report["refreshed"], json!(["mv_daily_summary"]));

    let ids = |client: &mut support_store::Client, table: &str| -> Vec<String> {
        client
            .query(&format!("SELECT id FROM {table} ORDER BY id"), &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(ids(&mut client, "tickets"), ["old-open", "recent-closed"]);
    assert_eq!(
        ids(&mut client, "tickets_archive"),
        ["old-closed", "old-resolved"]
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM messages WHERE ticket_id LIKE 'old-%'"
        ),
        1,
        "only the open ticket's transcript stays live"
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT corrected FROM v_categorization_accuracy WHERE tool = 'category'"
        ),
        1,
        "the archived correction still counts"
    );
    assert_eq!(
        count(
            &mut client,
            "SELECT sum(tickets)::bigint FROM mv_daily_summary"
        ),
        4,
        "the daily summary covers archived tickets"
    );
    let tools: Vec<String> = client
        .query("SELECT tool FROM operation_metrics ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        tools.contains(&"recent".to_owned()) && !tools.contains(&"old".to_owned()),
        "{tools:?}"
    );

    let again = store(&db, &["maintain"], "");
    assert_eq!(
        stdout_lines(&again)[0]["archived"],
        0,
        "nothing more to archive"
    );

    // Feedback on an archived ticket is still accepted.
    let out = store(
        &db,
        &["feedback", "--ticket", "old-closed", "--rating", "5"],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn agents_missing_from_a_new_file_become_inactive() {
    let db = migrated();
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/agents.yaml");
    let out = store(&db, &["agents", "--file", examples], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let loaded = stdout_lines(&out)[0]["loaded"].as_i64().unwrap();
    let mut client = db.connect().unwrap();
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM agents WHERE active"),
        loaded
    );

    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.yaml");
    std::fs::write(
        &one,
        "agents:\n- {id: solo, name: Solo, skills: [general], languages: [es], capacity: 2, load: 0, satisfaction: 4.5, hours: {time_zone: UTC, shifts: [{days: mon-fri, start: '09:00', end: '17:00'}]}}\n",
    )
    .unwrap();
    let out = store(&db, &["agents", "--file", one.to_str().unwrap()], "");
    assert_eq!(
        stdout_lines(&out)[0],
        json!({"loaded": 1, "deactivated": loaded})
    );
    assert_eq!(
        count(&mut client, "SELECT count(*) FROM agents WHERE active"),
        1
    );

    let bad = store(&db, &["agents", "--file", "/no/such/agents.yaml"], "");
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}
