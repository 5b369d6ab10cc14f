//! Retrieval quality on labelled queries (`text`, `article_id`): recall at 1
//! and 5 and mean reciprocal rank of the hybrid ranking and of each
//! retriever alone, and precision and coverage of `auto_reply` by threshold.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::index::Hit;
use crate::{Answerer, Retrieval};

#[derive(Debug, Clone)]
pub struct Query {
    pub text: String,
    pub article_id: String,
}

/// Reads a CSV with a header holding `text` and `article_id` columns.
pub fn read_queries(path: &Path) -> anyhow::Result<Vec<Query>> {
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            anyhow::anyhow!(
                "{}: no `{name}` column (the header has: {})",
                path.display(),
                headers.iter().collect::<Vec<_>>().join(", ")
            )
        })
    };
    let (text, article) = (column("text")?, column("article_id")?);
    let mut queries = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| anyhow::anyhow!("{}: row {}: {e}", path.display(), i + 2))?;
        queries.push(Query {
            text: row.get(text).unwrap_or_default().to_string(),
            article_id: row.get(article).unwrap_or_default().to_string(),
        });
    }
    Ok(queries)
}

#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub mrr: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AtThreshold {
    pub threshold: f64,
    /// Share of automatic replies whose article was the right one.
    pub precision: f64,
    /// Share of queries answered automatically.
    pub coverage: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub examples: usize,
    /// Queries whose article is not in the index (counted as misses).
    pub unknown_articles: usize,
    pub recall_at_1: f64,
    pub recall_at_5: f64,
    pub mrr: f64,
    /// Each retriever alone, to show what fusing them adds.
    pub semantic_only: Ranking,
    pub lexical_only: Ranking,
    /// The configured threshold and its precision and coverage.
    pub threshold: AtThreshold,
    pub auto_reply: Vec<AtThreshold>,
    /// The lowest threshold reaching `target_precision`, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold_for_target: Option<AtThreshold>,
    pub target_precision: f64,
}

pub fn evaluate(
    answerer: &Answerer,
    queries: &[Query],
    target_precision: f64,
    progress: &dyn Fn(usize),
) -> Result<Evaluation, support_core::RecordError> {
    let positions: HashMap<&str, usize> = answerer
        .index()
        .articles
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let mut outcomes = Vec::with_capacity(queries.len());
    for (i, query) in queries.iter().enumerate() {
        let target = positions.get(query.article_id.as_str()).copied();
        outcomes.push(Outcome::of(&answerer.retrieve(&query.text)?, target));
        progress(i + 1);
    }
    Ok(report(answerer, &outcomes, target_precision))
}

/// `evaluate` with the knowledge base's own questions as the queries, each
/// left out of the index while it is asked: how well the KB answers the ways
/// customers ask, with no labelled queries of its own and no encoder run
/// (a question's stored embedding is the query's). BM25's document
/// frequencies still count the question left out, a bias of one text in
/// thousands.
pub fn evaluate_leave_one_out(
    answerer: &Answerer,
    target_precision: f64,
    progress: &dyn Fn(usize),
) -> Evaluation {
    let outcomes: Vec<Outcome> = answerer
        .index()
        .questions()
        .enumerate()
        .map(|(i, (text, question, article))| {
            let retrieval = answerer.retrieve_leaving_out(text, question);
            progress(i + 1);
            Outcome::of(&retrieval, Some(article))
        })
        .collect();
    report(answerer, &outcomes, target_precision)
}

/// Ranks of the right article (1-based; `None` when not ranked) per retriever.
struct Outcome {
    fused: Option<usize>,
    dense: Option<usize>,
    lexical: Option<usize>,
    /// Whether the query's article is in the index.
    known: bool,
    confidence: f64,
}

impl Outcome {
    /// How a retrieval ranked the article at `target` (`None`: not in the
    /// index). Kept instead of the retrieval, which scores every article.
    fn of(retrieval: &Retrieval, target: Option<usize>) -> Outcome {
        let confidence = retrieval.confidence();
        let Some(target) = target else {
            return Outcome {
                fused: None,
                dense: None,
                lexical: None,
                known: false,
                confidence,
            };
        };
        let hits = &retrieval.hits;
        let found = hits.iter().position(|h| h.article == target);
        let hit = found.map(|p| &hits[p]);
        // Rank by one retriever alone: 1 + the articles it scores higher.
        let rank_by = |score: fn(&Hit) -> (f64, f64)| {
            hit.map(|h| 1 + hits.iter().filter(|o| score(o) > score(h)).count())
        };
        Outcome {
            fused: found.map(|p| p + 1),
            dense: rank_by(|h| (h.semantic, h.similarity)),
            lexical: rank_by(|h| (h.lexical, 0.0)).filter(|_| hit.is_some_and(|h| h.lexical > 0.0)),
            known: true,
            confidence,
        }
    }
}

/// The report on the outcomes of every query.
fn report(answerer: &Answerer, outcomes: &[Outcome], target_precision: f64) -> Evaluation {
    let unknown_articles = outcomes.iter().filter(|o| !o.known).count();
    let ranking = |rank: fn(&Outcome) -> Option<usize>| ranking(outcomes, rank);
    let fused = ranking(|o| o.fused);
    let at = |threshold: f64| at_threshold(outcomes, threshold);
    let auto_reply: Vec<AtThreshold> = (0..=19).map(|i| at(0.05 * f64::from(i))).collect();
    // The finest grid for the target: every distinct confidence.
    let mut confidences: Vec<f64> = outcomes.iter().map(|o| o.confidence).collect();
    confidences.sort_by(f64::total_cmp);
    let threshold_for_target = confidences
        .iter()
        .map(|&c| at(c))
        .find(|a| a.coverage > 0.0 && a.precision >= target_precision);
    Evaluation {
        examples: outcomes.len(),
        unknown_articles,
        recall_at_1: fused.recall_at_1,
        recall_at_5: fused.recall_at_5,
        mrr: fused.mrr,
        semantic_only: ranking(|o| o.dense),
        lexical_only: ranking(|o| o.lexical),
        threshold: at(answerer.threshold()),
        auto_reply,
        threshold_for_target,
        target_precision,
    }
}

fn ranking(outcomes: &[Outcome], rank: fn(&Outcome) -> Option<usize>) -> Ranking {
    let n = outcomes.len().max(1) as f64;
    let within = |k: usize| {
        outcomes
            .iter()
            .filter(|o| rank(o).is_some_and(|r| r <= k))
            .count() as f64
            / n
    };
    Ranking {
        recall_at_1: round4(within(1)),
        recall_at_5: round4(within(5)),
        mrr: round4(
            outcomes
                .iter()
                .filter_map(rank)
                .map(|r| 1.0 / r as f64)
                .sum::<f64>()
                / n,
        ),
    }
}

fn at_threshold(outcomes: &[Outcome], threshold: f64) -> AtThreshold {
    let answered: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.confidence >= threshold)
        .collect();
    let right = answered.iter().filter(|o| o.fused == Some(1)).count();
    AtThreshold {
        threshold: round4(threshold),
        precision: round4(if answered.is_empty() {
            1.0
        } else {
            right as f64 / answered.len() as f64
        }),
        coverage: round4(answered.len() as f64 / outcomes.len().max(1) as f64),
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
