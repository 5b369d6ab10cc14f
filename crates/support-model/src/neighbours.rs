//! The training texts' embeddings a model may keep, so that the texts
//! nearest a new one vote for their labels beside the linear scores: a
//! nearest-neighbours vote catches the local structure (two intents a few
//! words apart) a linear model of the same embedding smooths over.
//!
//! Each vector is stored as int8 with one scale (its largest magnitude over
//! 127): a quarter of the bytes of f32, with cosines within 0.01 of the
//! exact ones (`stored_vectors_give_the_exact_cosines_within_a_hundredth`).
//! They are unpacked to f32 once, when the model is loaded, so every
//! ticket's cosines are the plain f32 ones the embeddings share.

use serde::{Deserialize, Serialize};

/// How the nearest training texts vote.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VoteSettings {
    /// How many of the nearest texts vote.
    pub neighbours: u32,
    /// How fast a vote fades with distance from the nearest text: each
    /// weighs `exp((cosine - nearest) / temperature)`.
    pub temperature: f32,
    /// Share of the probabilities from the vote; the rest from the linear model.
    pub weight: f32,
}

impl VoteSettings {
    pub(crate) fn validate(&self) -> Result<(), String> {
        let valid = self.neighbours >= 1
            && self.temperature.is_finite()
            && self.temperature > 0.0
            && (0.0..=1.0).contains(&self.weight);
        if valid {
            Ok(())
        } else {
            Err(format!(
                "the neighbours' vote needs at least 1 neighbour, a positive temperature and a weight between 0 and 1; got {}, {} and {}",
                self.neighbours, self.temperature, self.weight
            ))
        }
    }
}

/// The training texts' embeddings, quantized, with their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    pub(crate) settings: VoteSettings,
    pub(crate) dims: usize,
    /// Label index of each text.
    pub(crate) labels: Vec<u32>,
    /// One per text: the vector is `scale × int8`.
    pub(crate) scales: Vec<f32>,
    /// `texts × dims`, row-major.
    pub(crate) vectors: Vec<i8>,
    /// `vectors` times their scales, once, for the cosines of every ticket.
    pub(crate) unpacked: Vec<f32>,
}

impl Neighbours {
    /// Quantizes `vectors` (one per text, all `dims` long), labelled `labels`.
    pub(crate) fn new(settings: VoteSettings, vectors: &[Vec<f32>], labels: Vec<u32>) -> Self {
        let dims = vectors.first().map_or(0, Vec::len);
        let mut scales = Vec::with_capacity(vectors.len());
        let mut quantized = Vec::with_capacity(vectors.len() * dims);
        for vector in vectors {
            let largest = vector.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
            scales.push(scale);
            quantized.extend(vector.iter().map(|v| (v / scale).round() as i8));
        }
        Neighbours::from_parts(settings, dims, labels, scales, quantized)
    }

    /// The neighbours as stored (checked against a model by [`Neighbours::validate`]).
    pub(crate) fn from_parts(
        settings: VoteSettings,
        dims: usize,
        labels: Vec<u32>,
        scales: Vec<f32>,
        vectors: Vec<i8>,
    ) -> Self {
        Neighbours {
            unpacked: unpack(&vectors, &scales, dims),
            settings,
            dims,
            labels,
            scales,
            vectors,
        }
    }

    /// Checks the parts fit together and a model of `classes` labels and
    /// `dims`-long embeddings.
    pub(crate) fn validate(&self, classes: usize, dims: usize) -> Result<(), String> {
        self.settings.validate()?;
        let texts = self.labels.len();
        if self.dims != dims
            || texts == 0
            || self.scales.len() != texts
            || self.vectors.len() != texts * dims
        {
            return Err("the neighbours' vectors do not match the model's embeddings".into());
        }
        if self.labels.iter().any(|&l| l as usize >= classes) {
            return Err("a neighbour's label is not one of the model's labels".into());
        }
        if !self.scales.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err("a neighbour's scale is not finite and positive".into());
        }
        Ok(())
    }

    pub fn settings(&self) -> VoteSettings {
        self.settings
    }

    /// How many training texts are kept.
    pub(crate) fn len(&self) -> usize {
        self.labels.len()
    }

    /// The label index (as in [`crate::Model::labels`]) of kept text `text`.
    pub fn label_of(&self, text: usize) -> usize {
        self.labels[text] as usize
    }

    /// Each kept text's vector (as stored: within about 1% of the
    /// embedding, L2-normalized), in their order.
    pub fn vectors(&self) -> impl Iterator<Item = &[f32]> + '_ {
        self.unpacked.chunks_exact(self.dims.max(1))
    }
}

/// `scale × q` for each text's scale and int8 numbers.
fn unpack(vectors: &[i8], scales: &[f32], dims: usize) -> Vec<f32> {
    vectors
        .chunks_exact(dims.max(1))
        .zip(scales)
        .flat_map(|(vector, &scale)| vector.iter().map(move |&q| f32::from(q) * scale))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VOTE: VoteSettings = VoteSettings {
        neighbours: 5,
        temperature: 0.05,
        weight: 0.3,
    };

    fn unit(v: Vec<f32>) -> Vec<f32> {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / norm).collect()
    }

    /// Vectors of 384 numbers, as the embeddings are, from a fixed sequence.
    fn vectors(count: usize) -> Vec<Vec<f32>> {
        let mut state = 7u32;
        (0..count)
            .map(|_| {
                unit(
                    (0..384)
                        .map(|_| {
                            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                            (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
                        })
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn stored_vectors_give_the_exact_cosines_within_a_hundredth() {
        let texts = vectors(40);
        let neighbours = Neighbours::new(VOTE, &texts, (0..40).map(|i| i % 4).collect());
        neighbours.validate(4, 384).unwrap();
        for query in &texts[..5] {
            let exact: Vec<f32> = texts
                .iter()
                .map(|t| t.iter().zip(query).map(|(a, b)| a * b).sum())
                .collect();
            for (vector, want) in neighbours.vectors().zip(exact) {
                let got: f32 = vector.iter().zip(query).map(|(a, b)| a * b).sum();
                assert!((got - want).abs() < 0.01, "{got} against {want}");
            }
        }
        assert_eq!(neighbours.label_of(6), 2);
    }

    #[test]
    fn parts_that_do_not_fit_the_model_are_refused() {
        let texts = vectors(3);
        let vote = VOTE;
        let neighbours = Neighbours::new(vote, &texts, vec![0, 1, 2]);
        assert!(neighbours.validate(3, 384).is_ok());
        assert!(neighbours.validate(2, 384).is_err(), "label 2 of 2 labels");
        assert!(neighbours.validate(3, 128).is_err(), "other dimensions");
        for bad in [
            VoteSettings {
                neighbours: 0,
                ..vote
            },
            VoteSettings {
                temperature: 0.0,
                ..vote
            },
            VoteSettings {
                weight: 1.5,
                ..vote
            },
            VoteSettings {
                temperature: f32::NAN,
                ..vote
            },
        ] {
            assert!(Neighbours {
                settings: bad,
                ..neighbours.clone()
            }
            .validate(3, 384)
            .is_err());
        }
    }
}
