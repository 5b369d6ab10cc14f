//! The knowledge base's feedback loop in the report: articles support-answer
//! sent automatically that customers rated 2 or less, or that a person
//! corrected to another article, with the customers' words that failed them
//! (the store's `v_kb_failed_articles`). Ratings and corrections are kept by
//! the store, so JSON Lines files have no such section.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedArticle {
    pub article_id: String,
    /// Tickets it answered automatically.
    pub answered: i64,
    /// Of those, rated 2 or less or corrected to another article.
    pub failed: i64,
    pub low_ratings: i64,
    pub corrected: i64,
    pub failure_rate: f64,
    pub failed_tickets: Vec<String>,
    /// Subject and text of each failed ticket.
    pub failed_queries: Vec<String>,
}
