//! A trained classifier: feature settings, labels, per-feature idf and
//! int8-quantized weights, and prediction with explanations.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;
use support_text::{tokenize, Token};

use crate::features::{extract, FeatureKind, FeatureSettings, Origin};
use crate::metrics::{evaluate, Report, Scored};
use crate::train::Example;

/// Marks a bucket that no training text produced: it carries no weight.
pub(crate) const NO_ROW: u32 = u32::MAX;

/// A multi-class linear classifier over hashed TF-IDF features.
///
/// Only buckets seen in training have a row; each row holds its idf, a
/// scale, and one int8 weight per class (weight = scale × int8). Predictions
/// are computed from exactly these quantized numbers, so a model scores the
/// same right after training and after a save/load round trip.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) settings: FeatureSettings,
    pub(crate) labels: Vec<String>,
    /// Bucket of each row, strictly increasing.
    pub(crate) buckets: Vec<u32>,
    /// Row of each bucket, or `NO_ROW`; derived from `buckets`.
    pub(crate) row_of_bucket: Vec<u32>,
    /// First row of a character n-gram; derived from `buckets`.
    pub(crate) first_char_row: u32,
    pub(crate) idf: Vec<f32>,
    pub(crate) scales: Vec<f32>,
    /// `rows × classes`, row-major.
    pub(crate) weights: Vec<i8>,
    pub(crate) bias: Vec<f32>,
}

/// One label of a prediction with its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ranked<'m> {
    pub label: &'m str,
    pub probability: f32,
}

/// The full distribution over the model's labels, most probable first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction<'m> {
    pub ranked: Vec<Ranked<'m>>,
}

impl<'m> Prediction<'m> {
    /// The most probable label.
    pub fn best(&self) -> Ranked<'m> {
        self.ranked[0]
    }
}

/// A word or phrase of the text and how much it pushed towards a label
/// (its contribution to that label's score; larger means stronger).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// Folded text of the word or phrase, e.g. `reembolso` or `not received`.
    pub feature: String,
    pub kind: FeatureKind,
    pub weight: f32,
}

/// The features of one text: model rows with their TF-IDF values.
pub(crate) struct Vectorized {
    pub rows: Vec<u32>,
    pub values: Vec<f32>,
}

/// Sublinear term frequency times idf, L2-normalized separately for word
/// features (rows before `first_char_row`) and character n-grams, so the
/// many character n-grams do not drown the words (as in scikit-learn's union
/// of a word and a char vectorizer). `counts` holds (row, occurrences)
/// sorted by row; shared by training and prediction so both see the same
/// numbers.
pub(crate) fn weigh(counts: &[(u32, u32)], idf: &[f32], first_char_row: u32) -> Vectorized {
    // Most features occur once, and ln(1) is exactly 0: skip the logarithm.
    let tf = |n: u32| if n == 1 { 1.0 } else { 1.0 + (n as f32).ln() };
    let mut values: Vec<f32> = counts
        .iter()
        .map(|&(row, n)| tf(n) * idf[row as usize])
        .collect();
    let split = counts.partition_point(|&(row, _)| row < first_char_row);
    let (words, chars) = values.split_at_mut(split);
    for block in [words, chars] {
        let norm = block.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            block.iter_mut().for_each(|v| *v /= norm);
        }
    }
    Vectorized {
        rows: counts.iter().map(|&(row, _)| row).collect(),
        values,
    }
}

/// Ids counted in increasing order, and where each input id went:
/// `[5, 2, 5]` → `([(2, 1), (5, 2)], [1, 0, 1])`.
pub(crate) fn count_sorted(ids: &[u32]) -> (Vec<(u32, u32)>, Vec<u32>) {
    let mut positions: Vec<(u32, u32)> = ids.iter().zip(0..).map(|(&id, i)| (id, i)).collect();
    radix_sort_by_id(&mut positions);
    let mut counts: Vec<(u32, u32)> = Vec::with_capacity(ids.len());
    let mut slot_of = vec![0; ids.len()];
    for (id, position) in positions {
        match counts.last_mut() {
            Some((last, n)) if *last == id => *n += 1,
            _ => counts.push((id, 1)),
        }
        slot_of[position as usize] = counts.len() as u32 - 1;
    }
    (counts, slot_of)
}

/// Stable sort of (id, payload) pairs by id, a byte of the id per pass: a
/// text has a few hundred feature occurrences, which a comparison sort
/// orders at several times the cost.
fn radix_sort_by_id(pairs: &mut Vec<(u32, u32)>) {
    let max = pairs.iter().map(|&(id, _)| id).max().unwrap_or(0);
    let mut sorted = vec![(0, 0); pairs.len()];
    let mut shift = 0;
    while shift < u32::BITS && max >> shift > 0 {
        let digit = |id: u32| ((id >> shift) & 0xFF) as usize;
        let mut next = [0usize; 256];
        for &(id, _) in pairs.iter() {
            next[digit(id)] += 1;
        }
        let mut start = 0;
        for slot in next.iter_mut() {
            (*slot, start) = (start, start + *slot);
        }
        for &pair in pairs.iter() {
            let d = digit(pair.0);
            sorted[next[d]] = pair;
            next[d] += 1;
        }
        std::mem::swap(pairs, &mut sorted);
        shift += 8;
    }
}

/// Numerically stable softmax in place.
pub(crate) fn softmax(scores: &mut [f32]) {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    scores.iter_mut().for_each(|s| *s /= sum);
}

impl Model {
    /// Builds a model from its parts, checking they fit together.
    pub(crate) fn from_parts(
        settings: FeatureSettings,
        labels: Vec<String>,
        buckets: Vec<u32>,
        idf: Vec<f32>,
        scales: Vec<f32>,
        weights: Vec<i8>,
        bias: Vec<f32>,
    ) -> Result<Model, String> {
        settings.validate()?;
        if labels.len() < 2 {
            return Err(format!(
                "a model needs at least 2 labels, found {}",
                labels.len()
            ));
        }
        let mut sorted = labels.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != labels.len() || labels.iter().any(|l| l.is_empty()) {
            return Err("labels must be distinct and non-empty".into());
        }
        let rows = buckets.len();
        if idf.len() != rows
            || scales.len() != rows
            || weights.len() != rows * labels.len()
            || bias.len() != labels.len()
        {
            return Err("table sizes do not match the number of features and labels".into());
        }
        if idf
            .iter()
            .chain(&scales)
            .chain(&bias)
            .any(|v| !v.is_finite())
        {
            return Err("non-finite number in the model".into());
        }
        let mut row_of_bucket = vec![NO_ROW; settings.bucket_count()];
        let mut previous = None;
        for (row, &bucket) in buckets.iter().enumerate() {
            if previous.is_some_and(|p| p >= bucket) || bucket as usize >= row_of_bucket.len() {
                return Err("feature buckets out of order or out of range".into());
            }
            previous = Some(bucket);
            row_of_bucket[bucket as usize] = row as u32;
        }
        // Word buckets are the lower half, so word rows come first.
        let first_char_row = buckets.partition_point(|&b| b < settings.char_block_start()) as u32;
        Ok(Model {
            settings,
            labels,
            buckets,
            row_of_bucket,
            first_char_row,
            idf,
            scales,
            weights,
            bias,
        })
    }

    /// The labels this model can predict, in its internal order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// How texts are turned into features.
    pub fn settings(&self) -> &FeatureSettings {
        &self.settings
    }

    /// Number of feature rows (hashed n-grams with a weight).
    pub fn feature_count(&self) -> usize {
        self.buckets.len()
    }

    fn classes(&self) -> usize {
        self.labels.len()
    }

    /// The features of `tokens` (from [`support_text::tokenize`]), for a
    /// prediction and explanations that share one extraction.
    pub fn analyze<'t>(&self, tokens: &'t [Token]) -> Analysis<'_, 't> {
        let mut rows = Vec::with_capacity(tokens.len() * 16);
        let mut origins = Vec::with_capacity(tokens.len() * 16);
        extract(tokens, &self.settings, |bucket, origin| {
            let row = self.row_of_bucket[bucket as usize];
            if row != NO_ROW {
                rows.push(row);
                origins.push(origin);
            }
        });
        let (counts, slot_of) = count_sorted(&rows);
        let features = weigh(&counts, &self.idf, self.first_char_row);
        Analysis {
            model: self,
            tokens,
            origins,
            slot_of,
            counts,
            features,
        }
    }

    /// Ranks every label of the model by probability (ties keep label order).
    /// Only the model's labels can come out; a text with no known feature
    /// gets the prior learned in the bias.
    pub fn predict(&self, text: &str) -> Prediction<'_> {
        self.analyze(&tokenize(text)).predict()
    }

    /// The words and phrases of `text` that pushed most towards `label`; see
    /// [`Analysis::explain`].
    pub fn explain(&self, text: &str, label: &str, limit: usize) -> Option<Vec<Reason>> {
        self.analyze(&tokenize(text)).explain(label, limit)
    }

    /// Predicts every example (in parallel) and scores the predictions
    /// against their labels; see [`crate::metrics::evaluate`].
    pub fn evaluate(&self, examples: &[Example], target_precisions: &[f64]) -> Report {
        let best: Vec<Ranked<'_>> = examples
            .par_iter()
            .map(|e| self.predict(&e.text).best())
            .collect();
        let items: Vec<Scored<'_>> = examples
            .iter()
            .zip(&best)
            .map(|(e, p)| Scored {
                truth: &e.label,
                predicted: p.label,
                confidence: p.probability,
            })
            .collect();
        evaluate(&items, target_precisions)
    }
}

/// The features of one text: a prediction and the explanation of any label
/// read the same numbers without extracting them again.
pub struct Analysis<'m, 't> {
    model: &'m Model,
    tokens: &'t [Token],
    /// Where each feature occurrence came from.
    origins: Vec<Origin>,
    /// Index into `counts` of each feature occurrence.
    slot_of: Vec<u32>,
    /// Distinct model rows with their occurrences, by row.
    counts: Vec<(u32, u32)>,
    features: Vectorized,
}

impl<'m> Analysis<'m, '_> {
    /// Class probabilities in the order of [`Model::labels`].
    pub fn probabilities(&self) -> Vec<f32> {
        let model = self.model;
        let classes = model.classes();
        let mut scores = model.bias.clone();
        for (&row, &value) in self.features.rows.iter().zip(&self.features.values) {
            let row = row as usize;
            let factor = value * model.scales[row];
            let weights = &model.weights[row * classes..(row + 1) * classes];
            for (score, &w) in scores.iter_mut().zip(weights) {
                *score += factor * f32::from(w);
            }
        }
        softmax(&mut scores);
        scores
    }

    /// Every label ranked by probability, as [`Model::predict`].
    pub fn predict(&self) -> Prediction<'m> {
        let mut ranked: Vec<Ranked<'m>> = self
            .model
            .labels
            .iter()
            .zip(self.probabilities())
            .map(|(label, probability)| Ranked { label, probability })
            .collect();
        ranked.sort_by(|a, b| b.probability.total_cmp(&a.probability));
        Prediction { ranked }
    }

    /// The words and phrases that pushed most towards `label`, strongest
    /// first, at most `limit`, only those with a positive weight. A word's
    /// weight includes the character n-grams inside it. Returns `None` if
    /// `label` is not one of the model's labels.
    pub fn explain(&self, label: &str, limit: usize) -> Option<Vec<Reason>> {
        let model = self.model;
        let class = model.labels.iter().position(|l| l == label)?;
        let classes = model.classes();
        // A feature occurring several times shares its weight among its occurrences.
        let occurrence_weight: Vec<f32> = self
            .counts
            .iter()
            .zip(&self.features.values)
            .map(|(&(row, occurrences), &value)| {
                let row = row as usize;
                value * model.scales[row] * f32::from(model.weights[row * classes + class])
                    / occurrences as f32
            })
            .collect();
        // Words are told apart by the first position of their text, so a
        // feature (a run of words) is a slice of ids, compared without
        // building its text; the text is built only for the reasons kept.
        let mut first_position: HashMap<&str, u32> = HashMap::new();
        let word_ids: Vec<u32> = (0..)
            .zip(self.tokens)
            .map(|(i, t)| *first_position.entry(t.norm.as_str()).or_insert(i))
            .collect();
        let ngrams = usize::from(model.settings.word_ngrams);
        let mut feature_of_origin: Vec<Option<usize>> = vec![None; self.tokens.len() * ngrams];
        let mut feature_of_ids: HashMap<(FeatureKind, &[u32]), usize> = HashMap::new();
        // Distinct features in order of first occurrence, each weight summed
        // in order of occurrence.
        let mut features: Vec<(Origin, f32)> = Vec::new();
        for (&origin, &slot) in self.origins.iter().zip(&self.slot_of) {
            let words = self.words_of(origin);
            let memo = &mut feature_of_origin[words.start * ngrams + words.len() - 1];
            let feature = *memo.get_or_insert_with(|| {
                *feature_of_ids
                    .entry((origin.kind, &word_ids[words]))
                    .or_insert_with(|| {
                        features.push((origin, 0.0));
                        features.len() - 1
                    })
            });
            features[feature].1 += occurrence_weight[slot as usize];
        }
        features.retain(|&(_, weight)| weight > 0.0);
        // Ties go in the order of the features' text, the words joined by spaces.
        let text = |origin: Origin| {
            self.tokens[self.words_of(origin)]
                .iter()
                .enumerate()
                .flat_map(|(i, t)| (i > 0).then_some(b' ').into_iter().chain(t.norm.bytes()))
        };
        features.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| text(a.0).cmp(text(b.0))));
        features.truncate(limit);
        let reasons = features
            .into_iter()
            .map(|(origin, weight)| Reason {
                feature: self.tokens[self.words_of(origin)]
                    .iter()
                    .map(|t| t.norm.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                kind: origin.kind,
                weight,
            })
            .collect();
        Some(reasons)
    }

    fn words_of(&self, origin: Origin) -> std::ops::Range<usize> {
        let first = origin.first_word as usize;
        first..first + origin.words as usize
    }
}
