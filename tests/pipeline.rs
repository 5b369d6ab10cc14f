//! The tools piped together on the bilingual examples: composition in any
//! order, pass-through of every original field, the same result as
//! support-triage, and decisions a support lead would agree with.

mod common;

use std::collections::HashMap;

use common::{example_tickets, pipe, run, tool_args};
use serde_json::Value;
use support_suite::TOOLS;

fn parse_lines(bytes: &[u8]) -> Vec<Value> {
    std::str::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn tools_in_order() -> Vec<&'static str> {
    TOOLS.iter().map(|tool| tool.binary).collect()
}

fn by_id(records: &[Value]) -> HashMap<&str, &Value> {
    records
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r))
        .collect()
}

#[test]
fn piping_every_tool_keeps_the_ticket_and_adds_each_key() {
    let input = parse_lines(&example_tickets());
    let output = parse_lines(&pipe(&tools_in_order(), &example_tickets()));
    assert_eq!(output.len(), input.len());
    for (before, after) in input.iter().zip(&output) {
        for (field, value) in before.as_object().unwrap() {
            assert_eq!(&after[field], value, "{field} changed in {}", before["id"]);
        }
        for key in TOOLS.iter().map(|tool| tool.key) {
            let result = &after[key];
            assert!(result.is_object(), "{key} missing in {}", before["id"]);
            let confidence = result["confidence"].as_f64().unwrap();
            assert!(
                (0.0..=1.0).contains(&confidence),
                "{key} confidence {confidence}"
            );
            assert!(result["reasons"].is_array(), "{key} has reasons");
        }
        let added = after.as_object().unwrap().len() - before.as_object().unwrap().len();
        assert_eq!(added, TOOLS.len(), "each tool adds exactly one key");
    }
}

#[test]
fn support_triage_gives_what_the_piped_tools_give() {
    let piped = pipe(&tools_in_order(), &example_tickets());
    let args = tool_args("support-triage");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let triage = run("support-triage", &args, &example_tickets());
    assert_eq!(triage.code, 0, "{}", triage.stderr);
    assert_eq!(parse_lines(&triage.stdout), parse_lines(&piped));
}

#[test]
fn tools_compose_in_any_order() {
    let mut reversed = tools_in_order();
    reversed.reverse();
    let output = parse_lines(&pipe(&reversed, &example_tickets()));
    for record in &output {
        for key in TOOLS.iter().map(|tool| tool.key) {
            assert!(record.get(key).is_some(), "{key} missing");
        }
    }
}

#[test]
fn decisions_on_the_examples_are_sensible_in_both_languages() {
    let output = parse_lines(&pipe(&tools_in_order(), &example_tickets()));
    let t = by_id(&output);
    // A whole-company outage from a VIP, third contact, threat to cancel (es).
    let outage = t["T-1003"];
    assert_eq!(outage["sentiment"]["language"], "es");
    assert_eq!(outage["sentiment"]["label"], "negative");
    assert!(outage["sentiment"]["frustration"].as_f64().unwrap() >= 0.6);
    assert!(matches!(
        outage["priority"]["level"].as_str(),
        Some("critical" | "urgent")
    ));
    assert_eq!(outage["escalation"]["escalate"], true);
    // A thank-you note (en) is positive, low priority, not escalated.
    let thanks = t["T-1004"];
    assert_eq!(thanks["sentiment"]["label"], "positive");
    assert!(matches!(
        thanks["priority"]["level"].as_str(),
        Some("low" | "medium")
    ));
    assert_eq!(thanks["escalation"]["escalate"], false);
    // Asking for a human after bot loops, in Spanish and in English.
    for id in ["T-1010", "T-1019"] {
        assert_eq!(t[id]["escalation"]["escalate"], true, "{id}");
    }
    assert_eq!(
        t["T-1010"]["category"]["subcategory"],
        "contact_human_agent"
    );
    // What the English one needs a human for is an API error.
    assert_eq!(t["T-1019"]["category"]["name"], "technical");
    // Spanish refund and English invoice tickets reach their categories.
    assert_eq!(t["T-1016"]["category"]["name"], "refund");
    assert_eq!(t["T-1011"]["category"]["name"], "billing");
    assert_eq!(t["T-1006"]["category"]["name"], "order");
    // A transcript that ends well improves.
    assert_eq!(t["T-1015"]["sentiment"]["trend"], "improving");
    assert_eq!(t["T-1010"]["sentiment"]["trend"], "worsening");
}
