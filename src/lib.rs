//! The registry of every JSON Schema the suite publishes in `schemas/`,
//! generated from the Rust types so the files cannot drift from the code.

use serde_json::Value;
use support_core::schema::{schema_of, shared_schemas};

/// `(file name, schema)` for the input ticket, the error record, each tool's
/// result, support-export's outputs, and the remote classifier's request and response.
pub fn schemas() -> Vec<(&'static str, Value)> {
    let mut all = shared_schemas();
    all.extend([
        (
            "sentiment.schema.json",
            schema_of::<support_sentiment::Sentiment>(),
        ),
        (
            "category.schema.json",
            schema_of::<support_categorize::Category>(),
        ),
        ("tags.schema.json", schema_of::<support_tags::Tags>()),
        (
            "priority.schema.json",
            schema_of::<support_priority::Priority>(),
        ),
        ("route.schema.json", schema_of::<support_route::Route>()),
        (
            "escalation.schema.json",
            schema_of::<support_escalate::Escalation>(),
        ),
        (
            "predictions.schema.json",
            schema_of::<support_ml_predict::Predictions>(),
        ),
        (
            "export-ticket.schema.json",
            schema_of::<support_store::row::TicketColumns>(),
        ),
        (
            "export-dashboard.schema.json",
            schema_of::<support_export::Dashboard>(),
        ),
        (
            "export-kpis.schema.json",
            schema_of::<support_export::Kpis>(),
        ),
        (
            "export-conversations.schema.json",
            schema_of::<support_export::Conversations>(),
        ),
        (
            "remote-request.schema.json",
            schema_of::<support_remote::RemoteRequest<'static>>(),
        ),
        (
            "remote-response.schema.json",
            schema_of::<support_remote::RemoteAnswer>(),
        ),
    ]);
    all
}

/// The ticket tools in pipeline order, the key each one adds, and the schema file of that key.
pub const TOOLS: &[(&str, &str, &str)] = &[
    ("support-sentiment", "sentiment", "sentiment.schema.json"),
    ("support-categorize", "category", "category.schema.json"),
    ("support-tags", "tags", "tags.schema.json"),
    ("support-priority", "priority", "priority.schema.json"),
    ("support-route", "route", "route.schema.json"),
    ("support-escalate", "escalation", "escalation.schema.json"),
];
