//! A sentiment model learnt from labelled texts (`support-sentiment train`):
//! one logistic regression (support-model) over the text's hashed words,
//! phrases and character n-grams, over the lexicon's verdict, given to it
//! as cue tokens, and over the text's sentence embedding when the embedding
//! model is installed. The lexicon knows negation, emoji and intensity
//! without data; the words learn the domain ("delayed", "Cancelled
//! Flightled"); the embedding reads what neither has a word for.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use support_core::Ticket;
use support_embed::Embedder;
use support_model::{train_on_features, Example, Model, Reason, TrainOptions};
use support_text::{Token, TokenKind};

use crate::polarity::{EvidenceKind, Polarity};
use crate::{Analyzer, Label};

/// Cue tokens start with this character, which the tokenizer never keeps in
/// a word, so a cue never shares a feature with a customer's word.
const CUE: char = '§';

/// Tokens of a ticket the embedding reads: support-categorize's default, so
/// support-triage embeds a ticket once for both.
pub const EMBEDDING_TOKENS: usize = 128;

/// A model from `support-sentiment train`: its labels are among negative,
/// neutral and positive.
pub struct SentimentModel {
    model: Model,
    /// Embeds each ticket, for a model trained with embeddings.
    embedder: Option<Arc<Embedder>>,
}

/// What the model decided for one ticket.
pub(crate) struct ModelVerdict {
    pub label: Label,
    pub probability: f64,
    /// P(positive) − P(negative), in [-1, 1].
    pub score: f64,
    pub reason: String,
}

impl SentimentModel {
    pub fn from_bytes(bytes: &[u8]) -> anyhow::Result<SentimentModel> {
        let model = Model::from_bytes(bytes)?;
        if let Some(other) = model.labels().iter().find(|l| Label::parse(l).is_none()) {
            bail!(
                "its label `{other}` is not negative, neutral or positive: \
                 make a sentiment model with `support-sentiment train`"
            );
        }
        Ok(SentimentModel {
            model,
            embedder: None,
        })
    }

    /// The model in `path`. A model trained with embeddings gets its
    /// embedder from `embedder`, which is called only then (opening the
    /// embedding model is most of a start-up), and must give one.
    pub fn load(
        path: &Path,
        embedder: impl FnOnce() -> anyhow::Result<Option<Arc<Embedder>>>,
    ) -> anyhow::Result<SentimentModel> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the model {}", path.display()))?;
        let mut model = SentimentModel::from_bytes(&bytes)
            .with_context(|| format!("model {}", path.display()))?;
        if model.model.dense_dims() > 0 {
            let Some(embedder) = embedder()? else {
                bail!(
                    "model {}: it was trained with embeddings as features, and the embedding model is not installed \
                     (or --lexical was given): run `{}`, or retrain with `support-sentiment train --lexical`",
                    path.display(),
                    support_embed::SETUP_COMMAND
                );
            };
            model.embedder = Some(embedder);
        }
        Ok(model)
    }

    /// The embedder of a model that reads each ticket's embedding.
    pub(crate) fn embedder(&self) -> Option<&Embedder> {
        self.embedder.as_deref()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.model.to_bytes()
    }

    pub fn labels(&self) -> &[String] {
        self.model.labels()
    }

    /// The label of `ticket` from `tokens` (its words and the lexicon's
    /// cues) and, for a model trained with them, its embedding.
    pub(crate) fn decide(&self, ticket: &Ticket<'_>, tokens: &[Token]) -> ModelVerdict {
        let mut unembedded = None;
        let embedding = self.embedder.as_ref().and_then(|embedder| {
            embedder
                .ticket(ticket, EMBEDDING_TOKENS)
                .map_err(|e| unembedded = Some(e))
                .ok()
        });
        let analysis = self.model.analyze_with(tokens, embedding.as_deref());
        let prediction = analysis.predict();
        let of = |label: Label| {
            prediction
                .ranked
                .iter()
                .find(|r| r.label == label.as_str())
                .map_or(0.0, |r| f64::from(r.probability))
        };
        let best = prediction.best();
        let label = Label::parse(best.label).expect("labels checked at load");
        let words: Vec<String> = analysis
            .explain(best.label, 12)
            .unwrap_or_default()
            .into_iter()
            .filter(Reason::tells_a_person)
            .filter_map(|r| match cue_meaning(&r.feature) {
                Some(meaning) => Some(meaning.to_string()),
                // A phrase joining a word and a cue (or two cues) means nothing to a person.
                None if r.feature.contains(CUE) => None,
                None => Some(format!("'{}'", r.feature)),
            })
            .fold(Vec::new(), |mut distinct, reason| {
                if !distinct.contains(&reason) {
                    distinct.push(reason);
                }
                distinct
            });
        let words = &words[..words.len().min(5)];
        let mut reason = format!("model: {} at {:.2}", label.as_str(), best.probability);
        if !words.is_empty() {
            reason.push_str(", from ");
            reason.push_str(&words.join(", "));
        }
        if embedding.is_some() {
            reason.push_str(" and the text's embedding");
        }
        if let Some(e) = unembedded {
            reason.push_str(&format!(" (its embedding features left out: {e})"));
        }
        ModelVerdict {
            label,
            probability: f64::from(best.probability),
            score: (of(Label::Positive) - of(Label::Negative)).clamp(-1.0, 1.0),
            reason,
        }
    }
}

/// Trains a model on `examples` labelled negative/neutral/positive (any
/// case), with `analyzer`'s lexicon for the cue tokens (the same analyzer
/// configuration should run the model) and, when given, each example's
/// embedding (of its first [`EMBEDDING_TOKENS`] tokens, as a query).
pub fn train(
    analyzer: &Analyzer,
    examples: &[Example],
    embeddings: Option<&[Vec<f32>]>,
    options: &TrainOptions,
    on_iteration: &dyn Fn(u32),
) -> anyhow::Result<SentimentModel> {
    let labels = crate::evaluate::labels(examples)?;
    let examples: Vec<Example> = examples
        .iter()
        .zip(labels)
        .map(|(e, label)| Example {
            text: e.text.clone(),
            label: label.as_str().to_string(),
        })
        .collect();
    let tokens_of = |text: &str| analyzer.model_tokens(&Ticket::from_text(text));
    let model = train_on_features(&examples, &tokens_of, embeddings, options, on_iteration)?;
    Ok(SentimentModel {
        model,
        embedder: None,
    })
}

/// The ticket's tokens followed by the lexicon's cues: one per piece of
/// evidence (its sign, whether negated, emoji or a bare negator), the
/// lexicon's label, its score and frustration in quarters, and whether the
/// text asks something.
pub(crate) fn with_cues(
    tokens: &[Token],
    polarity: &Polarity,
    label: Label,
    score: f64,
    frustration: f64,
    asks: bool,
) -> Vec<Token> {
    let mut all = Vec::with_capacity(tokens.len() + polarity.evidence.len() + 4);
    all.extend_from_slice(tokens);
    let mut cue =
        |name: &str| all.push(Token::new(&format!("{CUE}{name}"), TokenKind::Word, false));
    for e in &polarity.evidence {
        let sign = if e.value < 0.0 { "neg" } else { "pos" };
        match e.kind {
            EvidenceKind::Phrase => cue(sign),
            EvidenceKind::Emoji => cue(&format!("emoji{sign}")),
            EvidenceKind::BareNegation => cue("bare"),
        }
        if e.negated {
            cue("negated");
        }
    }
    cue(&format!("label{}", label.as_str()));
    cue(&format!("score{}", (score * 4.0).round() as i32));
    if frustration > 0.0 {
        cue(&format!("frustration{}", (frustration * 4.0).ceil() as i32));
    }
    if asks {
        cue("asks");
    }
    all
}

/// How a reason names a cue token, or `None` for a word of the text.
fn cue_meaning(feature: &str) -> Option<&'static str> {
    let name = feature.strip_prefix(CUE)?;
    Some(match name {
        "neg" => "the lexicon's negative words",
        "pos" => "the lexicon's positive words",
        "emojineg" => "negative emoji",
        "emojipos" => "positive emoji",
        "bare" => "a negation ('still no')",
        "negated" => "a negated word",
        "asks" => "a question",
        _ if name.starts_with("label") => "the lexicon's label",
        _ if name.starts_with("score") => "the lexicon's score",
        _ if name.starts_with("frustration") => "frustration",
        _ => "a lexicon cue",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A team whose customers mean praise by "lounge" and a complaint by
    /// "escala" (a connection): words the lexicon does not know, in texts
    /// with no word it knows, so only the words can teach the labels.
    fn team_examples() -> Vec<Example> {
        let rows = [
            ("The lounge in Madrid", "positive"),
            ("Three hours in your lounge", "positive"),
            ("lounge access on this trip", "positive"),
            ("El lounge de Barajas", "positive"),
            ("Otra vez el lounge", "positive"),
            ("La escala en Lima", "negative"),
            ("Otra escala en Panamá", "negative"),
            ("La escala de Bogotá", "negative"),
            ("an escala again", "negative"),
            ("the escala in Miami", "negative"),
            ("What time does boarding start?", "neutral"),
            ("¿Cuál es el límite de equipaje?", "neutral"),
            ("Flight 202 departs from gate 5", "neutral"),
            ("¿A qué hora sale el vuelo?", "neutral"),
            ("Do you fly to Quito?", "neutral"),
        ];
        rows.iter()
            .map(|(text, label)| Example {
                text: text.to_string(),
                label: label.to_string(),
            })
            .collect()
    }

    fn analyze(analyzer: &Analyzer, text: &str) -> crate::Sentiment {
        analyzer.analyze(&Ticket::from_text(text))
    }

    #[test]
    fn a_trained_model_learns_the_teams_words_and_says_so() {
        let lexicon = Analyzer::default();
        let model = train(
            &lexicon,
            &team_examples(),
            None,
            &TrainOptions::default(),
            &|_| {},
        )
        .unwrap();
        let analyzer = Analyzer::default().with_model(model);
        for (text, label) in [
            ("Nos dieron el lounge", Label::Positive),
            ("We had an escala", Label::Negative),
        ] {
            assert_eq!(analyze(&lexicon, text).label, Label::Neutral, "{text}");
            let s = analyze(&analyzer, text);
            assert_eq!(s.label, label, "{text}: {s:?}");
            let reason = &s.reasons[0];
            assert!(
                reason.starts_with(&format!("model: {} at", label.as_str())),
                "{reason}"
            );
            assert!(
                reason.contains("lounge") || reason.contains("escala"),
                "{reason}"
            );
            assert!(s.confidence > 0.4 && s.confidence <= 1.0, "{s:?}");
            assert_eq!(s.score > 0.0, label == Label::Positive, "{s:?}");
        }
    }

    #[test]
    fn a_saved_model_decides_the_same_and_a_category_model_is_refused() {
        let model = train(
            &Analyzer::default(),
            &team_examples(),
            None,
            &TrainOptions::default(),
            &|_| {},
        )
        .unwrap();
        let bytes = model.to_bytes();
        let loaded = SentimentModel::from_bytes(&bytes).unwrap();
        assert_eq!(loaded.to_bytes(), bytes);
        let text = "El lounge, genial";
        let before = analyze(&Analyzer::default().with_model(model), text);
        let after = analyze(&Analyzer::default().with_model(loaded), text);
        assert_eq!(
            serde_json::to_value(before).unwrap(),
            serde_json::to_value(after).unwrap()
        );

        let categories = support_model::train(
            &[
                Example {
                    text: "refund please".into(),
                    label: "refund".into(),
                },
                Example {
                    text: "my invoice".into(),
                    label: "billing".into(),
                },
            ],
            &TrainOptions::default(),
        )
        .unwrap();
        let err = SentimentModel::from_bytes(&categories.to_bytes())
            .err()
            .expect("a category model is refused")
            .to_string();
        assert!(
            err.contains("`billing` is not negative, neutral or positive"),
            "{err}"
        );
    }

    #[test]
    fn a_label_outside_the_three_is_named_before_training() {
        let mut examples = team_examples();
        examples[3].label = "mixed".into();
        let err = train(
            &Analyzer::default(),
            &examples,
            None,
            &TrainOptions::default(),
            &|_| {},
        )
        .err()
        .expect("refused")
        .to_string();
        assert!(err.contains("example 4: label `mixed`"), "{err}");
    }
}
