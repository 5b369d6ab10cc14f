//! JSON Schemas of the contract, generated from the Rust types.

use schemars::JsonSchema;
use serde_json::Value;

/// The JSON Schema (draft 2020-12) of `T`, as written to `schemas/`.
pub fn schema_of<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).expect("schemas serialize")
}

/// Schemas every tool shares: the input ticket and the error record.
pub fn shared_schemas() -> Vec<(&'static str, Value)> {
    vec![
        ("ticket.schema.json", schema_of::<crate::Ticket<'static>>()),
        (
            "error-record.schema.json",
            schema_of::<crate::error::ErrorRecord<'static>>(),
        ),
    ]
}
