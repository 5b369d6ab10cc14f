//! The views on a small data set whose figures are worked out by hand.
//! Times are relative to the real clock because the views judge running SLA
//! clocks against now().

use jiff::Timestamp;
use serde_json::{json, Value};
use support_store::testing::TestDb;

use crate::common::{at, jsonl, migrated, sla, stderr, store, ticket};

/// Eight tickets, minutes relative to `now`; t0 is ten hours ago.
pub fn known_tickets(now: Timestamp) -> Vec<Value> {
    let t0 = -600;
    let t = |m: i64| at(now, t0 + m);
    let n = |m: i64| at(now, m);
    let agent_reply = json!([{"role": "user", "content": "a"}, {"role": "agent", "content": "b"}]);
    vec![
        // A: critical, both clocks met, resolved by ana.
        ticket(
            "A",
            json!({"created_at": t(0), "first_response_at": t(10), "resolved_at": t(120),
            "status": "resolved", "messages": agent_reply, "route": {"agent": "ana"},
            "category": {"name": "refund"},
            "priority": {"level": "critical", "sla": sla(Some(t(15)), Some(t(240)))}}),
        ),
        // B: urgent, first response late, resolution not due yet.
        ticket(
            "B",
            json!({"created_at": t(60), "first_response_at": t(120), "status": "open",
            "route": {"agent": "ana"}, "category": {"name": "order"},
            "priority": {"level": "urgent", "sla": sla(Some(t(90)), Some(n(600)))}}),
        ),
        // C: low, unanswered past its first-response due time.
        ticket(
            "C",
            json!({"created_at": t(120), "status": "open", "route": {"agent": "bob"},
            "priority": {"level": "low", "sla": sla(Some(n(-60)), Some(n(2880)))}}),
        ),
        // D: medium, first response due in 20 minutes.
        ticket(
            "D",
            json!({"created_at": t(180), "status": "pending",
            "priority": {"level": "medium", "sla": sla(Some(n(20)), Some(n(1440)))}}),
        ),
        // E: medium, on track.
        ticket(
            "E",
            json!({"created_at": t(180), "status": "open",
            "priority": {"level": "medium", "sla": sla(Some(n(120)), Some(n(1440)))}}),
        ),
        // F: low, resolved by the bot in time.
        ticket(
            "F",
            json!({"created_at": t(180), "first_response_at": t(185), "resolved_at": t(240),
            "closed_at": t(240), "status": "closed",
            "messages": [{"role": "user", "content": "a"}, {"role": "bot", "content": "b"}],
            "priority": {"level": "low", "sla": sla(Some(t(210)), Some(t(1620)))}}),
        ),
        // G: high, resolved in time but its first response was never recorded; assigned to an unknown agent.
        ticket(
            "G",
            json!({"created_at": t(200), "resolved_at": t(300), "status": "resolved",
            "assigned_to": "zoe",
            "priority": {"level": "high", "sla": sla(Some(t(230)), Some(t(360)))}}),
        ),
        // H: critical, answered, resolution overdue by five minutes.
        ticket(
            "H",
            json!({"created_at": t(230), "first_response_at": t(240), "status": "open",
            "priority": {"level": "critical", "sla": sla(Some(t(245)), Some(n(-5)))}}),
        ),
    ]
}

pub fn stored_known_tickets(now: Timestamp) -> TestDb {
    let db = migrated();
    let out = store(&db, &["ingest"], &jsonl(&known_tickets(now)));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    db
}

/// The rows as JSON, every number as a float (PostgreSQL writes 1.0 as 1).
fn rows(db: &TestDb, sql: &str) -> Vec<Value> {
    db.connect()
        .unwrap()
        .query(&format!("SELECT row_to_json(v)::text FROM ({sql}) v"), &[])
        .unwrap()
        .iter()
        .map(|r| floats(serde_json::from_str(r.get::<_, &str>(0)).unwrap()))
        .collect()
}

fn floats(value: Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Object(map) => map.into_iter().map(|(k, v)| (k, floats(v))).collect(),
        other => other,
    }
}

fn expect(rows: Vec<Value>) -> Vec<Value> {
    rows.into_iter().map(floats).collect()
}

#[test]
fn dashboard_totals() {
    let db = stored_known_tickets(Timestamp::now());
    assert_eq!(
        rows(&db, "SELECT * FROM v_dashboard_totals"),
        expect(vec![
            json!({"total_tickets": 8, "chatbot_resolved": 1, "pending": 5, "critical_urgent": 3,
                "avg_first_response_minutes": 21.25, "chatbot_resolution_rate": 0.125})
        ])
    );
}

#[test]
fn sla_compliance_by_priority() {
    let db = stored_known_tickets(Timestamp::now());
    let got = rows(
        &db,
        "SELECT priority, tickets, first_response_met, resolution_met, first_response_decided,
                resolution_decided, first_response_rate, resolution_rate
         FROM v_sla_compliance ORDER BY priority",
    );
    let row = |p: &str, t, frm, rm, frd, rd, frr: Value, rr: Value| {
        json!({"priority": p, "tickets": t, "first_response_met": frm, "resolution_met": rm,
               "first_response_decided": frd, "resolution_decided": rd,
               "first_response_rate": frr, "resolution_rate": rr})
    };
    assert_eq!(
        got,
        expect(vec![
            row("critical", 2, 2, 1, 2, 2, json!(1.0), json!(0.5)),
            row("high", 1, 0, 1, 1, 1, json!(0.0), json!(1.0)),
            row("low", 2, 1, 1, 2, 1, json!(0.5), json!(1.0)),
            row("medium", 2, 0, 0, 0, 0, Value::Null, Value::Null),
            row("urgent", 1, 0, 0, 1, 0, json!(0.0), Value::Null),
        ])
    );
}

#[test]
fn agent_performance_with_feedback_and_unknown_agents() {
    let db = stored_known_tickets(Timestamp::now());
    let dir = tempfile::tempdir().unwrap();
    let agents = dir.path().join("agents.yaml");
    std::fs::write(
        &agents,
        "agents:\n\
         - {id: ana, name: Ana, skills: [billing], languages: [es], capacity: 5, load: 2, hours: {time_zone: UTC, shifts: [{days: mon-sun, start: '00:00', end: '24:00'}]}}\n\
         - {id: bob, name: Bob, skills: [general], languages: [en], capacity: 4, load: 1, hours: {time_zone: UTC, shifts: [{days: mon-sun, start: '00:00', end: '24:00'}]}}\n\
         - {id: carl, name: Carl, skills: [general], languages: [en], capacity: 3, load: 0, hours: {time_zone: UTC, shifts: [{days: mon-sun, start: '00:00', end: '24:00'}]}}\n",
    )
    .unwrap();
    let out = store(&db, &["agents", "--file", agents.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let input = [
        json!({"ticket": "A", "rating": 5}),
        json!({"ticket": "B", "rating": 3}),
    ];
    let out = store(&db, &["feedback"], &jsonl(&input));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let got = rows(&db, "SELECT * FROM v_agent_performance ORDER BY agent_id");
    assert_eq!(
        got,
        expect(vec![
            json!({"agent_id": "ana", "name": "Ana", "tickets": 2, "resolved": 1,
                   "avg_first_response_minutes": 35.0, "avg_resolution_minutes": 120.0,
                   "csat_avg": 4.0, "current_load": 2, "capacity": 5}),
            json!({"agent_id": "bob", "name": "Bob", "tickets": 1, "resolved": 0,
                   "avg_first_response_minutes": null, "avg_resolution_minutes": null,
                   "csat_avg": null, "current_load": 1, "capacity": 4}),
            json!({"agent_id": "carl", "name": "Carl", "tickets": 0, "resolved": 0,
                   "avg_first_response_minutes": null, "avg_resolution_minutes": null,
                   "csat_avg": null, "current_load": 0, "capacity": 3}),
            json!({"agent_id": "zoe", "name": null, "tickets": 1, "resolved": 1,
                   "avg_first_response_minutes": null, "avg_resolution_minutes": 100.0,
                   "csat_avg": null, "current_load": null, "capacity": null}),
        ])
    );
}

#[test]
fn categorization_accuracy_from_corrections() {
    let db = stored_known_tickets(Timestamp::now());
    let corrections = [
        json!({"ticket": "A", "tool": "category", "label": "refund"}),
        json!({"ticket": "B", "tool": "category", "label": "refund"}),
        json!({"ticket": "A", "tool": "priority", "label": "critical"}),
    ];
    let out = store(&db, &["correct"], &jsonl(&corrections));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        rows(&db, "SELECT * FROM v_categorization_accuracy ORDER BY tool"),
        expect(vec![
            json!({"tool": "category", "corrected": 2, "correct": 1, "accuracy": 0.5}),
            json!({"tool": "priority", "corrected": 1, "correct": 1, "accuracy": 1.0}),
        ])
    );
}

#[test]
fn daily_summary_after_maintain() {
    let db = stored_known_tickets(Timestamp::now());
    let out = store(
        &db,
        &["feedback"],
        &jsonl(&[json!({"ticket": "A", "rating": 4})]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = store(&db, &["maintain"], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The eight tickets may fall on one or two UTC days: compare the sums.
    assert_eq!(
        rows(
            &db,
            "SELECT sum(tickets)::int AS tickets, sum(resolved)::int AS resolved,
                    sum(bot_resolved)::int AS bot_resolved, sum(breached)::int AS breached,
                    max(csat_avg) AS csat_avg
             FROM mv_daily_summary"
        ),
        expect(vec![
            json!({"tickets": 8, "resolved": 3, "bot_resolved": 1, "breached": 3, "csat_avg": 4.0})
        ])
    );
}

/// support-answer's automatic replies, judged by ratings and corrections.
#[test]
fn failed_knowledge_base_articles_with_the_queries_that_failed_them() {
    let db = migrated();
    let answered = |id: &str, article: &str, auto: bool, text: &str| {
        ticket(
            id,
            json!({"subject": "", "description": text, "answer": {
                "articles": [{"id": article, "title": "t", "score": 0.9, "similarity": 0.9}],
                "reply": {"article_id": article, "language": "es", "text": "Hola"},
                "auto_reply": auto, "confidence": 0.9, "reasons": []}}),
        )
    };
    let tickets = [
        answered("K1", "kb-refunds", true, "¿Cuándo llega mi reembolso?"),
        answered("K2", "kb-refunds", true, "Quiero devolver unas zapatillas"),
        answered("K3", "kb-refunds", true, "Reembolso de mi pedido"),
        // Not sent automatically: an agent answered, the article is not judged.
        answered("K4", "kb-password", false, "No puedo entrar"),
        answered("K5", "kb-password", true, "Olvidé mi contraseña"),
    ];
    let out = store(&db, &["ingest"], &jsonl(&tickets));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let feedback = [
        json!({"ticket": "K1", "rating": 1}),
        json!({"ticket": "K3", "rating": 5}),
        json!({"ticket": "K4", "rating": 1}),
        json!({"ticket": "K5", "rating": 4}),
    ];
    let out = store(&db, &["feedback"], &jsonl(&feedback));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let corrections = [json!({"ticket": "K2", "tool": "answer", "label": "kb-returns"})];
    let out = store(&db, &["correct"], &jsonl(&corrections));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    assert_eq!(
        rows(
            &db,
            "SELECT * FROM v_kb_failed_articles ORDER BY article_id"
        ),
        expect(vec![json!({
            "article_id": "kb-refunds", "answered": 3, "failed": 2, "low_ratings": 1,
            "corrected": 1, "failure_rate": 0.6667,
            "failed_tickets": ["K1", "K2"],
            "failed_queries": ["¿Cuándo llega mi reembolso?", "Quiero devolver unas zapatillas"],
        })])
    );
}
