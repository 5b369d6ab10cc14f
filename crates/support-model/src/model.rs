//! A trained classifier: feature settings, labels, per-feature idf and
//! int8-quantized weights, and prediction with explanations.

use std::borrow::Cow;
use std::collections::hash_map::Entry;

use serde::Serialize;
use support_text::{joined_words, spaced_words, tokenize, HashedMap, Token};

use crate::features::{
    extract, occurrences_at_most, FeatureKind, FeatureSettings, Features, Origin,
};
use crate::neighbours::Neighbours;
use crate::rows::RowIndex;

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
    /// Row of each bucket that has one; derived from `buckets`.
    pub(crate) rows: RowIndex,
    /// First row of a character n-gram; derived from `buckets`.
    pub(crate) first_char_row: u32,
    pub(crate) idf: Vec<f32>,
    pub(crate) scales: Vec<f32>,
    /// `rows × classes`, row-major.
    pub(crate) weights: Vec<i8>,
    pub(crate) bias: Vec<f32>,
    /// Weights of a vector given beside the text (a sentence embedding),
    /// when the model was trained with one.
    pub(crate) dense: Option<DenseBlock>,
    /// The training texts' embeddings, when they vote beside the weights.
    pub(crate) neighbours: Option<Neighbours>,
}

/// The weights of dense features: a vector of `dims` numbers per text
/// (a sentence embedding), each multiplied by `scale` before its weights.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DenseBlock {
    pub dims: usize,
    pub scale: f32,
    /// `dims × classes`, row-major, f32: a few hundred rows need no quantizing.
    pub weights: Vec<f32>,
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
pub struct Reason<'t> {
    /// Folded text of the word or phrase, e.g. `reembolso` or `not received`:
    /// a word is the token's own text, a phrase is built.
    pub feature: Cow<'t, str>,
    pub kind: FeatureKind,
    pub weight: f32,
}

impl Reason<'_> {
    /// Whether a person learns something from it: short single words
    /// ("the", "la", "no") carry weight in a model but explain nothing.
    pub fn tells_a_person(&self) -> bool {
        self.kind != FeatureKind::Word || self.feature.chars().count() >= 4
    }

    /// The reason with its own copy of the feature's text.
    pub fn into_owned(self) -> Reason<'static> {
        Reason {
            feature: Cow::Owned(self.feature.into_owned()),
            kind: self.kind,
            weight: self.weight,
        }
    }
}

/// The features of one text: model rows with their TF-IDF values.
pub(crate) struct Vectorized {
    pub rows: Vec<u32>,
    pub values: Vec<f32>,
}

/// Occurrences `start..` (up to the next run's start) of a text's feature
/// rows come from `origin`: a word's own occurrences (the word, then its
/// character n-grams) share one, so origins are kept per run, not per
/// occurrence.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    origin: Origin,
    start: u32,
}

/// The rows of the feature occurrences [`extract`] finds, for those that have
/// one, and the runs of their origins.
struct RowsFound<'m> {
    index: &'m RowIndex,
    /// Allocated for every occurrence; the first `kept` places are written.
    rows: Vec<u32>,
    kept: usize,
    runs: Vec<Run>,
}

impl Features for RowsFound<'_> {
    #[inline(always)]
    fn origin(&mut self, origin: Origin) {
        self.runs.push(Run {
            origin,
            start: self.kept as u32,
        });
    }

    /// Whether a bucket has a row is a coin toss to the branch predictor:
    /// every occurrence is written after the last kept one, and only those
    /// with a row move the end on.
    #[inline(always)]
    fn bucket(&mut self, bucket: u32) {
        let (row, has_row) = self.index.row_if_any(bucket);
        self.rows.spare_capacity_mut()[self.kept].write(row);
        self.kept += usize::from(has_row);
    }
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
    // Written place by place, not zeroed first: a text has hundreds.
    let mut slot_of: Vec<u32> = Vec::with_capacity(ids.len());
    let places = slot_of.spare_capacity_mut();
    for (id, position) in positions {
        match counts.last_mut() {
            Some((last, n)) if *last == id => *n += 1,
            _ => counts.push((id, 1)),
        }
        places[position as usize].write(counts.len() as u32 - 1);
    }
    // SAFETY: the positions are those of `ids`, 0..len each once, so every
    // place up to `ids.len()` was written.
    unsafe { slot_of.set_len(ids.len()) };
    (counts, slot_of)
}

/// Stable sort of (id, payload) pairs by id, at most a byte of the id per
/// pass: a text has a few hundred feature occurrences, which a comparison
/// sort orders at several times the cost. The passes share the id's bits
/// equally (two of 7 bits for a model of under 16,384 rows), as clearing and
/// summing 256 buckets per pass costs about as much as the occurrences do.
fn radix_sort_by_id(pairs: &mut Vec<(u32, u32)>) {
    let max = pairs.iter().map(|&(id, _)| id).max().unwrap_or(0);
    let bits = u32::BITS - max.leading_zeros();
    let passes = bits.div_ceil(8);
    if passes == 0 {
        return;
    }
    let width = bits.div_ceil(passes);
    let mask = (1u32 << width) - 1;
    // Written place by place in each pass, not zeroed first.
    let mut sorted: Vec<(u32, u32)> = Vec::with_capacity(pairs.len());
    for pass in 0..passes {
        let shift = pass * width;
        let digit = |id: u32| ((id >> shift) & mask) as usize;
        let mut next = [0u32; 256];
        for &(id, _) in pairs.iter() {
            next[digit(id)] += 1;
        }
        let mut start = 0;
        for slot in &mut next[..=mask as usize] {
            (*slot, start) = (start, start + *slot);
        }
        let places = sorted.spare_capacity_mut();
        for &pair in pairs.iter() {
            let d = digit(pair.0);
            places[next[d] as usize].write(pair);
            next[d] += 1;
        }
        // SAFETY: a digit's places start after the smaller digits' counts
        // and take one more per pair, so the pairs fill 0..len, each once.
        unsafe { sorted.set_len(pairs.len()) };
        std::mem::swap(pairs, &mut sorted);
        sorted.clear();
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

/// Largest magnitude of an idf, scale, bias or dense weight a model may hold.
const MAX_MAGNITUDE: f32 = 1e4;

/// Finite and within [`MAX_MAGNITUDE`].
fn bounded(v: &f32) -> bool {
    v.is_finite() && v.abs() <= MAX_MAGNITUDE
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
        // Trained values are far inside these bounds (idf is under 25 for a
        // billion texts); beyond them a damaged file would overflow the
        // scores to infinity and the probabilities to NaN.
        if !(idf.iter().all(|v| bounded(v) && *v >= 0.0)
            && scales.iter().all(bounded)
            && bias.iter().all(bounded))
        {
            return Err(format!(
                "a number in the model is negative where it cannot be, not finite, or beyond ±{MAX_MAGNITUDE}"
            ));
        }
        let rows = RowIndex::new(&buckets, settings.bucket_count())
            .ok_or("feature buckets out of order or out of range")?;
        // Word buckets are the lower half, so word rows come first.
        let first_char_row = buckets.partition_point(|&b| b < settings.char_block_start()) as u32;
        Ok(Model {
            settings,
            labels,
            buckets,
            rows,
            first_char_row,
            idf,
            scales,
            weights,
            bias,
            dense: None,
            neighbours: None,
        })
    }

    /// The model with `dense` weights (see [`Model::analyze_with`]), checked
    /// against its labels.
    pub(crate) fn with_dense(self, dense: Option<DenseBlock>) -> Result<Model, String> {
        if let Some(block) = &dense {
            if block.dims == 0 || block.weights.len() != block.dims * self.labels.len() {
                return Err("the dense weights do not match their dimensions and labels".into());
            }
            if !(bounded(&block.scale) && block.scale > 0.0 && block.weights.iter().all(bounded)) {
                return Err(format!(
                    "a dense weight or scale is not finite, not positive, or beyond ±{MAX_MAGNITUDE}"
                ));
            }
        }
        Ok(Model { dense, ..self })
    }

    /// The model with the training texts' embeddings that vote beside its
    /// weights (only for a model with dense weights, of their length).
    pub(crate) fn with_neighbours(self, neighbours: Option<Neighbours>) -> Result<Model, String> {
        if let Some(neighbours) = &neighbours {
            if self.dense.is_none() {
                return Err("neighbours need a model trained with embeddings".into());
            }
            neighbours.validate(self.labels.len(), self.dense_dims())?;
        }
        Ok(Model { neighbours, ..self })
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

    /// Length of the vector the model reads beside the text (a sentence
    /// embedding, see [`Model::analyze_with`]), or 0 if it reads none.
    pub fn dense_dims(&self) -> usize {
        self.dense.as_ref().map_or(0, |d| d.dims)
    }

    /// The training texts' embeddings that vote for their labels, when the
    /// model keeps them (see [`Neighbours`]): a caller holding the text's
    /// embedding blends their vote into [`Analysis::probabilities`].
    pub fn neighbours(&self) -> Option<&Neighbours> {
        self.neighbours.as_ref()
    }

    /// [`Model::analyze`] with the text's vector for a model trained with
    /// one ([`Model::dense_dims`] numbers; a vector of another length, or
    /// none, leaves that part of the score out).
    pub fn analyze_with<'t>(
        &self,
        tokens: &'t [Token],
        dense: Option<&'t [f32]>,
    ) -> Analysis<'_, 't> {
        Analysis {
            dense: dense.filter(|v| v.len() == self.dense_dims()),
            ..self.analyze(tokens)
        }
    }

    /// The features of `tokens` (from [`support_text::tokenize`]), for a
    /// prediction and explanations that share one extraction.
    pub fn analyze<'t>(&self, tokens: &'t [Token]) -> Analysis<'_, 't> {
        let (rows, runs) = self.feature_rows(tokens);
        let (counts, slot_of) = count_sorted(&rows);
        let features = weigh(&counts, &self.idf, self.first_char_row);
        Analysis {
            model: self,
            tokens,
            runs,
            slot_of,
            counts,
            features,
            dense: None,
        }
    }

    /// The row of every feature occurrence of `tokens` that has one, with
    /// the runs of where they came from. A row is found by counting the bits
    /// of a word (`RowIndex::row_if_any`), a single instruction where the
    /// processor has POPCNT and a dozen where it must be done by hand, as in
    /// a portable x86-64 build: the extraction is compiled both ways and
    /// chosen at run time.
    fn feature_rows(&self, tokens: &[Token]) -> (Vec<u32>, Vec<Run>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the processor has POPCNT, the one feature the function adds.
            return unsafe { self.feature_rows_popcnt(tokens) };
        }
        self.feature_rows_portable(tokens)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    unsafe fn feature_rows_popcnt(&self, tokens: &[Token]) -> (Vec<u32>, Vec<Run>) {
        self.feature_rows_portable(tokens)
    }

    /// Inlined into each caller, so it takes the caller's features.
    #[inline(always)]
    fn feature_rows_portable(&self, tokens: &[Token]) -> (Vec<u32>, Vec<Run>) {
        let mut found = RowsFound {
            index: &self.rows,
            rows: Vec::with_capacity(occurrences_at_most(tokens, &self.settings)),
            kept: 0,
            // An origin for each word, each phrase it starts (at most
            // `word_ngrams - 1`) and its n-grams.
            runs: Vec::with_capacity(tokens.len() * (1 + usize::from(self.settings.word_ngrams))),
        };
        extract(tokens, &self.settings, &mut found);
        let RowsFound {
            mut rows,
            kept,
            runs,
            ..
        } = found;
        // SAFETY: `rows` has room for every occurrence (`occurrences_at_most`;
        // an index past it would have panicked), so for `kept` of them, and
        // each of the first `kept` places was written before `kept` moved past it.
        unsafe { rows.set_len(kept) };
        (rows, runs)
    }

    /// Ranks every label of the model by probability (ties keep label order).
    /// Only the model's labels can come out; a text with no known feature
    /// gets the prior learned in the bias.
    pub fn predict(&self, text: &str) -> Prediction<'_> {
        self.analyze(&tokenize(text)).predict()
    }

    /// The words and phrases of `text` that pushed most towards `label`; see
    /// [`Analysis::explain`].
    pub fn explain(&self, text: &str, label: &str, limit: usize) -> Option<Vec<Reason<'static>>> {
        let tokens = tokenize(text);
        let reasons = self.analyze(&tokens).explain(label, limit)?;
        Some(reasons.into_iter().map(Reason::into_owned).collect())
    }
}

/// The features of one text: a prediction and the explanation of any label
/// read the same numbers without extracting them again.
pub struct Analysis<'m, 't> {
    model: &'m Model,
    tokens: &'t [Token],
    /// Where the feature occurrences came from.
    runs: Vec<Run>,
    /// Index into `counts` of each feature occurrence.
    slot_of: Vec<u32>,
    /// Distinct model rows with their occurrences, by row.
    counts: Vec<(u32, u32)>,
    features: Vectorized,
    /// The text's vector, for a model with dense weights.
    dense: Option<&'t [f32]>,
}

impl<'m, 't> Analysis<'m, 't> {
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
        if let (Some(block), Some(vector)) = (&model.dense, self.dense) {
            for (&value, weights) in vector.iter().zip(block.weights.chunks_exact(classes)) {
                let factor = value * block.scale;
                for (score, &w) in scores.iter_mut().zip(weights) {
                    *score += factor * w;
                }
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
    pub fn explain(&self, label: &str, limit: usize) -> Option<Vec<Reason<'t>>> {
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
        // The same words at several places are one feature, known by the
        // first place they occur: features are told apart without building
        // their text, which is built only for the reasons kept.
        let words = WordIdentities::new(self.tokens);
        let ngrams = usize::from(model.settings.word_ngrams);
        let mut feature_at: Vec<Option<usize>> = vec![None; self.tokens.len() * ngrams];
        // Distinct features in order of first occurrence, each weight summed
        // in order of occurrence.
        let mut features: Vec<(Origin, f32)> = Vec::with_capacity(self.runs.len());
        for (origin, slots) in self.runs() {
            if slots.is_empty() {
                continue;
            }
            let place = words.first_place(self.words_of(origin));
            // A run of one word is a word feature, a longer run a phrase.
            let feature = *feature_at[place * ngrams + origin.words as usize - 1]
                .get_or_insert_with(|| {
                    features.push((origin, 0.0));
                    features.len() - 1
                });
            let weight = &mut features[feature].1;
            for &slot in slots {
                *weight += occurrence_weight[slot as usize];
            }
        }
        features.retain(|&(_, weight)| weight > 0.0);
        // Ties go in the order of the features' text.
        let strongest_first = |a: &(Origin, f32), b: &(Origin, f32)| {
            b.1.total_cmp(&a.1)
                .then_with(|| self.text_bytes(a.0).cmp(self.text_bytes(b.0)))
        };
        // Distinct features have distinct texts, so the order is total: the
        // `limit` strongest are picked, then only they are sorted.
        if limit == 0 {
            features.clear();
        } else if features.len() > limit {
            features.select_nth_unstable_by(limit - 1, strongest_first);
            features.truncate(limit);
        }
        features.sort_by(strongest_first);
        let reasons = features
            .into_iter()
            .map(|(origin, weight)| Reason {
                feature: self.text_of(origin),
                kind: origin.kind,
                weight,
            })
            .collect();
        Some(reasons)
    }

    /// The bytes of a feature's text, its words joined by spaces: compared
    /// as they come, so ordering features builds no text.
    fn text_bytes(&self, origin: Origin) -> impl Iterator<Item = u8> + '_ {
        spaced_words(&self.tokens[self.words_of(origin)]).flat_map(str::bytes)
    }

    /// A feature's text: a word's is borrowed from its token, a phrase's
    /// is built in one allocation.
    fn text_of(&self, origin: Origin) -> Cow<'t, str> {
        let words = &self.tokens[self.words_of(origin)];
        if let [word] = words {
            return Cow::Borrowed(word.norm.as_str());
        }
        Cow::Owned(joined_words(words))
    }

    /// Each run's origin with the slots (in `counts`) of its occurrences.
    fn runs(&self) -> impl Iterator<Item = (Origin, &[u32])> {
        let ends = self.runs.iter().skip(1).map(|run| run.start);
        self.runs
            .iter()
            .zip(ends.chain([self.slot_of.len() as u32]))
            .map(|(run, end)| (run.origin, &self.slot_of[run.start as usize..end as usize]))
    }

    fn words_of(&self, origin: Origin) -> std::ops::Range<usize> {
        let first = origin.first_word as usize;
        first..first + origin.words as usize
    }
}

/// Which places of a token list hold the same word.
struct WordIdentities {
    /// The first place holding the same word as each place.
    first: Vec<u32>,
    /// The previous place holding the same word, if any.
    previous: Vec<Option<u32>>,
}

impl WordIdentities {
    fn new(tokens: &[Token]) -> Self {
        Self::by_hash(tokens, Token::word_hash)
    }

    /// `hash` gives equal words equal numbers, and seldom others.
    fn by_hash(tokens: &[Token], hash: impl Fn(&Token) -> u64) -> Self {
        // One pass in order, each word's last place found by its hash (a
        // token carries it); sorting the places by hash cost more.
        let mut last_place: HashedMap<u32> =
            HashedMap::with_capacity_and_hasher(tokens.len(), Default::default());
        // The last places of words whose hash an earlier, different word holds.
        let mut sharing_a_hash: Vec<u32> = Vec::new();
        let mut first: Vec<u32> = (0..tokens.len() as u32).collect();
        let mut previous = vec![None; tokens.len()];
        let same_word = |a: u32, b: usize| tokens[a as usize].norm == tokens[b].norm;
        for (place, token) in tokens.iter().enumerate() {
            let before = match last_place.entry(hash(token)) {
                Entry::Vacant(entry) => {
                    entry.insert(place as u32);
                    None
                }
                Entry::Occupied(mut entry) if same_word(*entry.get(), place) => {
                    Some(entry.insert(place as u32))
                }
                Entry::Occupied(_) => {
                    match sharing_a_hash
                        .iter_mut()
                        .find(|last| same_word(**last, place))
                    {
                        Some(last) => Some(std::mem::replace(last, place as u32)),
                        None => {
                            sharing_a_hash.push(place as u32);
                            None
                        }
                    }
                }
            };
            if let Some(before) = before {
                first[place] = first[before as usize];
                previous[place] = Some(before);
            }
        }
        WordIdentities { first, previous }
    }

    /// The first place where the words at `run` occur in the same order.
    fn first_place(&self, run: std::ops::Range<usize>) -> usize {
        if run.len() == 1 {
            return self.first[run.start] as usize;
        }
        let ids = &self.first[run.clone()];
        let mut earliest = run.start;
        let mut place = self.previous[run.start];
        while let Some(at) = place.map(|p| p as usize) {
            if self.first[at..at + run.len()] == *ids {
                earliest = at;
            }
            place = self.previous[at];
        }
        earliest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::tests::WithOrigins;
    use crate::train::tests::bilingual_model;

    #[test]
    fn count_sorted_counts_ids_in_order_and_places_each_input() {
        let ids = [70_000, 5, 300, 5, 70_000, 0, 5];
        let (counts, slot_of) = count_sorted(&ids);
        assert_eq!(counts, [(0, 1), (5, 3), (300, 1), (70_000, 2)]);
        for (&id, &slot) in ids.iter().zip(&slot_of) {
            assert_eq!(counts[slot as usize].0, id);
        }
        assert!(count_sorted(&[]).0.is_empty());
    }

    /// The passes order ids of any width as a stable sort does: ids up to
    /// one bit, a byte, just over a byte, a model's rows, and all 32 bits.
    #[test]
    fn radix_sort_orders_as_a_stable_sort() {
        for max in [0, 1, 255, 256, 13_904, 65_535, 70_000, u32::MAX] {
            for len in [0, 1, 7, 300] {
                // Ids scattered over 0..=max by a multiplicative hash of the place.
                let mut pairs: Vec<(u32, u32)> = (0..len)
                    .map(|i: u32| {
                        (
                            i.wrapping_mul(2_654_435_761) % max.saturating_add(1).max(1),
                            i,
                        )
                    })
                    .collect();
                if let Some(first) = pairs.first_mut() {
                    first.0 = max;
                }
                let mut expected = pairs.clone();
                expected.sort_by_key(|&(id, _)| id);
                radix_sort_by_id(&mut pairs);
                assert_eq!(pairs, expected, "max {max}, {len} pairs");
            }
        }
    }

    /// Texts for the extraction: both languages, accents and emoji, none,
    /// short words, and words the model has never seen.
    const TEXTS: [&str; 5] = [
        "my card was charged twice, I want a refund",
        "¿Dónde está mi reembolso? La tarjeta fue rechazada 😡",
        "",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
        "zzzqx refund qqq",
    ];

    /// Both builds of the extraction find the same rows: the one chosen at
    /// run time (POPCNT on this machine, if it has it) and the portable one.
    #[test]
    fn feature_rows_are_the_same_with_and_without_popcnt() {
        let model = bilingual_model();
        for text in TEXTS {
            let tokens = tokenize(text);
            let chosen = model.feature_rows(&tokens);
            let portable = model.feature_rows_portable(&tokens);
            assert_eq!(chosen.0, portable.0, "{text}");
            assert_eq!(chosen.1, portable.1, "{text}");
            assert_eq!(chosen.0.is_empty(), tokens.is_empty(), "{text}");
        }
    }

    /// Each occurrence with a row keeps the origin `extract` gave before it.
    #[test]
    fn runs_give_each_occurrence_its_row_and_origin() {
        let model = bilingual_model();
        for text in TEXTS {
            let tokens = tokenize(text);
            let mut with_origins = WithOrigins::default();
            extract(&tokens, &model.settings, &mut with_origins);
            let expected: Vec<(u32, Origin)> = (with_origins.found.into_iter())
                .filter_map(|(bucket, origin)| Some((model.rows.row(bucket)?, origin)))
                .collect();
            let analysis = model.analyze(&tokens);
            let found: Vec<(u32, Origin)> = (analysis.runs())
                .flat_map(|(origin, slots)| slots.iter().map(move |&slot| (slot, origin)))
                .map(|(slot, origin)| (analysis.counts[slot as usize].0, origin))
                .collect();
            assert_eq!(found, expected, "{text}");
        }
    }

    /// Words that share a hash are still told apart by their text.
    #[test]
    fn word_identities_do_not_depend_on_the_hash() {
        let tokens = tokenize("no puedo entrar, no puedo entrar a mi cuenta: mi cuenta, a b a");
        let by_word_hash = WordIdentities::new(&tokens);
        let all_alike = WordIdentities::by_hash(&tokens, |_| 7);
        assert_eq!(all_alike.first, by_word_hash.first);
        assert_eq!(all_alike.previous, by_word_hash.previous);
        assert_eq!(
            by_word_hash.first[3], 0,
            "the second 'no' is the first's word"
        );
    }

    /// The explanation as first written: each occurrence's feature text,
    /// looked up among the reasons so far.
    fn explain_by_text(
        model: &Model,
        text: &str,
        label: &str,
        limit: usize,
    ) -> Vec<Reason<'static>> {
        let tokens = tokenize(text);
        let analysis = model.analyze(&tokens);
        let class = model.labels.iter().position(|l| l == label).unwrap();
        let mut reasons: Vec<Reason> = Vec::new();
        let occurrences = analysis
            .runs()
            .flat_map(|(origin, slots)| slots.iter().map(move |&slot| (origin, slot)));
        for (origin, slot) in occurrences {
            let (row, occurrences) = analysis.counts[slot as usize];
            let row = row as usize;
            let weight = analysis.features.values[slot as usize]
                * model.scales[row]
                * f32::from(model.weights[row * model.classes() + class])
                / occurrences as f32;
            let feature = tokens[analysis.words_of(origin)]
                .iter()
                .map(|t| t.norm.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            match reasons
                .iter_mut()
                .find(|r| r.kind == origin.kind && r.feature == feature)
            {
                Some(reason) => reason.weight += weight,
                None => reasons.push(Reason {
                    feature: Cow::Owned(feature),
                    kind: origin.kind,
                    weight,
                }),
            }
        }
        reasons.retain(|r| r.weight > 0.0);
        reasons.sort_by(|a, b| {
            b.weight
                .total_cmp(&a.weight)
                .then_with(|| a.feature.cmp(&b.feature))
        });
        reasons.truncate(limit);
        reasons
    }

    #[test]
    fn explanations_merge_repeated_words_and_phrases_as_by_their_text() {
        let model = bilingual_model();
        for text in [
            "refund refund my refund, my refund please my money back",
            "no puedo entrar, no puedo entrar a mi cuenta: mi cuenta, mi contraseña",
            "where is my package where is my package? where",
            "a",
        ] {
            for label in model.labels() {
                assert_eq!(
                    model.explain(text, label, 100).unwrap(),
                    explain_by_text(&model, text, label, 100),
                    "{text} / {label}"
                );
            }
        }
    }
}
