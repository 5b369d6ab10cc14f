use std::process::{Command, Output};

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use support_store::testing::TestDb;
use support_store::Client;

pub fn migrated() -> TestDb {
    TestDb::migrated()
        .expect("PostgreSQL at 127.0.0.1:5432 (see the developers' guide to start it)")
}

/// Runs the binary against `db` with `stdin`.
pub fn store(db: &TestDb, args: &[&str], stdin: &str) -> Output {
    store_at(db.url(), args, stdin)
}

pub fn store_at(url: &str, args: &[&str], stdin: &str) -> Output {
    support_core::testing::output_with_stdin(
        Command::new(env!("CARGO_BIN_EXE_support-store"))
            .args(args)
            .env("DATABASE_URL", url)
            .env_remove("RUST_LOG"),
        stdin.as_bytes(),
    )
}

pub fn stdout_lines(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn jsonl(tickets: &[Value]) -> String {
    tickets.iter().map(|t| format!("{t}\n")).collect()
}

/// `now` moved by `minutes`, as RFC 3339.
pub fn at(now: Timestamp, minutes: i64) -> String {
    (now + SignedDuration::from_mins(minutes)).to_string()
}

/// A triaged ticket as the pipeline writes it, with `fields` merged on top.
pub fn ticket(id: &str, fields: Value) -> Value {
    let mut ticket = json!({
        "id": id,
        "subject": format!("Ticket {id}"),
        "description": "No puedo acceder a mi cuenta",
        "channel": "email",
        "customer": {"id": format!("C-{id}"), "email": "a@example.com", "name": "Ana", "tier": "standard"},
        "status": "open",
        "messages": [{"role": "user", "content": "hola", "timestamp": "2026-01-01T10:00:00Z"}],
        "sentiment": {"label": "negative", "score": -0.4, "confidence": 0.7, "language": "es"},
        "category": {"name": "account", "subcategory": "recover_password", "confidence": 0.8},
        "priority": {"level": "medium", "score": 40, "confidence": 0.9, "sla": {}},
        "route": {"queue": "general", "agent": null, "confidence": 0.5},
        "escalation": {"escalate": false, "level": "none", "triggers": [], "actions": [], "confidence": 0.9},
    });
    merge(&mut ticket, fields);
    ticket
}

fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                match target.get_mut(&key) {
                    Some(slot) if value.is_object() && slot.is_object() => merge(slot, value),
                    _ => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

/// An SLA block for `priority`.
pub fn sla(first_response_due: Option<String>, resolution_due: Option<String>) -> Value {
    json!({"first_response": {"due": first_response_due}, "resolution": {"due": resolution_due}})
}

pub fn count(client: &mut Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).unwrap().get(0)
}

/// Every row of the store's tables, as text, to compare two states.
pub fn snapshot(client: &mut Client) -> Vec<String> {
    [
        "tickets ORDER BY id",
        "messages ORDER BY ticket_id, position",
        "triage_results ORDER BY ticket_id, tool",
        "escalations ORDER BY ticket_id, level",
    ]
    .iter()
    .flat_map(|table| {
        let (name, order) = table.split_once(' ').unwrap();
        client
            .query(&format!("SELECT t::text FROM {name} t {order}"), &[])
            .unwrap()
            .into_iter()
            .map(|row| row.get::<_, String>(0))
            .collect::<Vec<_>>()
    })
    .collect()
}
