//! Configuration loading on arbitrary YAML: what `--config FILE` (and
//! support-route's `--agents FILE`) do with a file's text. Each tool's config
//! type is read with `support_core::config::parse_yaml`, as `config::load`
//! does; one that parses is built into the tool's stage, as `run_tool` does,
//! and decides one ticket. None of it may panic: a bad file is an error.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use support_core::config::parse_yaml;
use support_core::apply_to_record;
use support_categorize::{CategorizeConfig, Categorizer};
use support_model::Model;
use support_core::{Context, Record, Stage};
use support_escalate::EscalateConfig;
use support_priority::PriorityConfig;
use support_suite::compose::{EscalateTool, PriorityTool};
use support_agents::{AgentsFormat, Roster};
use support_route::{RouteConfig, Router};
use support_sentiment::{Analyzer, SentimentConfig};
use support_tags::{Tagger, TagsConfig};

const TICKET: &[u8] = br#"{"id":"T-1003","subject":"CAIDA DEL SERVICIO","description":"El servicio esta caido para toda la empresa!!! Nadie puede trabajar, es la tercera vez este mes. Si no lo arreglan hoy cancelamos el contrato.","channel":"phone","customer":{"id":"C-1003","tier":"vip"},"created_at":"2026-11-24T08:45:00Z","status":"open","language":"es","sentiment":{"label":"negative","score":-0.8,"frustration":0.9},"category":{"label":"outage"},"priority":{"level":"urgent"},"tags":{"tags":["outage"]}}"#;

fn ctx() -> Context {
    Context {
        now: "2026-11-24T09:00:00Z".parse().unwrap(),
    }
}

/// Applies a stage built from a fuzzed config to the ticket; its error is fine.
fn decide(stage: &dyn Stage) {
    let record = Record::parse(TICKET).unwrap();
    let _ = apply_to_record(stage, &record, &ctx());
}

/// The categorizer's embedded model, decoded once: decoding it for every
/// input would leave little time to fuzz the configuration.
fn embedded_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::from_bytes(support_categorize::DEFAULT_MODEL).unwrap())
}

fn router_roster() -> &'static Roster {
    static ROSTER: OnceLock<Roster> = OnceLock::new();
    ROSTER.get_or_init(|| {
        let text = include_str!("../../examples/agents.yaml");
        Roster::parse("examples/agents.yaml", text, AgentsFormat::Yaml).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    // `config::load` reads the file with `read_to_string`: invalid UTF-8 is
    // its error before any YAML is read.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(c) = parse_yaml::<SentimentConfig>("fuzz.yaml", text) {
        if c.validate().is_ok() {
            decide(&Analyzer::new(c));
        }
    }
    // The taxonomy and its rules, on the lexical path (embedding the
    // examples of every input would leave no time to fuzz).
    if let Ok(c) = parse_yaml::<CategorizeConfig>("fuzz.yaml", text) {
        if let Ok(categorizer) = Categorizer::new(c, embedded_model().clone(), "fuzz".into()) {
            decide(&categorizer);
        }
    }
    if let Ok(c) = parse_yaml::<PriorityConfig>("fuzz.yaml", text) {
        decide(&PriorityTool::new(c, SentimentConfig::default()));
    }
    if let Ok(c) = parse_yaml::<TagsConfig>("fuzz.yaml", text) {
        decide(&Tagger::new(c));
    }
    if let Ok(c) = parse_yaml::<EscalateConfig>("fuzz.yaml", text) {
        decide(&EscalateTool::new(c, PriorityTool::default()));
    }
    if let Ok(c) = parse_yaml::<RouteConfig>("fuzz.yaml", text) {
        if let Ok(router) = Router::new(c, Some(router_roster().clone())) {
            decide(&router);
        }
    }
    // support-route --agents FILE (YAML), with the default route config.
    if let Ok(roster) = Roster::parse("fuzz.yaml", text, AgentsFormat::Yaml) {
        if let Ok(router) = Router::new(RouteConfig::default(), Some(roster)) {
            decide(&router);
        }
    }
});
