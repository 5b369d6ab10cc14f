//! The whole chain in one process: sentiment, categorize, tags, priority,
//! route and escalate (and answer after categorize, given a knowledge-base
//! index), each reading what the ones before it added, with the same
//! contract, flags and output as piping the tools.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use serde::Deserialize;
use support_agents::Roster;
use support_answer::index::KbIndex;
use support_answer::{AnswerConfig, Answerer};
use support_categorize::{CategorizeConfig, Categorizer};
use support_core::config::Embedded;
use support_core::{Pipeline, Stage};
use support_embed::Embedder;
use support_escalate::EscalateConfig;
use support_priority::PriorityConfig;
use support_route::{RouteConfig, Router};
use support_sentiment::trained::SentimentModel;
use support_sentiment::{Analyzer, SentimentConfig};
use support_tags::{Tagger, TagsConfig};

use crate::compose::{EscalateTool, PriorityTool};
use crate::registry::TOOLS;

/// One file configuring every tool; a missing section keeps that tool's
/// embedded default, a present one is merged onto it (`--config`). `Default` leaves every
/// section out: the embedded defaults, each read from its tool's fast JSON form.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageConfig {
    #[serde(default)]
    pub sentiment: Option<SentimentConfig>,
    #[serde(default)]
    pub categorize: Option<CategorizeConfig>,
    #[serde(default)]
    pub tags: Option<TagsConfig>,
    #[serde(default)]
    pub priority: Option<PriorityConfig>,
    #[serde(default)]
    pub route: Option<RouteConfig>,
    #[serde(default)]
    pub escalate: Option<EscalateConfig>,
    /// Used only with an index (`--index`).
    #[serde(default)]
    pub answer: Option<AnswerConfig>,
}

/// Sections of stages the chain runs only when asked (support-answer needs
/// an index), beside the registry's tools.
const OPTIONAL_SECTIONS: &[(&str, Embedded<'static>)] =
    &[("answer", support_answer::EMBEDDED_CONFIG)];

/// Every section of the configuration, in chain order, with its default.
fn sections() -> impl Iterator<Item = (&'static str, Embedded<'static>)> {
    TOOLS
        .iter()
        .map(|tool| (tool.section, tool.default_config))
        .chain(OPTIONAL_SECTIONS.iter().copied())
}

/// The embedded default of every tool, as one YAML file with a section per
/// tool (what `--print-config` shows).
pub fn default_config() -> String {
    let mut yaml = String::from("# support-triage configuration (embedded default): one section per tool.\n# A section you leave out keeps that tool's embedded default.\n");
    for (section, default_config) in sections() {
        yaml.push_str(&format!("\n{section}:\n"));
        for line in default_config.yaml.lines() {
            if line.is_empty() {
                yaml.push('\n');
            } else {
                yaml.push_str("  ");
                yaml.push_str(line);
                yaml.push('\n');
            }
        }
    }
    yaml
}

/// The same defaults in JSON, one key per section: the base a `--config`
/// file is merged onto, read without parsing any YAML.
pub fn default_config_json() -> String {
    let sections: Vec<String> = sections()
        .map(|(section, default_config)| format!("\"{section}\":{}", default_config.json))
        .collect();
    format!("{{{}}}", sections.join(","))
}

/// Files and services the chain may use besides the configuration.
#[derive(Debug, Default, Clone)]
pub struct Resources {
    pub agents: Option<PathBuf>,
    pub model: Option<PathBuf>,
    pub ml_url: Option<String>,
    /// A knowledge-base index: adds support-answer's stage after categorize.
    pub index: Option<PathBuf>,
    /// The embedding model's folder (default: where scripts/setup-models.sh puts it).
    pub embedder: Option<PathBuf>,
    /// Categorize on the lexical path only, even with the embedding model installed.
    pub lexical: bool,
    /// A model from `support-sentiment train` for the sentiment stage
    /// (default: the lexicon alone).
    pub sentiment_model: Option<PathBuf>,
}

/// Builds the chain.
pub fn pipeline(config: TriageConfig, resources: &Resources) -> anyhow::Result<Pipeline> {
    // A run of one ticket spends most of its time here. The categorizer's
    // model and the agents file are read on a second thread while this one
    // reads the lexicons and rules: nothing of one is needed by the other.
    std::thread::scope(|scope| {
        let loading = std::thread::Builder::new()
            .name("chain-loader".into())
            .spawn_scoped(scope, || {
                load_categorizer_and_roster(config.categorize, resources)
            })
            .context("cannot start a thread to read the model and agents files")?;
        let sentiment = config.sentiment.unwrap_or_default();
        let priority = PriorityTool::new(config.priority.unwrap_or_default(), sentiment.clone());
        let analyzer = Analyzer::new(sentiment);
        let tagger = Tagger::new(config.tags.unwrap_or_default());
        let route = config.route.unwrap_or_default();
        // Escalation reads the chain's priority settings: one definition of closed.
        let escalate = EscalateTool::new(config.escalate.unwrap_or_default(), priority.clone());
        let (embedder, categorizer, roster) = loading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        let analyzer = match &resources.sentiment_model {
            // The same embedder as categorize: a ticket is embedded once for both.
            Some(path) => analyzer.with_model(SentimentModel::load(path, || Ok(embedder.clone()))?),
            None => analyzer,
        };
        let mut stages: Vec<Box<dyn Stage + Send>> =
            vec![Box::new(analyzer), Box::new(categorizer)];
        if let (Some(index), Some(embedder)) = (&resources.index, embedder) {
            let index = KbIndex::load(index)?;
            let answer = config.answer.unwrap_or_default();
            stages.push(Box::new(Answerer::new(answer, index, embedder)?));
        }
        stages.extend([
            Box::new(tagger) as Box<dyn Stage + Send>,
            Box::new(priority),
            Box::new(Router::new(route, roster)?),
            Box::new(escalate),
        ]);
        Ok(Pipeline::new(stages))
    })
}

/// The embedder (when categorize or answer use one), the categorizer and
/// the agents roster: the chain's files, read in that order, so the first
/// that fails is the one reported.
fn load_categorizer_and_roster(
    config: Option<CategorizeConfig>,
    resources: &Resources,
) -> anyhow::Result<(Option<Arc<Embedder>>, Categorizer, Option<Roster>)> {
    // One model in memory for categorize and answer, and one embedding per
    // ticket (`Embedder::ticket`).
    let embedder = match (&resources.index, resources.lexical) {
        (Some(_), _) => Some(Embedder::open(resources.embedder.as_deref())?),
        (None, false) => Embedder::open_if_installed(resources.embedder.as_deref())?,
        (None, true) => None,
    }
    .map(Arc::new);
    let categorizer = Categorizer::load(config.unwrap_or_default(), resources.model.as_deref())?;
    let categorizer = if resources.lexical {
        categorizer.lexical_on_request()
    } else {
        categorizer.with_embedding_model(embedder.clone())?
    };
    let categorizer = match &resources.ml_url {
        Some(url) => categorizer.with_remote(url),
        None => categorizer,
    };
    let roster = resources.agents.as_deref().map(Roster::load).transpose()?;
    Ok((embedder, categorizer, roster))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map, Value};
    use support_core::apply_to_record;
    use support_core::{Context, Record};

    #[test]
    fn the_default_config_parses_back_with_every_section() {
        let config: TriageConfig =
            support_core::config::parse_yaml("default", &default_config()).unwrap();
        assert!(
            config.sentiment.is_some() && config.categorize.is_some() && config.escalate.is_some()
        );
        assert!(config.tags.is_some() && config.priority.is_some() && config.route.is_some());
    }

    /// The chain's files and services in these tests: none, and the
    /// categorizer on its lexical path whether or not the embedding model
    /// is installed.
    fn lexical() -> Resources {
        Resources {
            lexical: true,
            ..Resources::default()
        }
    }

    /// The files read on the loading thread fail as the others do: the
    /// first that cannot be read is named, the model before the agents.
    #[test]
    fn the_first_file_the_chain_cannot_read_is_named() {
        let missing = |name: &str| Some(PathBuf::from(format!("/nonexistent/{name}")));
        let resources = Resources {
            agents: missing("agents.yaml"),
            model: missing("default.model"),
            ..lexical()
        };
        let error = pipeline(TriageConfig::default(), &resources).err().unwrap();
        assert!(
            format!("{error:#}").contains("model file /nonexistent/default.model"),
            "{error:#}"
        );
        let resources = Resources {
            model: None,
            ..resources
        };
        let error = pipeline(TriageConfig::default(), &resources).err().unwrap();
        assert!(
            format!("{error:#}").contains("agents file /nonexistent/agents.yaml"),
            "{error:#}"
        );
    }

    /// Triaged with the chain whose configuration is `yaml` (overlaid on the defaults).
    fn triaged(yaml: &str, ticket: Value) -> Map<String, Value> {
        let config: TriageConfig =
            support_core::config::overlay("test.yaml", yaml, &default_config_json()).unwrap();
        let pipeline = pipeline(config, &lexical()).unwrap();
        let text = ticket.to_string();
        let record = Record::parse(text.as_bytes()).unwrap();
        let ctx = Context {
            now: "2026-11-24T09:00:00Z".parse().unwrap(),
        };
        let output = apply_to_record(&pipeline, &record, &ctx).unwrap();
        let Ok(Value::Object(record)) = serde_json::from_slice(&output) else {
            unreachable!()
        };
        record
    }

    #[test]
    fn escalation_reads_the_chains_closed_statuses() {
        let ticket = json!({
            "id": "T-2", "status": "archivado", "customer": {"tier": "vip"},
            "description": "Si no me devuelven el dinero hablaré con mi abogado y la prensa.",
            "created_at": "2026-11-01T09:00:00Z"
        });
        let open = triaged("{}", ticket.clone());
        assert_eq!(
            open["escalation"]["escalate"], true,
            "{:?}",
            open["escalation"]
        );
        let closed = triaged("priority:\n  closed_statuses: [archivado]\n", ticket);
        assert_eq!(
            closed["escalation"]["escalate"], false,
            "{:?}",
            closed["escalation"]
        );
        assert!(closed["escalation"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("resolved")));
    }

    #[test]
    fn the_chain_adds_every_key_and_later_tools_see_earlier_results() {
        let config: TriageConfig = support_core::config::parse_yaml("empty", "{}").unwrap();
        let pipeline = pipeline(config, &lexical()).unwrap();
        let input = json!({
            "id": "T-1",
            "subject": "Reembolso",
            "description": "Es la tercera vez que pido el reembolso y nadie responde. Quiero mi dinero!!!",
            "customer": {"tier": "vip"},
            "created_at": "2026-11-20T09:00:00Z"
        })
        .to_string();
        let record = Record::parse(input.as_bytes()).unwrap();
        let ctx = Context {
            now: "2026-11-24T09:00:00Z".parse().unwrap(),
        };
        let output = apply_to_record(&pipeline, &record, &ctx).unwrap();
        let Ok(Value::Object(record)) = serde_json::from_slice(&output) else {
            unreachable!()
        };
        for key in [
            "sentiment",
            "category",
            "tags",
            "priority",
            "route",
            "escalation",
        ] {
            assert!(record.contains_key(key), "{key} missing");
        }
        assert_eq!(record["category"]["name"], "refund");
        let tag_names: Vec<&str> = tags(&record);
        assert!(
            tag_names.iter().any(|t| t.contains("refund")),
            "{tag_names:?}"
        );
        assert_eq!(record["escalation"]["escalate"], true);
    }

    fn tags(record: &Map<String, Value>) -> Vec<&str> {
        record["tags"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect()
    }
}
