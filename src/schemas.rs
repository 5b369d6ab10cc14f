//! Every JSON Schema the suite publishes in `schemas/`, generated from the
//! Rust types so the files cannot drift from the code.

use serde_json::Value;
use support_core::schema::{schema_of, shared_schemas};

use crate::registry::TOOLS;

/// `(file name, schema)` for the input ticket, the error record, each stream
/// tool's result (from the registry), support-answer's (a stream tool outside
/// the default chain: it needs an index) and the mails of `support-answer reply`,
/// support-ml-predict's,
/// support-export's and `support-store models`' outputs, and the remote classifier's request and response.
pub fn schemas() -> Vec<(String, Value)> {
    let mut all: Vec<(String, Value)> = shared_schemas()
        .into_iter()
        .map(|(name, schema)| (name.to_string(), schema))
        .collect();
    all.extend(
        TOOLS
            .iter()
            .map(|tool| (tool.schema_file(), (tool.schema)())),
    );
    all.extend(
        [
            ("answer.schema.json", schema_of::<support_answer::Answer>()),
            (
                "answer-mail.schema.json",
                schema_of::<support_answer::reply::Mail>(),
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
                "store-models-promote.schema.json",
                schema_of::<support_store::models::Promotion>(),
            ),
            (
                "store-models-rollback.schema.json",
                schema_of::<support_store::models::Rollback>(),
            ),
            (
                "store-models-list.schema.json",
                schema_of::<support_store::models::Listed>(),
            ),
            (
                "remote-request.schema.json",
                schema_of::<support_remote::RemoteRequest<'static>>(),
            ),
            (
                "remote-response.schema.json",
                schema_of::<support_remote::RemoteAnswer>(),
            ),
        ]
        .map(|(name, schema)| (name.to_string(), schema)),
    );
    all
}
