//! Answers routine tickets from a knowledge base, in Spanish and English,
//! offline. Each ticket is embedded (multilingual-e5-small, so a Spanish
//! ticket finds an English article) and matched against the articles and
//! their questions twice, semantically and lexically (BM25); the rankings
//! are fused, and the best article's reply is filled in for the ticket.
//! `auto_reply` says whether it can be sent without an agent.

pub mod evaluate;
pub mod index;
pub mod kb;
mod lexical;
pub mod reply;

use std::sync::Arc;

use serde::Deserialize;
pub use support_core::results::answer::{Answer, ArticleMatch, Reply};
use support_core::{round3, Context, RecordError, Ticket, Tool};
use support_embed::{Embedder, Role};
use support_text::Language;

use index::{Fusion, Hit, KbIndex};
use kb::Article;

pub const DEFAULT_CONFIG: &str = include_str!("../defaults/answer.yaml");
/// [`DEFAULT_CONFIG`] as JSON, converted by `build.rs`.
pub const DEFAULT_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/answer.json"));
/// Both forms of the embedded default, as the command line loads them.
pub const EMBEDDED_CONFIG: support_core::config::Embedded = support_core::config::Embedded {
    yaml: DEFAULT_CONFIG,
    json: DEFAULT_CONFIG_JSON,
};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerConfig {
    pub max_articles: usize,
    pub threshold: f64,
    pub max_tokens: usize,
    pub passage_tokens: usize,
    pub neighbours: usize,
    pub temperature: f64,
    pub lexical_weight: f64,
    pub fallback_language: Language,
}

impl AnswerConfig {
    fn fusion(&self) -> Fusion {
        Fusion {
            neighbours: self.neighbours,
            temperature: self.temperature,
            lexical_weight: self.lexical_weight,
        }
    }
}

impl Default for AnswerConfig {
    fn default() -> Self {
        support_core::config::embedded_json(DEFAULT_CONFIG_JSON)
    }
}

pub struct Answerer {
    config: AnswerConfig,
    index: KbIndex,
    embedder: Arc<Embedder>,
}

/// The articles for one query.
pub struct Retrieval {
    /// Every article, best first.
    pub hits: Vec<Hit>,
}

impl Retrieval {
    /// How sure the retrieval is of the best article: its share of the
    /// semantic vote.
    pub fn confidence(&self) -> f64 {
        self.hits.first().map_or(0.0, |h| h.semantic)
    }
}

impl Answerer {
    pub fn new(
        config: AnswerConfig,
        index: KbIndex,
        embedder: Arc<Embedder>,
    ) -> anyhow::Result<Self> {
        let valid =
            config.temperature > 0.0 && config.neighbours > 0 && config.lexical_weight >= 0.0;
        if !valid {
            anyhow::bail!(
                "temperature must be above 0, neighbours at least 1 and lexical_weight 0 or more; got {}, {} and {}",
                config.temperature,
                config.neighbours,
                config.lexical_weight
            );
        }
        if index.dim() != embedder.dim() {
            anyhow::bail!(
                "the index holds {}-dimension embeddings, the model makes {}: rebuild it with `support-answer index`",
                index.dim(),
                embedder.dim()
            );
        }
        Ok(Answerer {
            config,
            index,
            embedder,
        })
    }

    pub fn index(&self) -> &KbIndex {
        &self.index
    }

    /// The confidence `auto_reply` needs.
    pub fn threshold(&self) -> f64 {
        self.config.threshold
    }

    /// Ranks every article for `query`.
    pub fn retrieve(&self, query: &str) -> Result<Retrieval, RecordError> {
        let embedding = self
            .embedder
            .embed_truncated(&[query], Role::Query, self.config.max_tokens)
            .map_err(embed_failed)?
            .remove(0);
        Ok(self.rank(query, &embedding))
    }

    /// Ranks every article for question `text` of the index, left out of it.
    pub fn retrieve_leaving_out(&self, text: usize, query: &str) -> Retrieval {
        Retrieval {
            hits: self
                .index
                .search_leaving_out(text, query, self.config.fusion()),
        }
    }

    fn rank(&self, query: &str, embedding: &[f32]) -> Retrieval {
        Retrieval {
            hits: self.index.search(query, embedding, self.config.fusion()),
        }
    }

    fn article(&self, hit: &Hit) -> &Article {
        &self.index.articles[hit.article]
    }
}

impl Tool for Answerer {
    type Output = Answer;

    fn decide(&self, ticket: &Ticket<'_>, _ctx: &Context) -> Result<Answer, RecordError> {
        let embedding = self
            .embedder
            .ticket(ticket, self.config.max_tokens)
            .map_err(embed_failed)?;
        let retrieval = self.rank(&ticket.query_text(), &embedding);
        let (hits, confidence) = (&retrieval.hits, retrieval.confidence());
        let mut reasons = Vec::new();
        let articles: Vec<ArticleMatch> = hits
            .iter()
            .take(self.config.max_articles)
            .map(|hit| {
                let article = self.article(hit);
                ArticleMatch {
                    id: article.id.clone(),
                    title: article.title.clone(),
                    url: article.url.clone(),
                    score: round3(hit.fused),
                    similarity: round3(hit.similarity),
                }
            })
            .collect();
        let Some(best) = hits.first() else {
            reasons.push("the knowledge base has no articles".into());
            return Ok(Answer {
                articles,
                reply: None,
                auto_reply: false,
                confidence: 0.0,
                reasons,
            });
        };
        let article = self.article(best);
        reasons.push(format!(
            "best article `{}`: {:.0}% of the semantic vote of the {} nearest texts (cosine {:.3}), lexical score {:.2} of the best",
            article.id,
            best.semantic * 100.0,
            self.config.neighbours,
            best.similarity,
            best.lexical,
        ));
        let language = self.language(ticket);
        let reply = reply_for(article, language, ticket);
        let confident = confidence >= self.config.threshold;
        let auto_reply = confident && reply.is_some() && article.auto_reply;
        reasons.push(match (confident, reply.is_some(), article.auto_reply) {
            (true, true, true) => format!(
                "confidence {confidence:.2} reaches the threshold {:.2}: the reply can be sent",
                self.config.threshold
            ),
            (true, false, _) => format!(
                "confidence {confidence:.2} reaches the threshold, but `{}` has no reply text: an agent answers",
                article.id
            ),
            (true, true, false) => format!(
                "confidence {confidence:.2} reaches the threshold, but `{}` says an agent sends its reply (`auto_reply: false`): the reply is a draft",
                article.id
            ),
            (false, _, _) => format!(
                "no confident answer: confidence {confidence:.2} is below the threshold {:.2}; an agent answers",
                self.config.threshold
            ),
        });
        Ok(Answer {
            articles,
            reply,
            auto_reply,
            confidence: round3(confidence),
            reasons,
        })
    }
}

fn embed_failed(error: support_embed::EmbedError) -> RecordError {
    RecordError::new(support_core::ErrorKind::Failed, error.to_string())
}

impl Answerer {
    /// The ticket's language: as given when es or en, else detected.
    fn language(&self, ticket: &Ticket<'_>) -> Language {
        ticket
            .language
            .as_deref()
            .and_then(Language::parse)
            .unwrap_or_else(|| {
                ticket
                    .language_evidence()
                    .detect(self.config.fallback_language)
                    .language
            })
    }
}

/// The article's reply in `language`, else in the other language with a
/// note; placeholders filled from the ticket.
fn reply_for(article: &Article, language: Language, ticket: &Ticket<'_>) -> Option<Reply> {
    let wanted = language.code();
    let (code, text, note) = match article.reply.get(wanted) {
        Some(text) => (wanted.to_string(), text, None),
        None => {
            let (code, text) = article.reply.iter().next()?;
            let note = format!(
                "the article has no reply in `{wanted}`; this one is in `{code}`: translate it before sending"
            );
            (code.clone(), text, Some(note))
        }
    };
    Some(Reply {
        article_id: article.id.clone(),
        language: code,
        text: fill_placeholders(text, ticket),
        note,
    })
}

/// Fills `{customer_name}`, `{customer_email}` and `{ticket_id}`; a missing
/// value takes the space before it too ("Hola {customer_name}," → "Hola,").
pub fn fill_placeholders(text: &str, ticket: &Ticket<'_>) -> String {
    let customer = ticket.customer.as_ref();
    let values = [
        (
            "{customer_name}",
            customer.and_then(|c| c.name.as_deref()).map(str::to_string),
        ),
        (
            "{customer_email}",
            customer
                .and_then(|c| c.email.as_deref())
                .map(str::to_string),
        ),
        ("{ticket_id}", ticket.id.as_ref().map(|id| id.to_string())),
    ];
    let mut out = text.to_string();
    for (placeholder, value) in values {
        out = match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            Some(value) => out.replace(placeholder, value),
            None => out
                .replace(&format!(" {placeholder}"), "")
                .replace(placeholder, ""),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_or_dropped_with_their_space() {
        let record = support_core::testing::object(
            serde_json::json!({"id": "T-7", "customer": {"name": "Ana"}, "description": "x"}),
        );
        let ticket = Ticket::from_map(&record).unwrap();
        assert_eq!(
            fill_placeholders("Hola {customer_name}, sobre {ticket_id}:", &ticket),
            "Hola Ana, sobre T-7:"
        );
        let record = support_core::testing::object(serde_json::json!({"description": "x"}));
        let ticket = Ticket::from_map(&record).unwrap();
        assert_eq!(
            fill_placeholders("Hi {customer_name}, thanks", &ticket),
            "Hi, thanks"
        );
    }

    #[test]
    fn a_reply_in_the_other_language_says_so() {
        let article = Article {
            id: "kb-1".into(),
            title: "t".into(),
            body: "b".into(),
            questions: vec![],
            language: None,
            url: None,
            tags: vec![],
            reply: [("en".to_string(), "Hi {customer_name}".to_string())].into(),
            auto_reply: true,
        };
        let record = support_core::testing::object(serde_json::json!({"description": "x"}));
        let ticket = Ticket::from_map(&record).unwrap();
        let reply = reply_for(&article, Language::Es, &ticket).unwrap();
        assert_eq!((reply.language.as_str(), reply.text.as_str()), ("en", "Hi"));
        assert!(reply.note.unwrap().contains("no reply in `es`"));
        let english = reply_for(&article, Language::En, &ticket).unwrap();
        assert!(english.note.is_none());
    }
}
