//! The registry of the stream tools: one line per tool, in chain order. The
//! triage chain, the schemas and the tests read it; adding a tool is its
//! library, its thin binary in `src/bin/`, its default YAML and one line here.

use schemars::JsonSchema;
use serde_json::Value;
use support_core::config::Embedded;
use support_core::results::{Category, Escalation, Priority, Route, Sentiment, Tags};
use support_core::schema::schema_of;
use support_core::ToolResult;

/// One stream tool.
pub struct ToolInfo {
    /// The binary, e.g. `support-priority`.
    pub binary: &'static str,
    /// Its section in support-triage's configuration.
    pub section: &'static str,
    /// The key it adds to a ticket (its result's [`ToolResult::KEY`]).
    pub key: &'static str,
    /// The JSON Schema of that key.
    pub schema: fn() -> Value,
    /// Its embedded default configuration: YAML for people, JSON to parse.
    pub default_config: Embedded<'static>,
}

impl ToolInfo {
    /// The file of its schema in `schemas/`.
    pub fn schema_file(&self) -> String {
        format!("{}.schema.json", self.key)
    }
}

const fn tool<R: ToolResult + JsonSchema>(
    binary: &'static str,
    section: &'static str,
    default_config: Embedded<'static>,
) -> ToolInfo {
    ToolInfo {
        binary,
        section,
        key: R::KEY,
        schema: schema_of::<R>,
        default_config,
    }
}

/// The stream tools in chain order: each may read the results of those before it.
pub const TOOLS: &[ToolInfo] = &[
    tool::<Sentiment>(
        "support-sentiment",
        "sentiment",
        support_sentiment::EMBEDDED_CONFIG,
    ),
    tool::<Category>(
        "support-categorize",
        "categorize",
        support_categorize::EMBEDDED_CONFIG,
    ),
    tool::<Tags>("support-tags", "tags", support_tags::EMBEDDED_CONFIG),
    tool::<Priority>(
        "support-priority",
        "priority",
        support_priority::EMBEDDED_CONFIG,
    ),
    tool::<Route>("support-route", "route", support_route::EMBEDDED_CONFIG),
    tool::<Escalation>(
        "support-escalate",
        "escalate",
        support_escalate::EMBEDDED_CONFIG,
    ),
];
