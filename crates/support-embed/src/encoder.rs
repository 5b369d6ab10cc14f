//! The XLM-RoBERTa encoder of multilingual-e5-small, run with candle. The
//! word embeddings stay 4-bit in memory; the linear layers run as 8-bit
//! integer products (see [`crate::int8`]), with activations quantized to 8
//! bits as the reference engine does; the rest is f32. Output: mean pooling
//! over the real tokens, L2-normalized.

use candle_core::quantized::{GgmlDType, QStorage, QTensor};
use candle_core::{
    CpuStorage, CustomOp1, DType as CDType, Device, InplaceOp1, Layout, Shape, Tensor, D,
};
use candle_nn::ops::layer_norm;
use std::borrow::Cow;

use crate::activation::{gelu_in_place, softmax_rows_in_place};
use crate::e5s1::{DType, E5s1, RawTensor, Sizes, BLOCK_WEIGHTS};
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
        let (start, end) = layout.contiguous_offsets().ok_or_else(|| {
            candle_core::Error::Msg("int8-linear needs a contiguous input".into())
        })?;
        let x = &storage.as_slice::<f32>()?[start..end];
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

/// Softmax over the last dimension, in place (the attention's scores are a
/// fresh tensor).
struct Softmax;

impl InplaceOp1 for Softmax {
    fn name(&self) -> &'static str {
        "softmax-in-place"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        let (CpuStorage::F32(values), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            return Err(candle_core::Error::Msg(
                "softmax-in-place needs contiguous f32 values".into(),
            ));
        };
        let width = layout.dims().last().copied().unwrap_or(1);
        softmax_rows_in_place(&mut values[start..end], width);
        Ok(())
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
            Linear::load(file, &[(prefix, 1.0)], outputs, inputs)
        };
        // The attention's 1/sqrt(head size) scale, carried by the query's
        // weights rather than applied to every score.
        let query_factor = 1.0 / ((h / sizes.heads) as f32).sqrt();
        let words = file.tensor("emb.word", DType::Q4_0)?;
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
        // Padding is kept out of attention by a large negative score (a text
        // alone, as a stream embeds it, has none).
        let attention_bias = if batch.mask.contains(&0.0) {
            Some(((mask.clone() - 1.0)? * 1e9)?.reshape((b, 1, 1, l))?)
        } else {
            None
        };

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
            let mut scores = q.matmul(&k.t()?)?;
            if let Some(bias) = &attention_bias {
                scores = scores.broadcast_add(bias)?;
            }
            scores.inplace_op1(&Softmax)?;
            let context = scores
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
            let inner = layer.feed_in.forward(&x)?;
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
