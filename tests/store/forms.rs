//! `ingest` reads what any tool writes: one pretty object, a pretty array, or
//! JSON Lines; an earlier tool's error record goes on unchanged.

use serde_json::json;

use crate::common::{count, migrated, stderr, stdout_lines, store, ticket};

#[test]
fn a_pretty_array_and_a_pretty_object_are_stored_like_json_lines() {
    let db = migrated();
    let array =
        serde_json::to_string_pretty(&json!([ticket("A-1", json!({})), ticket("A-2", json!({}))]))
            .unwrap();
    let stored = store(&db, &["ingest"], &array);
    assert_eq!(stored.status.code(), Some(0), "{}", stderr(&stored));
    assert!(stored.stdout.is_empty(), "no error records");

    let object = serde_json::to_string_pretty(&ticket("O-1", json!({}))).unwrap();
    let stored = store(&db, &["ingest"], &object);
    assert_eq!(stored.status.code(), Some(0), "{}", stderr(&stored));

    let mut client = db.connect().unwrap();
    assert_eq!(count(&mut client, "SELECT count(*) FROM tickets"), 3);
}

#[test]
fn an_earlier_error_record_is_passed_on_unchanged_and_the_rest_stored() {
    let db = migrated();
    let earlier = json!({"error": {"kind": "invalid_json", "message": "EOF while parsing a value", "field": "subject", "line": 7, "id": "X"}});
    let input = format!("[{},{earlier}]", ticket("E-1", json!({})));
    let stored = store(&db, &["ingest"], &input);
    assert_eq!(stored.status.code(), Some(1), "{}", stderr(&stored));
    assert_eq!(stdout_lines(&stored), [earlier]);
    let mut client = db.connect().unwrap();
    assert_eq!(count(&mut client, "SELECT count(*) FROM tickets"), 1);
}
