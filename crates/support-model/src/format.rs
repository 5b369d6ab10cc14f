//! The model file: compact, versioned, checksummed, little-endian.
//!
//! ```text
//! "SUPMODEL"                 magic, 8 bytes
//! version                    u32
//! hash_bits word_ngrams char_min char_max   u8 × 4
//! label count, then each label as (u32 byte length, UTF-8 bytes)
//! row count                  u32
//! buckets                    LEB128 varints, delta-coded (increasing)
//! idf, scales                f32 × rows each
//! weights                    i8 × rows × labels (row-major)
//! bias                       f32 × labels
//! (version 2, 3) dense dims u32, dense scale f32, dense weights f32 × dims × labels
//! (version 3 only) neighbours u32, temperature f32, weight f32, texts u32,
//!                  label u32 × texts, scale f32 × texts, vectors i8 × texts × dims
//! checksum                   u64 of every byte before it (see `checksum`)
//! ```
//!
//! A model is written in the lowest version that holds it: without dense
//! weights as version 1, without neighbours as version 2, byte for byte as
//! before the later parts existed, so its file never changes.

use crate::error::ModelError;
use crate::features::FeatureSettings;
use crate::model::{DenseBlock, Model};
use crate::neighbours::{Neighbours, VoteSettings};

const MAGIC: &[u8; 8] = b"SUPMODEL";
/// Bump when the layout or the meaning of any field (including feature
/// extraction or hashing) changes. Version 2 adds dense weights, 3 the
/// neighbours.
pub const FORMAT_VERSION: u32 = 3;
/// The version a model without dense weights is written in.
const SPARSE_ONLY_VERSION: u32 = 1;
/// The version a model with dense weights and no neighbours is written in.
const DENSE_VERSION: u32 = 2;

/// Checksum of the file body: four independent multiply-rotate lanes over
/// 8-byte words, so a multi-megabyte model verifies in a fraction of a
/// millisecond. Detects corruption, not tampering.
fn checksum(bytes: &[u8]) -> u64 {
    const PRIME: u64 = 0x9E37_79B9_7F4A_7C15;
    let mix = |lane: u64, word: u64| (lane ^ word).wrapping_mul(PRIME).rotate_left(29);
    let mut lanes = [1u64, 2, 3, 4];
    let blocks = bytes.chunks_exact(32);
    let tail = blocks.remainder();
    for block in blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            *lane = mix(*lane, u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
    }
    let mut hash = lanes
        .iter()
        .fold(bytes.len() as u64, |h, &lane| mix(h, lane));
    for &byte in tail {
        hash = mix(hash, u64::from(byte));
    }
    hash
}

impl Model {
    /// Serializes the model. The same model always gives the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.weights.len() + 8 * self.buckets.len());
        out.extend_from_slice(MAGIC);
        let version = match (&self.dense, &self.neighbours) {
            (_, Some(_)) => FORMAT_VERSION,
            (Some(_), None) => DENSE_VERSION,
            (None, None) => SPARSE_ONLY_VERSION,
        };
        out.extend_from_slice(&version.to_le_bytes());
        let s = &self.settings;
        out.extend_from_slice(&[s.hash_bits, s.word_ngrams, s.char_min, s.char_max]);
        out.extend_from_slice(&(self.labels.len() as u32).to_le_bytes());
        for label in &self.labels {
            out.extend_from_slice(&(label.len() as u32).to_le_bytes());
            out.extend_from_slice(label.as_bytes());
        }
        out.extend_from_slice(&(self.buckets.len() as u32).to_le_bytes());
        let mut previous = 0u32;
        for &bucket in &self.buckets {
            write_varint(&mut out, bucket - previous);
            previous = bucket;
        }
        for v in self.idf.iter().chain(&self.scales) {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend(self.weights.iter().map(|&w| w as u8));
        for v in &self.bias {
            out.extend_from_slice(&v.to_le_bytes());
        }
        if let Some(dense) = &self.dense {
            out.extend_from_slice(&(dense.dims as u32).to_le_bytes());
            for v in std::iter::once(&dense.scale).chain(&dense.weights) {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        if let Some(neighbours) = &self.neighbours {
            let vote = neighbours.settings;
            out.extend_from_slice(&vote.neighbours.to_le_bytes());
            for v in [vote.temperature, vote.weight] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&(neighbours.len() as u32).to_le_bytes());
            for label in &neighbours.labels {
                out.extend_from_slice(&label.to_le_bytes());
            }
            for v in &neighbours.scales {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend(neighbours.vectors.iter().map(|&q| q as u8));
        }
        let sum = checksum(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Reads a model written by [`Model::to_bytes`], checking magic, version,
    /// checksum and internal consistency.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(ModelError::NotAModel);
        }
        let mut reader = Reader {
            bytes,
            at: MAGIC.len(),
        };
        let version = reader.u32()?;
        if !(SPARSE_ONLY_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(ModelError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if bytes.len() < reader.at + 8 {
            return Err(ModelError::Truncated {
                offset: bytes.len(),
                needed: reader.at + 8 - bytes.len(),
            });
        }
        let (body, stored) = bytes.split_at(bytes.len() - 8);
        if checksum(body) != u64::from_le_bytes(stored.try_into().expect("8 bytes")) {
            return Err(ModelError::ChecksumMismatch);
        }
        let mut reader = Reader {
            bytes: body,
            at: reader.at,
        };
        let [hash_bits, word_ngrams, char_min, char_max] =
            reader.take(4)?.try_into().expect("4 bytes");
        let settings = FeatureSettings {
            hash_bits,
            word_ngrams,
            char_min,
            char_max,
        };
        settings.validate().map_err(ModelError::Invalid)?;
        let label_count = reader.count(4)?;
        let mut labels = Vec::with_capacity(label_count);
        for _ in 0..label_count {
            let len = reader.count(1)?;
            let label = std::str::from_utf8(reader.take(len)?)
                .map_err(|_| ModelError::Invalid("a label is not UTF-8".into()))?;
            labels.push(label.to_string());
        }
        let rows = reader.count(1)?;
        let mut buckets = Vec::with_capacity(rows);
        let mut bucket = 0u32;
        for _ in 0..rows {
            bucket = bucket
                .checked_add(reader.varint()?)
                .ok_or_else(|| ModelError::Invalid("bucket overflow".into()))?;
            buckets.push(bucket);
        }
        let idf = reader.f32s(rows)?;
        let scales = reader.f32s(rows)?;
        let weights = reader
            .take(rows * label_count)?
            .iter()
            .map(|&b| b as i8)
            .collect();
        let bias = reader.f32s(label_count)?;
        let dense = if version == SPARSE_ONLY_VERSION {
            None
        } else {
            let dims = reader.count(4 * label_count)?;
            let scale = reader.f32s(1)?[0];
            Some(DenseBlock {
                dims,
                scale,
                weights: reader.f32s(dims * label_count)?,
            })
        };
        let neighbours = match (version, &dense) {
            (FORMAT_VERSION, Some(dense)) => {
                let settings = VoteSettings {
                    neighbours: reader.u32()?,
                    temperature: reader.f32s(1)?[0],
                    weight: reader.f32s(1)?[0],
                };
                // Each text holds at least its label, scale and one byte per dimension.
                let texts = reader.count(8 + dense.dims)?;
                let labels = (0..texts).map(|_| reader.u32()).collect::<Result<_, _>>()?;
                let scales = reader.f32s(texts)?;
                let vectors = reader
                    .take(texts * dense.dims)?
                    .iter()
                    .map(|&b| b as i8)
                    .collect();
                Some(Neighbours::from_parts(
                    settings, dense.dims, labels, scales, vectors,
                ))
            }
            _ => None,
        };
        if reader.at != body.len() {
            return Err(ModelError::Invalid(format!(
                "{} unexpected trailing bytes",
                body.len() - reader.at
            )));
        }
        Model::from_parts(settings, labels, buckets, idf, scales, weights, bias)
            .and_then(|model| model.with_dense(dense))
            .and_then(|model| model.with_neighbours(neighbours))
            .map_err(ModelError::Invalid)
    }
}

fn write_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], ModelError> {
        let available = self.bytes.len() - self.at;
        if len > available {
            return Err(ModelError::Truncated {
                offset: self.at,
                needed: len - available,
            });
        }
        let slice = &self.bytes[self.at..self.at + len];
        self.at += len;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    /// A count of items of at least `item_bytes` each, checked against the
    /// bytes left so a corrupt count cannot trigger a huge allocation.
    fn count(&mut self, item_bytes: usize) -> Result<usize, ModelError> {
        let count = self.u32()? as usize;
        let needed = count.saturating_mul(item_bytes);
        let available = self.bytes.len() - self.at;
        if needed > available {
            return Err(ModelError::Truncated {
                offset: self.at,
                needed: needed - available,
            });
        }
        Ok(count)
    }

    fn varint(&mut self) -> Result<u32, ModelError> {
        let mut value = 0u32;
        for shift in (0..35).step_by(7) {
            let byte = self.take(1)?[0];
            value |= u32::from(byte & 0x7F)
                .checked_shl(shift)
                .filter(|_| shift < 28 || byte & 0x7F < 0x10)
                .ok_or_else(|| ModelError::Invalid("varint overflow".into()))?;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ModelError::Invalid("varint too long".into()))
    }

    fn f32s(&mut self, count: usize) -> Result<Vec<f32>, ModelError> {
        Ok(self
            .take(count * 4)?
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::tests::{bilingual_dense_model, bilingual_model, bilingual_neighbours_model};

    #[test]
    fn round_trips_bytes_and_predictions() {
        let model = bilingual_model();
        let bytes = model.to_bytes();
        let loaded = Model::from_bytes(&bytes).unwrap();
        assert_eq!(loaded, model);
        assert_eq!(loaded.to_bytes(), bytes);
        for text in ["quiero un reembolso", "where is my parcel", "contraseña"] {
            assert_eq!(loaded.predict(text), model.predict(text));
        }
    }

    /// Each model is written in the lowest version that holds it, so files
    /// of models without the later parts never change.
    #[test]
    fn the_neighbours_round_trip_in_version_3_and_other_models_keep_theirs() {
        let version = |bytes: &[u8]| u32::from_le_bytes(bytes[8..12].try_into().unwrap());
        for (model, expected) in [
            (bilingual_model(), 1),
            (bilingual_dense_model(), 2),
            (bilingual_neighbours_model(), 3),
        ] {
            let bytes = model.to_bytes();
            assert_eq!(version(&bytes), expected);
            let loaded = Model::from_bytes(&bytes).unwrap();
            assert_eq!(loaded, model);
            assert_eq!(loaded.to_bytes(), bytes);
            assert_eq!(loaded.neighbours().is_some(), expected == 3);
        }
    }

    #[test]
    fn rejects_corrupt_files_clearly() {
        let bytes = bilingual_model().to_bytes();
        assert_eq!(
            Model::from_bytes(b"PK\x03\x04 not a model"),
            Err(ModelError::NotAModel)
        );
        assert_eq!(Model::from_bytes(&[]), Err(ModelError::NotAModel));

        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 0x40;
        assert_eq!(
            Model::from_bytes(&flipped),
            Err(ModelError::ChecksumMismatch)
        );

        assert!(matches!(
            Model::from_bytes(&bytes[..bytes.len() - 3]),
            Err(ModelError::ChecksumMismatch)
        ));
        assert!(matches!(
            Model::from_bytes(&bytes[..10]),
            Err(ModelError::Truncated { .. })
        ));

        let mut future = bytes.clone();
        future[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let error = Model::from_bytes(&future).unwrap_err();
        assert_eq!(
            error,
            ModelError::UnsupportedVersion {
                found: FORMAT_VERSION + 1,
                supported: FORMAT_VERSION
            }
        );
        let expected = format!("version {} is not supported", FORMAT_VERSION + 1);
        assert!(error.to_string().contains(&expected), "{error}");
    }

    #[test]
    fn rejects_consistent_checksum_over_inconsistent_content() {
        // A file with a valid checksum but a label count larger than the data.
        let mut bytes = bilingual_model().to_bytes();
        bytes.truncate(bytes.len() - 8);
        bytes[16..20].copy_from_slice(&1_000_000u32.to_le_bytes());
        let sum = checksum(&bytes);
        bytes.extend_from_slice(&sum.to_le_bytes());
        assert!(matches!(
            Model::from_bytes(&bytes),
            Err(ModelError::Truncated { .. })
        ));
    }

    /// Every byte of a model file (with and without dense weights), changed
    /// to values that break lengths and counts, and every length it can be
    /// cut to, with a valid checksum over the result (what the checksum
    /// cannot catch): loading gives an error or a model that predicts,
    /// never a panic.
    #[test]
    fn any_byte_or_length_with_a_valid_checksum_loads_or_errs_without_panic() {
        for model in [
            bilingual_model(),
            bilingual_dense_model(),
            bilingual_neighbours_model(),
        ] {
            any_byte_or_length_loads_or_errs(&model.to_bytes());
        }
    }

    fn any_byte_or_length_loads_or_errs(bytes: &[u8]) {
        let body = &bytes[..bytes.len() - 8];
        let sealed = |mut body: Vec<u8>| {
            let sum = checksum(&body);
            body.extend_from_slice(&sum.to_le_bytes());
            body
        };
        let check = |file: &[u8]| {
            if let Ok(model) = Model::from_bytes(file) {
                for text in ["quiero un reembolso", "", "🙂 where is my parcel"] {
                    let tokens = support_text::tokenize(text);
                    let vector = vec![0.5; model.dense_dims()];
                    let analysis = model.analyze_with(&tokens, Some(&vector));
                    assert!(analysis.probabilities().iter().all(|p| p.is_finite()));
                    let prediction = model.predict(text);
                    assert!(prediction.ranked.iter().all(|r| r.probability.is_finite()));
                    let best = prediction.best().label.to_string();
                    let _ = model.explain(text, &best, 5);
                }
            }
        };
        // The header (settings, labels, counts) and the tail (dense weights)
        // byte by byte; the tables between every 97th byte.
        let edge = |i: usize| i < 200 || i + 200 > body.len() || i.is_multiple_of(97);
        let positions = (MAGIC.len()..body.len()).filter(|&i| edge(i));
        for at in positions {
            for value in [0u8, 1, 0x7F, 0x80, 0xFF] {
                let mut changed = body.to_vec();
                changed[at] = value;
                check(&sealed(changed));
            }
        }
        for length in (0..body.len()).filter(|&n| edge(n)) {
            check(&sealed(body[..length].to_vec()));
        }
    }
}
