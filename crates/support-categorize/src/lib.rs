//! support-categorize: the category and intent of a ticket.
//!
//! The taxonomy (nine support categories by default: billing, refund,
//! order, account, technical, security, complaint, feature_request, general)
//! is configured with a description and examples per category. An embedded
//! model (trained on bitext_cs_20k, rebuilt by
//! `scripts/data/train-default-model.sh`) gives a distribution over its
//! e-commerce intents, which the taxonomy groups into categories as
//! subcategories; keyword rules in Spanish and English boost or force any
//! category (the model knows no Spanish, and no outage or fraud); an
//! optional remote classifier replaces the local model while it answers
//! well. Only the taxonomy's categories and the model's labels can come out.

pub use support_core::results::category::{Alternative, Category};
pub mod evaluate;
mod rules;
mod semantic;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use serde::Deserialize;
use support_core::{round3, text, write_joined, Context, Decimal, RecordError, Ticket, Tool};
use support_model::{Analysis, Model, Reason};
use support_remote::{AnswerSource, RemoteClassifier, RemoteSettings};

use rules::{RuleConfig, Rules, SemanticMix};
pub use semantic::EmbeddingsConfig;
use semantic::Semantic;
use support_embed::Embedder;

pub const DEFAULT_CONFIG: &str = include_str!("../defaults/categorize.yaml");
/// [`DEFAULT_CONFIG`] as JSON, converted by `build.rs`: what `Default` parses,
/// because JSON parses many times faster than YAML and this runs at every start.
pub const DEFAULT_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/categorize.json"));
/// Both forms of the embedded default, as the command line loads them.
pub const EMBEDDED_CONFIG: support_core::config::Embedded = support_core::config::Embedded {
    yaml: DEFAULT_CONFIG,
    json: DEFAULT_CONFIG_JSON,
};
/// The embedded model: intents of bitext_cs_20k (train split).
pub const DEFAULT_MODEL: &[u8] = include_bytes!("../model/default.model");
/// How the embedded model is named in outputs.
pub const DEFAULT_MODEL_NAME: &str = "embedded:bitext_cs_20k-intents";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategorizeConfig {
    /// Below this confidence the ticket gets `needs_review: true`.
    pub review_threshold: f64,
    /// Alternatives listed after the chosen category.
    pub alternatives: usize,
    /// Model features quoted in reasons.
    pub reason_features: usize,
    /// The taxonomy, in order.
    pub categories: Vec<CategoryDefinition>,
    pub rules: Vec<RuleConfig>,
    /// The embedding path, used when the model is installed.
    pub embeddings: EmbeddingsConfig,
    pub remote: RemoteSettings,
}

/// One category of the taxonomy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDefinition {
    pub name: String,
    /// What belongs here, in a sentence.
    pub description: String,
    /// The model labels (intents) it groups; they become subcategories.
    #[serde(default)]
    pub intents: Vec<String>,
    /// Ways customers write about it, in Spanish and English.
    #[serde(default)]
    pub examples: Vec<String>,
}

impl Default for CategorizeConfig {
    fn default() -> Self {
        support_core::config::embedded_json(DEFAULT_CONFIG_JSON)
    }
}

/// Probabilities over the model's labels, in the model's label order.
type Distribution = Vec<f64>;

pub struct Categorizer {
    config: CategorizeConfig,
    model: Model,
    pub(crate) model_name: String,
    /// Category of each model label, by label index.
    category_of: Vec<usize>,
    /// Category names, by category index.
    category_names: Vec<String>,
    /// Index of each model label.
    label_index: std::collections::HashMap<String, usize>,
    rules: Rules,
    remote: Option<RemoteClassifier>,
    /// The taxonomy's examples embedded, when the embedding model is used.
    semantic: Option<Semantic>,
    /// Why the embedding path is off, for every ticket's reasons.
    lexical_only: Option<String>,
    /// Embeds each ticket for a model trained with embeddings as features.
    model_embedder: Option<Arc<Embedder>>,
}

impl Categorizer {
    /// Builds from a config and a model: the taxonomy's categories, in its
    /// order, then the labels no category groups, each a category of its
    /// own name.
    pub fn new(config: CategorizeConfig, model: Model, model_name: String) -> anyhow::Result<Self> {
        for (i, category) in config.categories.iter().enumerate() {
            if config.categories[..i]
                .iter()
                .any(|c| c.name == category.name)
            {
                anyhow::bail!("category `{}` is defined twice", category.name);
            }
        }
        let label_category: Vec<&str> = model
            .labels()
            .iter()
            .map(|label| {
                config
                    .categories
                    .iter()
                    .find(|c| c.intents.contains(label) || c.name == *label)
                    .map_or(label.as_str(), |c| c.name.as_str())
            })
            .collect();
        let fits_taxonomy = label_category
            .iter()
            .all(|name| config.categories.iter().any(|c| c.name == *name));
        // A model of other labels (a team's own, Banking77's intents) keeps
        // only the categories its labels reach: rules naming the others
        // (security, complaint) cannot override its labels.
        let mut category_names: Vec<String> = config
            .categories
            .iter()
            .filter(|c| fits_taxonomy || label_category.contains(&c.name.as_str()))
            .map(|c| c.name.clone())
            .collect();
        let mut category_of = Vec::with_capacity(model.labels().len());
        for &name in &label_category {
            let index = match category_names.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    category_names.push(name.to_string());
                    category_names.len() - 1
                }
            };
            category_of.push(index);
        }
        let rules = Rules::compile(&config.rules, &category_names, model.labels())?;
        let label_index = model
            .labels()
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), i))
            .collect();
        Ok(Categorizer {
            config,
            label_index,
            model,
            model_name,
            category_of,
            category_names,
            rules,
            remote: None,
            semantic: None,
            lexical_only: None,
            model_embedder: None,
        })
    }

    /// Adds the embedding path: the taxonomy's descriptions and examples
    /// are embedded now, each ticket when categorized.
    pub fn with_embedder(mut self, embedder: Arc<Embedder>) -> anyhow::Result<Self> {
        if self.model.dense_dims() > 0 {
            self.model_embedder = Some(Arc::clone(&embedder));
        }
        // The examples vote for the taxonomy's categories: a model whose
        // labels fall outside them (banking intents, say) would be outvoted
        // by categories it cannot name.
        let outside: Vec<&str> = (0..self.category_of.len())
            .filter(|&label| {
                let name = &self.category_names[self.category_of[label]];
                !self.config.categories.iter().any(|c| c.name == *name)
            })
            .map(|label| self.model.labels()[label].as_str())
            .collect();
        if !outside.is_empty() {
            let path = if self.model_embedder.is_some() {
                "the taxonomy's examples do not vote (the model reads the ticket's embedding itself)"
            } else {
                "lexical path only"
            };
            let why = text!(
                "{path}: {} of the model's labels are in no category of the taxonomy ({}{}); list them under a category's `intents` to use the embeddings",
                outside.len(),
                outside.iter().take(3).copied().collect::<Vec<_>>().join(", "),
                if outside.len() > 3 { ", ..." } else { "" }
            );
            tracing::warn!("{why}");
            return Ok(self.lexical_only(why));
        }
        let embeddings = &self.config.embeddings;
        let valid = embeddings.neighbours > 0
            && embeddings.temperature > 0.0
            && (0.0..=1.0).contains(&embeddings.weight)
            && embeddings.sharpness > 0.0
            && embeddings.sharpness.is_finite();
        if !valid {
            anyhow::bail!(
                "embeddings: neighbours must be at least 1, temperature and sharpness above 0, weight between 0 and 1; got {}, {}, {} and {}",
                embeddings.neighbours,
                embeddings.temperature,
                embeddings.sharpness,
                embeddings.weight
            );
        }
        self.semantic = Some(
            Semantic::new(embedder, embeddings.clone(), &self.config.categories)
                .context("embedding the taxonomy's examples")?,
        );
        Ok(self)
    }

    /// The embedding path with `embedder`, or the lexical path when the
    /// model is not installed (with a warning naming the command that
    /// installs it).
    pub fn with_embedding_model(self, embedder: Option<Arc<Embedder>>) -> anyhow::Result<Self> {
        match embedder {
            Some(embedder) => self.with_embedder(embedder),
            None => {
                let why = text!(
                    "lexical path only: the embedding model is not installed (run `{}`)",
                    support_embed::SETUP_COMMAND
                );
                tracing::warn!(
                    "{why}; categories of outages, fraud and complaints are weaker without it"
                );
                Ok(self.lexical_only(why))
            }
        }
    }

    /// Runs on the lexical path only, as `--lexical` asks.
    pub fn lexical_on_request(self) -> Self {
        self.lexical_only("lexical path only (--lexical)".to_string())
    }

    /// Runs on the lexical path only, saying `why` in every ticket's reasons.
    fn lexical_only(mut self, mut why: String) -> Self {
        if self.model.dense_dims() > 0 && self.model_embedder.is_none() {
            why.push_str(
                "; the model was trained with embeddings as features and runs on its words alone, \
                 which weakens it: install the embedding model, or retrain with `support-categorize train --lexical`",
            );
            tracing::warn!("{} needs the embedding model: {why}", self.model_name);
        }
        self.semantic = None;
        self.lexical_only = Some(why);
        self
    }

    /// The embedded model with the embedded configuration.
    pub fn embedded(config: CategorizeConfig) -> anyhow::Result<Self> {
        let model = Model::from_bytes(DEFAULT_MODEL).context("the embedded model is damaged")?;
        Categorizer::new(config, model, DEFAULT_MODEL_NAME.to_string())
    }

    /// The model in `path` (from `support-categorize train`), or the embedded one.
    pub fn load(config: CategorizeConfig, model_path: Option<&Path>) -> anyhow::Result<Self> {
        match model_path {
            None => Categorizer::embedded(config),
            Some(path) => {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("cannot read model file {}", path.display()))?;
                let model = Model::from_bytes(&bytes).with_context(|| {
                    format!(
                        "{} is not a model made by `support-categorize train`",
                        path.display()
                    )
                })?;
                Categorizer::new(config, model, path.display().to_string())
            }
        }
    }

    /// Uses the classification service at `url` first, falling back to the local model.
    pub fn with_remote(mut self, url: &str) -> Self {
        let labels = self.model.labels().to_vec();
        self.remote = Some(RemoteClassifier::new(
            url,
            self.config.remote.clone(),
            labels,
        ));
        self
    }

    /// Rules of the configuration that name a category or intent this model
    /// does not have, and so never apply.
    pub fn skipped_rules(&self) -> &[String] {
        &self.rules.skipped
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The embedding model a ticket is embedded with, if any, and how many
    /// of the ticket's tokens it reads.
    pub fn embedder(&self) -> Option<(&Embedder, usize)> {
        let embedder = self
            .model_embedder
            .as_deref()
            .or(self.semantic.as_ref().map(Semantic::embedder))?;
        Some((embedder, self.config.embeddings.max_tokens))
    }

    /// Categorizes one ticket.
    pub fn categorize(&self, ticket: &Ticket<'_>) -> Category {
        // The texts are read as one: the tokens of each, chained, are the
        // tokens of the texts joined by line breaks.
        let tokens = &ticket.analysis().tokens;
        let mut reasons = Vec::new();
        let embedding = self.model_embedder.as_ref().and_then(|embedder| {
            embedder
                .ticket(ticket, self.config.embeddings.max_tokens)
                .map_err(|e| {
                    reasons.push(text!("the model's embedding features are left out: {e}"))
                })
                .ok()
        });
        let analysis = self.model.analyze_with(tokens, embedding.as_deref());
        let (mut distribution, mut source, model_name) =
            self.base_distribution(ticket, &analysis, &mut reasons);
        if let (Some(embedding), "model") = (&embedding, source.as_str()) {
            self.add_neighbours_vote(&mut distribution, embedding, &mut reasons);
        }
        let semantic = self.semantic_share(ticket, &mut reasons);
        if semantic.is_some() {
            source = text!("embeddings+{source}");
        }
        let mut decision = self.rules.apply(
            tokens,
            &distribution,
            semantic.as_ref().map(|(share, config)| SemanticMix {
                share,
                weight: config.weight,
                sharpness: config.sharpness,
            }),
            &self.category_of,
            self.category_names.len(),
        );
        reasons.extend(std::mem::take(&mut decision.reasons));
        if decision.forced {
            source = "rules".to_string();
        } else if decision.boosted {
            source.push_str("+rules");
        }

        let mut ranked: Vec<(usize, f64)> = decision
            .category_scores
            .iter()
            .copied()
            .enumerate()
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let (best, confidence) = ranked[0];
        let subcategory = |category: usize| {
            decision
                .best_label_in(category)
                .map(|l| self.model.labels()[l].clone())
        };
        let label = subcategory(best);
        // Only a decision the model made is explained by its words.
        if let (Some(label), false, true) = (&label, decision.forced, source.starts_with("model")) {
            let mut words = analysis
                .explain(label, self.config.reason_features * 4)
                .unwrap_or_default()
                .into_iter()
                .filter(Reason::tells_a_person)
                .take(self.config.reason_features)
                .peekable();
            if words.peek().is_some() {
                // Room for a sentence, as `text!` gives one with arguments.
                let mut reason = String::with_capacity(128);
                reason.push_str("model: '");
                write_joined(&mut reason, words, "', '", |out, word| {
                    out.write_str(&word.feature)
                });
                reason.push_str("' pointed to ");
                reason.push_str(label);
                reasons.push(reason);
            }
        }
        let needs_review = confidence < self.config.review_threshold;
        if needs_review {
            reasons.push(text!(
                "confidence {:.2} is under the review threshold {:.2}",
                Decimal(confidence),
                Decimal(self.config.review_threshold)
            ));
        }
        reasons.extend(ticket.text_cut().map(|cut| cut.to_string()));
        Category {
            name: self.category_names[best].clone(),
            subcategory: label.filter(|l| *l != self.category_names[best]),
            confidence: round3(confidence),
            alternatives: ranked
                .iter()
                .skip(1)
                .take(self.config.alternatives)
                .map(|&(c, p)| Alternative {
                    name: self.category_names[c].clone(),
                    subcategory: subcategory(c).filter(|l| *l != self.category_names[c]),
                    confidence: round3(p),
                })
                .collect(),
            needs_review,
            source,
            model: model_name,
            reasons,
        }
    }

    /// The embedding vote over the categories and its weight, with its
    /// reason; none on the lexical path (saying why).
    fn semantic_share(
        &self,
        ticket: &Ticket<'_>,
        reasons: &mut Vec<String>,
    ) -> Option<(Vec<f64>, &EmbeddingsConfig)> {
        let Some(semantic) = &self.semantic else {
            reasons.extend(self.lexical_only.clone());
            return None;
        };
        match semantic.vote(ticket, self.category_names.len()) {
            Ok(vote) => {
                let (best, share) = vote.leader()?;
                reasons.push(text!(
                    "embeddings: nearest examples are {}'s ({:.0}% of the vote, cosine {:.3})",
                    self.category_names[best],
                    share * 100.0,
                    vote.similarity[best]
                ));
                Some((vote.share, semantic.config()))
            }
            Err(e) => {
                reasons.push(text!("embeddings failed ({e}); the lexical path decided"));
                None
            }
        }
    }

    /// Blends the vote of the training texts nearest the ticket's
    /// `embedding` into the model's `distribution`, when the model keeps
    /// them (trained with embeddings, see `support-categorize train`).
    fn add_neighbours_vote(
        &self,
        distribution: &mut Distribution,
        embedding: &[f32],
        reasons: &mut Vec<String>,
    ) {
        let Some(neighbours) = self
            .model
            .neighbours()
            .filter(|_| embedding.len() == self.model.dense_dims())
        else {
            return;
        };
        let settings = neighbours.settings();
        let cosines: Vec<f64> = neighbours
            .vectors()
            .map(|vector| f64::from(support_embed::cosine(vector, embedding)))
            .collect();
        let vote = support_embed::vote(
            &cosines,
            |text| neighbours.label_of(text),
            distribution.len(),
            settings.neighbours as usize,
            f64::from(settings.temperature),
        );
        let weight = f64::from(settings.weight);
        for (p, share) in distribution.iter_mut().zip(&vote.share) {
            *p = (1.0 - weight) * *p + weight * share;
        }
        if let Some((best, share)) = vote.leader() {
            reasons.push(text!(
                "neighbours: the nearest training texts are {}'s ({:.0}% of the vote, cosine {:.3})",
                self.model.labels()[best],
                share * 100.0,
                vote.similarity[best]
            ));
        }
    }

    /// The remote service's distribution when it answers well, else the local model's.
    fn base_distribution(
        &self,
        ticket: &Ticket<'_>,
        analysis: &Analysis<'_, '_>,
        reasons: &mut Vec<String>,
    ) -> (Distribution, String, String) {
        if let Some(remote) = &self.remote {
            let id = ticket.id.as_ref().map(|id| id.to_string());
            let text = ticket
                .customer_texts()
                .map(|f| f.text)
                .collect::<Vec<_>>()
                .join("\n");
            match remote.classify(id.as_deref(), &text, ticket.language.as_deref()) {
                Ok((answer, from)) => {
                    let mut distribution: Distribution = vec![0.0; self.model.labels().len()];
                    let index = |label: &str| self.label_index.get(label).copied();
                    for (label, confidence) in std::iter::once((&answer.label, answer.confidence))
                        .chain(answer.alternatives.iter().map(|a| (&a.label, a.confidence)))
                    {
                        if let Some(i) = index(label) {
                            distribution[i] = distribution[i].max(confidence);
                        }
                    }
                    let name = text!("remote:{}", answer.model.as_deref().unwrap_or(remote.url()));
                    let via = if from == AnswerSource::Cache {
                        " (cached answer)"
                    } else {
                        ""
                    };
                    reasons.push(text!(
                        "remote classifier answered {} at {:.2}{via}",
                        answer.label,
                        answer.confidence
                    ));
                    return (distribution, "remote".to_string(), name);
                }
                Err(why) => reasons.push(text!(
                    "remote classifier unavailable ({why}); used the local model"
                )),
            }
        }
        let distribution = analysis
            .probabilities()
            .into_iter()
            .map(f64::from)
            .collect();
        (distribution, "model".to_string(), self.model_name.clone())
    }
}

impl Tool for Categorizer {
    type Output = Category;

    fn decide(&self, ticket: &Ticket<'_>, _ctx: &Context) -> Result<Category, RecordError> {
        Ok(self.categorize(ticket))
    }
}

#[cfg(test)]
mod tests;
