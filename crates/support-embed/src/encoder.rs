//! The XLM-RoBERTa encoder of multilingual-e5-small, run with candle. The
//! word embeddings stay 4-bit in memory; the linear weights are widened to
//! 8-bit blocks (see [`Linear`]) and candle quantizes the activations to 8
//! bits, as the reference engine does; the rest is f32. Output: mean pooling
//! over the real tokens, L2-normalized.

use candle_core::quantized::{GgmlDType, QMatMul, QStorage, QTensor};
use candle_core::{DType as CDType, Device, Module, Tensor, D};
use candle_nn::ops::{layer_norm, softmax_last_dim};
use std::borrow::Cow;

use crate::e5s1::{DType, E5s1, RawTensor, Sizes, BLOCK_WEIGHTS, Q4_0_BLOCK_BYTES};
use crate::EmbedError;

/// A linear layer whose weights are 8-bit blocks (Q8_0), widened losslessly
/// from the file's 4-bit ones: candle multiplies Q8_0 with AVX512-VNNI tiles,
/// which need the input width to be a multiple of 256, so narrower inputs are
/// padded with zero columns (zero weights: the result does not change).
struct Linear {
    weight: QMatMul,
    bias: Tensor,
    inputs: usize,
    padded_inputs: usize,
}

/// candle's tiled int8 kernels take inputs in blocks of this many values.
const TILE_INPUTS: usize = 256;
/// A Q8_0 block: an f16 scale and 32 signed bytes.
const Q8_0_BLOCK_BYTES: usize = 2 + BLOCK_WEIGHTS;

impl Linear {
    /// The layers named by `prefixes`, stacked into one (several outputs from
    /// one pass over the input, as query, key and value are).
    fn load(
        file: &E5s1<'_>,
        prefixes: &[String],
        outputs: usize,
        inputs: usize,
    ) -> Result<Self, EmbedError> {
        let padded_inputs = inputs.div_ceil(TILE_INPUTS) * TILE_INPUTS;
        let mut blocks = Vec::new();
        let mut bias = Vec::new();
        for prefix in prefixes {
            let raw = file.tensor(&format!("{prefix}.w"), DType::Q4_0)?;
            check_shape(raw, outputs, inputs)?;
            let blocks_per_row = inputs / BLOCK_WEIGHTS;
            for row in raw.bytes.chunks_exact(blocks_per_row * Q4_0_BLOCK_BYTES) {
                for block in row.chunks_exact(Q4_0_BLOCK_BYTES) {
                    // The same f16 scale; Q4_0 byte j holds weight j in the
                    // low nibble and j + 16 in the high one, both offset by 8.
                    blocks.extend_from_slice(&block[..2]);
                    blocks.extend(block[2..].iter().map(|b| ((b & 0x0F) as i8 - 8) as u8));
                    blocks.extend(block[2..].iter().map(|b| ((b >> 4) as i8 - 8) as u8));
                }
                let padding_blocks = (padded_inputs - inputs) / BLOCK_WEIGHTS;
                blocks.extend(std::iter::repeat_n(0u8, padding_blocks * Q8_0_BLOCK_BYTES));
            }
            bias.extend(file.tensor(&format!("{prefix}.b"), DType::F32)?.to_f32());
        }
        let rows = outputs * prefixes.len();
        let storage = QStorage::from_data(Cow::Owned(blocks), &Device::Cpu, GgmlDType::Q8_0)?;
        Ok(Self {
            weight: QMatMul::from_qtensor(QTensor::new(storage, (rows, padded_inputs))?)?,
            bias: Tensor::from_vec(bias, rows, &Device::Cpu)?,
            inputs,
            padded_inputs,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let x = if self.padded_inputs > self.inputs {
            x.pad_with_zeros(D::Minus1, 0, self.padded_inputs - self.inputs)?
        } else {
            x.clone()
        };
        self.weight.forward(&x)?.broadcast_add(&self.bias)
    }
}

struct Norm {
    weight: Tensor,
    bias: Tensor,
}

struct Layer {
    /// Query, key and value in one matmul.
    query_key_value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    feed_in: Linear,
    feed_out: Linear,
    output_norm: Norm,
}

pub struct Encoder {
    sizes: Sizes,
    words: QTensor,
    positions: Tensor,
    token_type: Tensor,
    embedding_norm: Norm,
    layers: Vec<Layer>,
}

/// One batch: token ids padded to the longest, and the mask of real tokens.
pub struct Batch {
    pub ids: Vec<u32>,
    pub mask: Vec<f32>,
    pub texts: usize,
    pub len: usize,
}

impl Encoder {
    pub fn load(file: &E5s1<'_>) -> Result<Self, EmbedError> {
        let sizes = file.sizes;
        let h = sizes.hidden;
        let vector = |name: &str| -> Result<Tensor, EmbedError> {
            let raw = file.tensor(name, DType::F32)?;
            let n = raw.elements;
            Ok(Tensor::from_vec(raw.to_f32(), n, &Device::Cpu)?)
        };
        let norm = |prefix: &str| -> Result<Norm, EmbedError> {
            Ok(Norm {
                weight: vector(&format!("{prefix}.w"))?,
                bias: vector(&format!("{prefix}.b"))?,
            })
        };
        let linear = |prefix: String, outputs: usize, inputs: usize| {
            Linear::load(file, &[prefix], outputs, inputs)
        };
        let words = file.tensor("emb.word", DType::Q4_0)?;
        let positions = vector("emb.pos")?.reshape((sizes.max_positions, h))?;
        let layers = (0..sizes.layers)
            .map(|l| {
                Ok(Layer {
                    query_key_value: Linear::load(
                        file,
                        &["q", "k", "v"].map(|m| format!("l{l}.{m}")),
                        h,
                        h,
                    )?,
                    attention_out: linear(format!("l{l}.ao"), h, h)?,
                    attention_norm: norm(&format!("l{l}.aln"))?,
                    feed_in: linear(format!("l{l}.fi"), sizes.feed_forward, h)?,
                    feed_out: linear(format!("l{l}.fo"), h, sizes.feed_forward)?,
                    output_norm: norm(&format!("l{l}.oln"))?,
                })
            })
            .collect::<Result<_, EmbedError>>()?;
        Ok(Self {
            sizes,
            words: q4_0(words, words.elements / h, h)?,
            positions,
            // Every text is one segment: token type 0, the first row.
            token_type: vector("emb.type")?.narrow(0, 0, h)?,
            embedding_norm: norm("emb.ln")?,
            layers,
        })
    }

    pub fn max_tokens(&self) -> usize {
        self.sizes.max_positions
    }

    pub fn dim(&self) -> usize {
        self.sizes.hidden
    }

    /// Sentence embeddings of a batch, one row of `dim()` floats per text.
    pub fn forward(&self, batch: &Batch) -> candle_core::Result<Vec<Vec<f32>>> {
        let Sizes {
            hidden,
            heads,
            layer_norm_eps,
            ..
        } = self.sizes;
        let eps = layer_norm_eps as f32;
        let (b, l) = (batch.texts, batch.len);
        let head_dim = hidden / heads;
        let ids = Tensor::from_slice(&batch.ids, b * l, &Device::Cpu)?;
        let mask = Tensor::from_slice(&batch.mask, (b, l), &Device::Cpu)?;
        // Padding is kept out of attention by a large negative score.
        let attention_bias = ((mask.clone() - 1.0)? * 1e9)?.reshape((b, 1, 1, l))?;

        let x = self.words.embedding(&ids)?.reshape((b, l, hidden))?;
        let x = x
            .broadcast_add(&self.positions.narrow(0, 0, l)?)?
            .broadcast_add(&self.token_type)?;
        let mut x = layer_norm(
            &x,
            &self.embedding_norm.weight,
            &self.embedding_norm.bias,
            eps,
        )?;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let split_heads = |t: Tensor| -> candle_core::Result<Tensor> {
            t.reshape((b, l, heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        for layer in &self.layers {
            let qkv = layer.query_key_value.forward(&x)?;
            let q = split_heads(qkv.narrow(D::Minus1, 0, hidden)?)?;
            let k = split_heads(qkv.narrow(D::Minus1, hidden, hidden)?)?;
            let v = split_heads(qkv.narrow(D::Minus1, 2 * hidden, hidden)?)?;
            let scores = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&attention_bias)?;
            let context = softmax_last_dim(&scores)?
                .matmul(&v)?
                .transpose(1, 2)?
                .reshape((b, l, hidden))?;
            let attended = (layer.attention_out.forward(&context)? + &x)?;
            x = layer_norm(
                &attended,
                &layer.attention_norm.weight,
                &layer.attention_norm.bias,
                eps,
            )?;
            let inner = layer.feed_in.forward(&x)?.gelu_erf()?;
            let out = (layer.feed_out.forward(&inner)? + &x)?;
            x = layer_norm(
                &out,
                &layer.output_norm.weight,
                &layer.output_norm.bias,
                eps,
            )?;
        }
        let mask = mask.unsqueeze(2)?;
        let pooled = x
            .broadcast_mul(&mask)?
            .sum(1)?
            .broadcast_div(&mask.sum(1)?)?;
        let norms = pooled
            .sqr()?
            .sum_keepdim(D::Minus1)?
            .sqrt()?
            .clamp(1e-12, f64::MAX)?;
        pooled
            .broadcast_div(&norms)?
            .to_dtype(CDType::F32)?
            .to_vec2()
    }
}

fn check_shape(raw: RawTensor<'_>, rows: usize, columns: usize) -> Result<(), EmbedError> {
    if rows * columns != raw.elements || !columns.is_multiple_of(BLOCK_WEIGHTS) {
        return Err(EmbedError::Corrupt(format!(
            "a 4-bit tensor holds {} weights, expected {rows} x {columns}",
            raw.elements
        )));
    }
    Ok(())
}

fn q4_0(raw: RawTensor<'_>, rows: usize, columns: usize) -> Result<QTensor, EmbedError> {
    check_shape(raw, rows, columns)?;
    let storage = QStorage::from_data(Cow::Borrowed(raw.bytes), &Device::Cpu, GgmlDType::Q4_0)?;
    Ok(QTensor::new(storage, (rows, columns))?)
}
