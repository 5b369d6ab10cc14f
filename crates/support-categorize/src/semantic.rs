//! The embedding path: the ticket's embedding (multilingual-e5-small, so
//! Spanish and English alike) against the taxonomy's descriptions and
//! examples, each a vote for its category.

use std::sync::Arc;

use serde::Deserialize;
use support_core::Ticket;
use support_embed::{EmbedError, Embedder, Role, Vote};

use crate::CategoryDefinition;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsConfig {
    /// Examples that vote for their category.
    pub neighbours: usize,
    /// How fast a vote fades with distance from the nearest example.
    pub temperature: f64,
    /// Share of the category score from the vote; the rest from the lexical model.
    pub weight: f64,
    /// The power the mixed scores are raised to (calibration).
    pub sharpness: f64,
    /// Tokens of the ticket embedded (the first ones).
    pub max_tokens: usize,
}

pub(crate) struct Semantic {
    embedder: Arc<Embedder>,
    config: EmbeddingsConfig,
    /// One embedding per description and example.
    examples: Vec<Vec<f32>>,
    /// The category of each, by category index.
    category_of: Vec<usize>,
}

impl Semantic {
    /// Embeds every description and example of `categories` (indexes as in
    /// `categories`).
    pub fn new(
        embedder: Arc<Embedder>,
        config: EmbeddingsConfig,
        categories: &[CategoryDefinition],
    ) -> Result<Self, EmbedError> {
        let mut texts = Vec::new();
        let mut category_of = Vec::new();
        for (index, category) in categories.iter().enumerate() {
            for text in std::iter::once(&category.description).chain(&category.examples) {
                texts.push(text.as_str());
                category_of.push(index);
            }
        }
        let examples = embedder.embed_cached(&texts, Role::Query, config.max_tokens)?;
        Ok(Semantic {
            embedder,
            config,
            examples,
            category_of,
        })
    }

    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    pub fn config(&self) -> &EmbeddingsConfig {
        &self.config
    }

    /// The vote for `categories` categories (the taxonomy's come first).
    pub fn vote(&self, ticket: &Ticket<'_>, categories: usize) -> Result<Vote, EmbedError> {
        let embedding = self.embedder.ticket(ticket, self.config.max_tokens)?;
        let cosines: Vec<f64> = self
            .examples
            .iter()
            .map(|example| f64::from(support_embed::cosine(example, &embedding)))
            .collect();
        Ok(support_embed::vote(
            &cosines,
            |example| self.category_of[example],
            categories,
            self.config.neighbours,
            self.config.temperature,
        ))
    }
}
