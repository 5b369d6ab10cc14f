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

/// A server that accepts connections and never answers (the kernel completes
/// the TCP handshake of a listener that never calls accept): every command
/// gives up after --connect-timeout with exit 5, naming the server and the
/// timeout, never the password.
#[test]
fn a_server_that_never_answers_times_out_naming_the_server_and_the_timeout() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let url = format!("postgres://postgres:secret@127.0.0.1:{port}/support");
    for args in [&["migrate"][..], &["ingest"], &["due"]] {
        let started = Instant::now();
        let out = store_at(
            &url,
            &[args, &["--connect-timeout", "500ms"]].concat(),
            &jsonl(&[ticket("T-1", json!({}))]),
        );
        let elapsed = started.elapsed();
        assert_eq!(out.status.code(), Some(5), "{args:?}: {}", stderr(&out));
        assert!(
            elapsed < Duration::from_secs(5),
            "{args:?} took {elapsed:?}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
        let message = stderr(&out);
        assert!(
            message.contains(&format!(
                "cannot connect to PostgreSQL at postgres://postgres@127.0.0.1:{port}/support: no answer within 500ms"
            )),
            "{message}"
        );
        assert!(message.contains("--connect-timeout"), "{message}");
        assert!(!message.contains("secret"), "{message}");
    }
}

/// A statement that waits on a lock longer than --statement-timeout is
/// cancelled by the server: exit 5, the server's words, and what to do.
#[test]
fn a_statement_longer_than_the_statement_timeout_is_cancelled() {
    let db = migrated();
    let mut locker = db.connect().unwrap();
    let mut lock = locker.transaction().unwrap();
    lock.batch_execute("LOCK TABLE tickets IN EXCLUSIVE MODE")
        .unwrap();
    let started = Instant::now();
    let out = store(
        &db,
        &["ingest", "--statement-timeout", "1s"],
        &jsonl(&[ticket("T-1", json!({}))]),
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(30));
    let message = stderr(&out);
    assert!(
        message.contains("canceling statement due to statement timeout")
            && message.contains("[SQLSTATE 57014]")
            && message.contains("--statement-timeout"),
        "{message}"
    );
    lock.rollback().unwrap();
}

/// Deadlocks and serialization failures are retried; any other refusal by the
/// server is reported as such (its message and SQLSTATE), not as a server
/// that is down.
#[test]
fn a_serialization_failure_is_retried_and_a_real_error_is_reported_as_such() {
    let db = migrated();
    let mut admin = db.connect().unwrap();
    // Fails the first batch once: nextval is not rolled back with the batch.
    admin
        .batch_execute(
            "CREATE SEQUENCE attempts;
             CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF nextval('attempts') = 1 THEN
                     RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure';
                 END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER refuse BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION refuse();",
        )
        .unwrap();
    let input = jsonl(&[ticket("T-1", json!({})), ticket("T-2", json!({}))]);
    let out = store(&db, &["ingest"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("trying again"), "{}", stderr(&out));
    assert_eq!(count(&mut admin, "SELECT count(*) FROM tickets"), 2);

    admin
        .batch_execute(
            "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 RAISE EXCEPTION 'permission denied for table tickets' USING ERRCODE = 'insufficient_privilege';
             END $$;",
        )
        .unwrap();
    let out = store(&db, &["ingest"], &jsonl(&[ticket("T-3", json!({}))]));
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("PostgreSQL refused the work: ERROR: permission denied for table tickets [SQLSTATE 42501]"),
        "{message}"
    );
    assert!(message.contains("hint: grant"), "{message}");
    assert!(!message.contains("trying again"), "not retried: {message}");
    for wrong in [
        "cannot connect",
        "lost the connection",
        "once the database is back",
    ] {
        assert!(!message.contains(wrong), "{message}");
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
