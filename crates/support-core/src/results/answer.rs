//! The `answer` result: knowledge-base articles that answer the ticket, and
//! the reply to send when the best one is confident.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ToolResult;

/// The `answer` key a ticket gets.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Answer {
    /// The best articles, best first (at most `max_articles`).
    pub articles: Vec<ArticleMatch>,
    /// The best article's reply, filled in for this ticket; absent when no
    /// article matched or the article has no reply text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Reply>,
    /// True only when the best article is confident (`confidence` at least
    /// the threshold) and has a reply: the ticket can be answered without an
    /// agent. support-escalate reads false as "no confident answer".
    pub auto_reply: bool,
    /// The best article's share of the semantic vote, in [0, 1]: how sure
    /// the retrieval is (`support-answer evaluate` prints the precision it
    /// gives at each threshold).
    pub confidence: f64,
    /// How the articles were found and why the reply is or is not automatic.
    pub reasons: Vec<String>,
}

impl ToolResult for Answer {
    const KEY: &'static str = "answer";
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ArticleMatch {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The ranking score: the article's share of the semantic vote of the
    /// ticket's nearest texts plus its weighted lexical (BM25) score; higher
    /// is better, comparable within one ticket.
    pub score: f64,
    /// Cosine similarity of the ticket and the article's closest text
    /// (its title and body, or one of its questions), in [-1, 1].
    pub similarity: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Reply {
    /// The article the reply comes from.
    pub article_id: String,
    /// `es` or `en`: the ticket's language when the article has a reply in
    /// it, else the language of the text given.
    pub language: String,
    /// The reply with its placeholders (`{customer_name}`, `{ticket_id}`, ...) filled.
    pub text: String,
    /// Set when the reply is not in the ticket's language, saying so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What later readers take of an answer: support-escalate (whether an agent
/// still has to reply) and the store (the article, for the feedback loop).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EarlierAnswer {
    #[serde(default)]
    pub auto_reply: bool,
    #[serde(default)]
    pub confidence: Option<f64>,
    #[serde(default)]
    reply: Option<ReplyArticle>,
    #[serde(default)]
    articles: Vec<ReplyArticle>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct ReplyArticle {
    #[serde(alias = "article_id")]
    id: String,
}

impl EarlierAnswer {
    /// The article the answer replied with, else the best one it found.
    pub fn article(&self) -> Option<&str> {
        self.reply
            .as_ref()
            .or(self.articles.first())
            .map(|a| a.id.as_str())
    }
}

impl super::Reading<'_> for EarlierAnswer {
    type Of = Answer;

    fn of(result: &Answer) -> Self {
        let article = |id: &str| ReplyArticle { id: id.to_string() };
        EarlierAnswer {
            auto_reply: result.auto_reply,
            confidence: Some(result.confidence),
            reply: result.reply.as_ref().map(|r| article(&r.article_id)),
            articles: result
                .articles
                .iter()
                .take(1)
                .map(|a| article(&a.id))
                .collect(),
        }
    }
}
