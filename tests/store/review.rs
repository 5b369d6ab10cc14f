use serde_json::json;

use crate::common::{count, jsonl, migrated, stderr, stdout_lines, store, ticket};

fn stored_pair() -> support_store::testing::TestDb {
    let db = migrated();
    let tickets = [
        ticket(
            "T-1",
            json!({"messages": [{"role": "user", "content": "a"}, {"role": "agent", "content": "b"}]}),
        ),
        ticket("T-2", json!({})),
    ];
    let out = store(&db, &["ingest"], &jsonl(&tickets));
    assert!(out.status.success(), "{}", stderr(&out));
    db
}

#[test]
fn a_correction_sets_the_true_label_and_says_whether_the_tool_was_right() {
    let db = stored_pair();
    let out = store(
        &db,
        &[
            "correct", "--ticket", "T-1", "--tool", "category", "--label", "refund", "--by", "ana",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout_lines(&out),
        [
            json!({"ticket": "T-1", "tool": "category", "label": "account", "true_label": "refund",
                "correct": false, "archived": false})
        ]
    );
    let mut client = db.connect().unwrap();
    let row = client
        .query_one(
            "SELECT true_label, corrected_by, corrected_at IS NOT NULL FROM triage_results
             WHERE ticket_id = 'T-1' AND tool = 'category'",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "refund");
    assert_eq!(row.get::<_, String>(1), "ana");
    assert!(row.get::<_, bool>(2));
}

#[test]
fn bulk_corrections_report_each_bad_line_and_apply_the_rest() {
    let db = stored_pair();
    let input = [
        json!({"ticket": "T-1", "tool": "priority", "label": "urgent"}).to_string(),
        json!({"ticket": "T-1", "tool": "mood", "label": "x"}).to_string(),
        json!({"ticket": "T-2", "tool": "priority", "label": "extreme"}).to_string(),
        json!({"ticket": "T-404", "tool": "category", "label": "refund"}).to_string(),
        json!({"ticket": "T-2", "tool": "sentiment", "label": "negative", "by": "bo"}).to_string(),
        json!({"ticket": "T-2", "tool": "category", "label": "  "}).to_string(),
        json!({"ticket": "T-2", "tool": "category"}).to_string(),
        json!({"ticket": "T-2", "tool": "category", "label": "refund", "extra": 1}).to_string(),
    ]
    .join("\n");
    let out = store(&db, &["correct"], &input);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let lines = stdout_lines(&out);
    assert_eq!(lines.len(), 8, "one line per record");
    let failures: Vec<(u64, Option<&str>)> = lines
        .iter()
        .filter_map(|l| l.get("error"))
        .map(|e| (e["line"].as_u64().unwrap(), e["field"].as_str()))
        .collect();
    assert_eq!(
        failures,
        [
            (2, Some("tool")),
            (3, Some("label")),
            (4, Some("ticket")),
            (6, Some("label")),
            (7, None),
            (8, Some("extra"))
        ]
    );
    assert_eq!(lines[0]["correct"], false);
    assert_eq!(lines[4]["correct"], true, "the tool said negative too");
    let mut client = db.connect().unwrap();
    assert_eq!(
        count(
            &mut client,
            "SELECT count(*) FROM triage_results WHERE true_label IS NOT NULL"
        ),
        2
    );
}

#[test]
fn feedback_is_validated_and_stored() {
    let db = stored_pair();
    let good = store(
        &db,
        &[
            "feedback",
            "--ticket",
            "T-1",
            "--rating",
            "4",
            "--comment",
            "rápido",
            "--message",
            "1",
        ],
        "",
    );
    assert_eq!(good.status.code(), Some(0), "{}", stderr(&good));
    assert_eq!(stdout_lines(&good)[0]["rating"], 4);

    let input = [
        json!({"ticket": "T-2", "rating": 5, "created_at": "2026-10-25T22:49:29Z"}).to_string(),
        json!({"ticket": "T-2", "rating": 0}).to_string(),
        json!({"ticket": "T-2", "rating": 6}).to_string(),
        json!({"ticket": "T-2", "rating": 4.5}).to_string(),
        json!({"ticket": "T-2", "rating": "5"}).to_string(),
        json!({"ticket": "T-404", "rating": 3}).to_string(),
        json!({"ticket": "T-1", "rating": 3, "message": 2}).to_string(),
        json!({"ticket": "T-1", "rating": 2, "comment": "lento", "message": 0}).to_string(),
    ]
    .join("\n");
    let out = store(&db, &["feedback"], &input);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let failures: Vec<(u64, &str)> = stdout_lines(&out)
        .iter()
        .filter_map(|l| l.get("error").cloned())
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .map(|(line, field)| {
            (
                line,
                match field.as_str() {
                    "rating" => "rating",
                    "ticket" => "ticket",
                    "message" => "message",
                    _ => "other",
                },
            )
        })
        .collect();
    assert_eq!(
        failures,
        [
            (2, "rating"),
            (3, "rating"),
            (4, "rating"),
            (5, "rating"),
            (6, "ticket"),
            (7, "message")
        ]
    );
    let mut client = db.connect().unwrap();
    let stored: Vec<(String, i16, Option<i32>)> = client
        .query(
            "SELECT ticket_id, rating, message_position FROM feedback ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        stored,
        [
            ("T-1".into(), 4, Some(1)),
            ("T-2".into(), 5, None),
            ("T-1".into(), 2, Some(0))
        ]
    );
    // A rating given before it was loaded keeps its time; others get now.
    let times: Vec<bool> = client
        .query(
            "SELECT created_at = '2026-10-25T22:49:29Z'::timestamptz FROM feedback ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(times, [false, true, false]);
}

#[test]
fn a_rating_out_of_range_on_the_command_line_fails_with_code_1_and_stores_nothing() {
    let db = stored_pair();
    let out = store(&db, &["feedback", "--ticket", "T-1", "--rating", "9"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 (worst) to 5 (best)"));
    assert_eq!(
        count(&mut db.connect().unwrap(), "SELECT count(*) FROM feedback"),
        0
    );
}
