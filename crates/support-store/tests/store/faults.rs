use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{count, jsonl, migrated, stderr, store, store_at, ticket};

/// A port nothing listens on.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("postgres://postgres:secret@127.0.0.1:{port}/support")
}

#[test]
fn server_down_is_a_clear_error_with_its_exit_code_and_no_output() {
    let url = closed_port_url();
    for args in [
        &["migrate"][..],
        &["ingest"],
        &["due"],
        &["maintain"],
        &[
            "correct", "--ticket", "T-1", "--tool", "category", "--label", "refund",
        ],
    ] {
        let out = store_at(&url, args, &jsonl(&[ticket("T-1", json!({}))]));
        assert_eq!(out.status.code(), Some(5), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
        let message = stderr(&out);
        assert!(
            message.contains("cannot connect to PostgreSQL"),
            "{message}"
        );
        assert!(message.contains("Connection refused"), "{message}");
        assert!(message.contains("hint:"), "{message}");
        assert!(
            !message.contains("secret"),
            "the password is never shown: {message}"
        );
    }
}

#[test]
fn a_bad_url_is_a_usage_error() {
    let out = store_at("postgres://[::1", &["migrate"], "");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The connection dies in the middle of a batch's transaction: that batch
/// rolls back, the ones before stay, and running the same input again
/// completes the store without duplicates.
#[test]
fn connection_lost_mid_batch_rolls_it_back_and_a_rerun_finishes_without_duplicates() {
    let db = migrated();
    let batch = 50;
    let tickets: Vec<_> = (0..400)
        .map(|i| {
            ticket(
                &format!("T-{i:03}"),
                json!({"messages": [{"role": "user", "content": "a"}, {"role": "agent", "content": "b"}],
                       "escalation": {"escalate": true, "level": "L1"}}),
            )
        })
        .collect();
    let input = jsonl(&tickets);
    let lines: Vec<&str> = input.lines().collect();

    let mut child = Command::new(env!("CARGO_BIN_EXE_support-store"))
        .args(["ingest", "--batch-size", &batch.to_string()])
        .env("DATABASE_URL", db.url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut watcher = db.connect().unwrap();

    // Three batches go in and commit.
    for line in &lines[..3 * batch] {
        writeln!(stdin, "{line}").unwrap();
    }
    stdin.flush().unwrap();
    wait_for("three batches", || {
        count(&mut watcher, "SELECT count(*) FROM tickets") == 3 * batch as i64
    });

    // The fourth batch stops inside its transaction, on a lock we hold, after
    // its tickets are written; then its connection is killed.
    let mut locker = db.connect().unwrap();
    let mut lock = locker.transaction().unwrap();
    lock.batch_execute("LOCK TABLE escalations IN EXCLUSIVE MODE")
        .unwrap();
    for line in &lines[3 * batch..4 * batch] {
        writeln!(stdin, "{line}").unwrap();
    }
    stdin.flush().unwrap();
    let blocked = "SELECT pid FROM pg_stat_activity
                   WHERE datname = current_database() AND application_name = 'support-store'
                     AND wait_event_type = 'Lock'";
    wait_for("the fourth batch to block", || {
        !watcher.query(blocked, &[]).unwrap().is_empty()
    });
    let pid: i32 = watcher.query_one(blocked, &[]).unwrap().get(0);
    let killed: bool = watcher
        .query_one("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap()
        .get(0);
    assert!(killed);
    lock.rollback().unwrap();
    for line in &lines[4 * batch..] {
        // The child may already have stopped reading.
        if writeln!(stdin, "{line}").is_err() {
            break;
        }
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("lines 151-200 was rolled back"),
        "{message}"
    );
    assert!(message.contains("run the same command again"), "{message}");

    assert_eq!(
        count(&mut watcher, "SELECT count(*) FROM tickets"),
        150,
        "the batch rolled back"
    );
    assert_eq!(count(&mut watcher, "SELECT count(*) FROM messages"), 300);
    assert_eq!(count(&mut watcher, "SELECT count(*) FROM escalations"), 150);

    let rerun = store(&db, &["ingest", "--batch-size", &batch.to_string()], &input);
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    assert_eq!(count(&mut watcher, "SELECT count(*) FROM tickets"), 400);
    assert_eq!(count(&mut watcher, "SELECT count(*) FROM messages"), 800);
    assert_eq!(
        count(&mut watcher, "SELECT count(*) FROM triage_results"),
        400 * 5
    );
    assert_eq!(count(&mut watcher, "SELECT count(*) FROM escalations"), 400);
}
