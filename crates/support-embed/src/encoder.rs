//! The XLM-RoBERTa encoder of multilingual-e5-small, run with candle. The
//! word embeddings stay 4-bit, read from the mapped weights file; the linear layers run as 8-bit
//! integer products (see [`crate::int8`]), with activations quantized to 8
//! bits as the reference engine does; the rest is f32. Output: mean pooling
//! over the real tokens, L2-normalized.

use candle_core::{
    CpuStorage, CustomOp1, CustomOp2, DType as CDType, Device, Layout, Shape, Tensor, D,
};
use memmap2::Mmap;
use std::ops::Range;
use std::sync::Arc;

use crate::activation::{gelu_in_place, layer_norm_rows_in_place};
use crate::attention::Attention;
use crate::e5s1::{extend_q4_0, DType, E5s1, RawTensor, Sizes, BLOCK_WEIGHTS, Q4_0_BLOCK_BYTES};
use crate::int8::Int8Matrix;
use crate::EmbedError;

/// A linear layer as a candle operation on the last dimension, optionally
/// followed by GELU (the feed-forward's first layer), on the output while it
/// is in cache.
struct Linear {
    weight: Int8Matrix,
    bias: Vec<f32>,
    gelu: bool,
}

impl Linear {
    /// The layers named by `prefixes`, stacked into one (several outputs from
    /// one pass over the input, as query, key and value are), each with its
    /// weights and bias multiplied by the factor beside it.
    fn load(
        file: &E5s1<'_>,
        prefixes: &[(String, f32)],
        outputs: usize,
        inputs: usize,
    ) -> Result<Self, EmbedError> {
        // Not reserved from the sizes: a damaged header can claim any size,
        // and each tensor is checked against its bytes before it is read.
        let (mut weights, mut bias) = (Vec::new(), Vec::new());
        for (prefix, factor) in prefixes {
            let raw = file.tensor(&format!("{prefix}.w"), DType::Q4_0)?;
            check_shape(raw, outputs, inputs)?;
            weights.extend(raw.q4_0_to_f32().into_iter().map(|w| w * factor));
            let b = file.tensor(&format!("{prefix}.b"), DType::F32)?.to_f32();
            bias.extend(b.into_iter().map(|b| b * factor));
        }
        Ok(Self {
            weight: Int8Matrix::quantize(&weights, outputs * prefixes.len(), inputs),
            bias,
            gelu: false,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.apply_op1_no_bwd(self)
    }
}

impl CustomOp1 for Linear {
    fn name(&self) -> &'static str {
        "int8-linear"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(storage, layout, self.name())?;
        let mut dims = layout.dims().to_vec();
        if dims.last() != Some(&self.weight.inputs()) {
            return Err(candle_core::Error::Msg(format!(
                "int8-linear takes {} inputs, got shape {dims:?}",
                self.weight.inputs()
            )));
        }
        let mut out = self.weight.product(x, &self.bias);
        if self.gelu {
            gelu_in_place(&mut out);
        }
        *dims.last_mut().expect("checked above") = self.weight.outputs();
        Ok((CpuStorage::F32(out), Shape::from(dims)))
    }
}

/// Layer normalization over the last dimension, as a candle operation on
/// one tensor or on the sum of two (the residual connection's), in one
/// pass over the values.
struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
    eps: f32,
}

impl Norm {
    /// Normalized `x`, or `x + residual`.
    fn forward(&self, x: &Tensor, residual: Option<&Tensor>) -> candle_core::Result<Tensor> {
        match residual {
            None => x.apply_op1_no_bwd(self),
            Some(residual) => x.apply_op2_no_bwd(residual, self),
        }
    }

    fn normalize(
        &self,
        mut values: Vec<f32>,
        dims: &[usize],
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        if dims.last() != Some(&self.weight.len()) {
            return Err(candle_core::Error::Msg(format!(
                "layer norm over {} values, got shape {dims:?}",
                self.weight.len()
            )));
        }
        layer_norm_rows_in_place(&mut values, &self.weight, &self.bias, self.eps);
        Ok((CpuStorage::F32(values), Shape::from(dims)))
    }
}

/// The f32 values of an operation's input, which the encoder's operations
/// take contiguous (as candle's own ops leave them).
pub(crate) fn contiguous_f32<'s>(
    storage: &'s CpuStorage,
    layout: &Layout,
    op: &str,
) -> candle_core::Result<&'s [f32]> {
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg(format!("{op} needs a contiguous input")))?;
    Ok(&storage.as_slice::<f32>()?[start..end])
}

impl CustomOp1 for Norm {
    fn name(&self) -> &'static str {
        "layer-norm"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        self.normalize(
            contiguous_f32(storage, layout, CustomOp1::name(self))?.to_vec(),
            layout.dims(),
        )
    }
}

impl CustomOp2 for Norm {
    fn name(&self) -> &'static str {
        "add-layer-norm"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_layout: &Layout,
        residual: &CpuStorage,
        residual_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        if x_layout.dims() != residual_layout.dims() {
            return Err(candle_core::Error::Msg(format!(
                "add-layer-norm: shapes {:?} and {:?}",
                x_layout.dims(),
                residual_layout.dims()
            )));
        }
        let (x, residual) = (
            contiguous_f32(x, x_layout, CustomOp2::name(self))?,
            contiguous_f32(residual, residual_layout, CustomOp2::name(self))?,
        );
        let sum = x.iter().zip(residual).map(|(a, b)| a + b).collect();
        self.normalize(sum, x_layout.dims())
    }
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

/// The word embeddings, rows of 4-bit blocks decoded as tokens need them.
struct Words {
    bytes: WordBytes,
    rows: usize,
    row_bytes: usize,
}

/// Where the word embeddings lie: in the mapped weights file, kept open
/// (copying its 54 MB took 3% of a 301-ticket stream's time, mostly in page
/// faults, and 7% of one ticket's), or copied when the weights came as bytes.
enum WordBytes {
    Mapped(Arc<Mmap>, Range<usize>),
    Copied(Vec<u8>),
}

impl Words {
    fn bytes(&self) -> &[u8] {
        match &self.bytes {
            WordBytes::Mapped(map, range) => &map[range.clone()],
            WordBytes::Copied(bytes) => bytes,
        }
    }

    /// Each token's row, one after the other.
    fn embed(&self, ids: &[u32]) -> candle_core::Result<Vec<f32>> {
        let bytes = self.bytes();
        let mut out =
            Vec::with_capacity(ids.len() * self.row_bytes / Q4_0_BLOCK_BYTES * BLOCK_WEIGHTS);
        for &id in ids {
            let id = id as usize;
            if id >= self.rows {
                return Err(candle_core::Error::Msg(format!(
                    "token id {id} is past the {} word embeddings",
                    self.rows
                )));
            }
            extend_q4_0(&bytes[id * self.row_bytes..][..self.row_bytes], &mut out);
        }
        Ok(out)
    }
}

pub struct Encoder {
    sizes: Sizes,
    words: Words,
    positions: Tensor,
    token_type: Tensor,
    embedding_norm: Norm,
    layers: Vec<Layer>,
}

/// One batch: token ids padded at the end to the longest, and each text's
/// count of real tokens.
pub struct Batch {
    pub ids: Vec<u32>,
    pub lengths: Vec<usize>,
    pub texts: usize,
    pub len: usize,
}

impl Encoder {
    /// The encoder of `file`; `mapped`, when given, is the map `file` was
    /// parsed from, which the word embeddings then read in place.
    pub fn load(file: &E5s1<'_>, mapped: Option<Arc<Mmap>>) -> Result<Self, EmbedError> {
        let sizes = file.sizes;
        let h = sizes.hidden;
        let vector = |name: &str| -> Result<Tensor, EmbedError> {
            let raw = file.tensor(name, DType::F32)?;
            let n = raw.elements;
            Ok(Tensor::from_vec(raw.to_f32(), n, &Device::Cpu)?)
        };
        let norm = |prefix: &str| -> Result<Norm, EmbedError> {
            let values = |name: String| -> Result<Vec<f32>, EmbedError> {
                let raw = file.tensor(&name, DType::F32)?;
                if raw.elements != h {
                    return Err(EmbedError::Corrupt(format!(
                        "{name} holds {} values, expected {h}",
                        raw.elements
                    )));
                }
                Ok(raw.to_f32())
            };
            Ok(Norm {
                weight: values(format!("{prefix}.w"))?,
                bias: values(format!("{prefix}.b"))?,
                eps: sizes.layer_norm_eps as f32,
            })
        };
        let linear = |prefix: String, outputs: usize, inputs: usize| {
            Linear::load(file, &[(prefix, 1.0)], outputs, inputs)
        };
        // The attention's 1/sqrt(head size) scale, carried by the query's
        // weights rather than applied to every score.
        let query_factor = 1.0 / ((h / sizes.heads) as f32).sqrt();
        let words = file.tensor("emb.word", DType::Q4_0)?;
        check_shape(words, words.elements / h, h)?;
        let words = Words {
            rows: words.elements / h,
            row_bytes: h / BLOCK_WEIGHTS * Q4_0_BLOCK_BYTES,
            bytes: match mapped {
                Some(map) => {
                    let start = words.bytes.as_ptr() as usize - map.as_ptr() as usize;
                    let range = start..start + words.bytes.len();
                    debug_assert!(std::ptr::eq(&map[range.clone()], words.bytes));
                    WordBytes::Mapped(map, range)
                }
                None => WordBytes::Copied(words.bytes.to_vec()),
            },
        };
        let positions = vector("emb.pos")?.reshape((sizes.max_positions, h))?;
        let layers = (0..sizes.layers)
            .map(|l| {
                Ok(Layer {
                    query_key_value: Linear::load(
                        file,
                        &[("q", query_factor), ("k", 1.0), ("v", 1.0)]
                            .map(|(m, factor)| (format!("l{l}.{m}"), factor)),
                        h,
                        h,
                    )?,
                    attention_out: linear(format!("l{l}.ao"), h, h)?,
                    attention_norm: norm(&format!("l{l}.aln"))?,
                    feed_in: Linear {
                        gelu: true,
                        ..linear(format!("l{l}.fi"), sizes.feed_forward, h)?
                    },
                    feed_out: linear(format!("l{l}.fo"), h, sizes.feed_forward)?,
                    output_norm: norm(&format!("l{l}.oln"))?,
                })
            })
            .collect::<Result<_, EmbedError>>()?;
        Ok(Self {
            sizes,
            words,
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
        let Sizes { hidden, heads, .. } = self.sizes;
        let (b, l) = (batch.texts, batch.len);
        let attention = Attention {
            heads,
            lengths: &batch.lengths,
        };

        let x = Tensor::from_vec(self.words.embed(&batch.ids)?, (b, l, hidden), &Device::Cpu)?;
        let x = x
            .broadcast_add(&self.positions.narrow(0, 0, l)?)?
            .broadcast_add(&self.token_type)?;
        let mut x = self.embedding_norm.forward(&x, None)?;
        for layer in &self.layers {
            let context = layer
                .query_key_value
                .forward(&x)?
                .apply_op1_no_bwd(&attention)?;
            let attended = layer.attention_out.forward(&context)?;
            x = layer.attention_norm.forward(&attended, Some(&x))?;
            let inner = layer.feed_in.forward(&x)?;
            let out = layer.feed_out.forward(&inner)?;
            x = layer.output_norm.forward(&out, Some(&x))?;
        }
        // Mean pooling over each text's real tokens.
        let mask: Vec<f32> = batch
            .lengths
            .iter()
            .flat_map(|&n| (0..l).map(move |i| if i < n { 1.0 } else { 0.0 }))
            .collect();
        let mask = Tensor::from_vec(mask, (b, l, 1), &Device::Cpu)?;
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
