//! `schemas/` is generated from the Rust types; real inputs and outputs validate against it.
//! Regenerate after changing an output type: `UPDATE_SCHEMAS=1 cargo test --test schemas`.

mod common;

use std::path::PathBuf;

use serde_json::Value;
use support_suite::{schemas, TOOLS};

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

fn load(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(schemas_dir().join(name))
        .unwrap_or_else(|e| panic!("schemas/{name}: {e}"));
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("schemas/{name} is not a valid schema: {e}"))
}

fn assert_valid(validator: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn schema_files_match_the_rust_types() {
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    for (name, schema) in schemas() {
        let path = schemas_dir().join(&name);
        let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if update {
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == generated,
            "schemas/{name} is out of date with the Rust types; run `UPDATE_SCHEMAS=1 cargo test --test schemas`"
        );
    }
}

#[test]
fn example_tickets_match_the_ticket_schema() {
    let ticket = load("ticket.schema.json");
    for line in String::from_utf8(common::example_tickets())
        .unwrap()
        .lines()
    {
        assert_valid(
            &ticket,
            &serde_json::from_str(line).unwrap(),
            "an example ticket",
        );
    }
}

#[test]
fn ticket_schema_rejects_a_wrong_type() {
    let ticket = load("ticket.schema.json");
    let bad: Value =
        serde_json::json!({"subject": "x", "messages": [{"role": "robot", "content": "hi"}]});
    assert!(
        !ticket.is_valid(&bad),
        "an unknown message role must not validate"
    );
}

#[test]
fn real_outputs_of_every_tool_match_their_schemas() {
    let input = common::example_tickets();
    let tools: Vec<&str> = TOOLS.iter().map(|tool| tool.binary).collect();
    let out = common::pipe(&tools, &input);
    let ticket = load("ticket.schema.json");
    let validators: Vec<(&str, jsonschema::Validator)> = TOOLS
        .iter()
        .map(|tool| (tool.key, load(&tool.schema_file())))
        .collect();
    let lines: Vec<Value> = std::str::from_utf8(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 24);
    for record in &lines {
        assert_valid(&ticket, record, "a triaged ticket");
        for (key, validator) in &validators {
            assert_valid(validator, &record[*key], key);
        }
    }
}

#[test]
fn error_records_match_their_schema() {
    let validator = load("error-record.schema.json");
    let r = common::run("support-sentiment", &[], b"nope\n{}\n[]\n");
    let records = r.json_lines();
    assert_eq!(records.len(), 3);
    for record in &records {
        assert_valid(&validator, record, "an error record");
    }
}
