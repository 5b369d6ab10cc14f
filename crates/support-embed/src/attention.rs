//! A layer's self-attention as one operation on the rows of stacked query,
//! key and value: each head's scores, softmax and weighted values are
//! computed from that head's columns where they lie (gemm reads strided
//! matrices) and written into the head's columns of the output. Candle's
//! matmuls needed the heads copied out into contiguous tensors and the
//! context copied back, and a fresh tensor of every head's scores at
//! every layer.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};

use crate::activation::softmax_rows_in_place;

pub(crate) struct Attention<'a> {
    pub heads: usize,
    /// Per text and key position: 0 for a real token, a large negative
    /// score for padding; `None` when no text of the batch is padded.
    pub padding: Option<&'a [f32]>,
}

impl CustomOp1 for Attention<'_> {
    fn name(&self) -> &'static str {
        "attention"
    }

    /// `(texts, tokens, 3 * hidden)` query, key and value to
    /// `(texts, tokens, hidden)` context.
    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let error = |what: String| candle_core::Error::Msg(format!("attention: {what}"));
        let (start, end) = layout
            .contiguous_offsets()
            .ok_or_else(|| error("needs a contiguous input".into()))?;
        let qkv = &storage.as_slice::<f32>()?[start..end];
        let &[texts, tokens, width] = layout.dims() else {
            return Err(error(format!(
                "takes 3 dimensions, got {:?}",
                layout.dims()
            )));
        };
        let hidden = width / 3;
        if width != 3 * hidden || self.heads == 0 || !hidden.is_multiple_of(self.heads) {
            return Err(error(format!(
                "cannot split {width} columns into query, key and value of {} heads",
                self.heads
            )));
        }
        if self.padding.is_some_and(|p| p.len() != texts * tokens) {
            return Err(error("the padding does not match the batch".into()));
        }
        let head_size = hidden / self.heads;
        let mut context = vec![0f32; texts * tokens * hidden];
        let mut scores = vec![0f32; tokens * tokens];
        for text in 0..texts {
            let rows = &qkv[text * tokens * width..][..tokens * width];
            let out = &mut context[text * tokens * hidden..][..tokens * hidden];
            for head in 0..self.heads {
                let column = head * head_size;
                // SAFETY: every matrix lies inside its slice: `tokens` rows
                // of `width` (or `hidden`, or `tokens`) values, of which the
                // head's `head_size` columns start at an offset of at most
                // `width - head_size` (`hidden - head_size`).
                unsafe {
                    // scores = query · keyᵀ (the key's rows are its columns)
                    product(
                        (tokens, tokens, head_size),
                        (scores.as_mut_ptr(), tokens),
                        (rows[column..].as_ptr(), width),
                        (rows[hidden + column..].as_ptr(), 1, width),
                    );
                }
                if let Some(padding) = self.padding {
                    let padding = &padding[text * tokens..][..tokens];
                    for row in scores.chunks_exact_mut(tokens) {
                        row.iter_mut().zip(padding).for_each(|(s, p)| *s += p);
                    }
                }
                softmax_rows_in_place(&mut scores, tokens);
                // SAFETY: as above.
                unsafe {
                    // The head's columns of the context = scores · value.
                    product(
                        (tokens, head_size, tokens),
                        (out[column..].as_mut_ptr(), hidden),
                        (scores.as_ptr(), tokens),
                        (rows[2 * hidden + column..].as_ptr(), width, 1),
                    );
                }
            }
        }
        Ok((
            CpuStorage::F32(context),
            Shape::from((texts, tokens, hidden)),
        ))
    }
}

/// `dst = lhs · rhs` for an `m × k` lhs and a `k × n` rhs: dst and lhs
/// given by their first element and the distance between their rows (their
/// columns adjacent), rhs by its first element, the distance between its
/// rows and the distance between its columns.
///
/// # Safety
/// Each matrix's elements must lie inside one allocation.
unsafe fn product(
    (m, n, k): (usize, usize, usize),
    dst: (*mut f32, usize),
    lhs: (*const f32, usize),
    rhs: (*const f32, usize, usize),
) {
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.0,
            1,
            dst.1 as isize,
            false,
            lhs.0,
            1,
            lhs.1 as isize,
            rhs.0,
            rhs.2 as isize,
            rhs.1 as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor, D};

    /// Candle's own operations, the way the encoder computed attention
    /// before this operation.
    fn unfused(qkv: &Tensor, heads: usize, padding: Option<&[f32]>) -> Tensor {
        let (b, l, width) = qkv.dims3().unwrap();
        let hidden = width / 3;
        let split = |i: usize| {
            qkv.narrow(D::Minus1, i * hidden, hidden)
                .unwrap()
                .reshape((b, l, heads, hidden / heads))
                .unwrap()
                .transpose(1, 2)
                .unwrap()
                .contiguous()
                .unwrap()
        };
        let mut scores = split(0).matmul(&split(1).t().unwrap()).unwrap();
        if let Some(p) = padding {
            let bias = Tensor::from_slice(p, (b, 1, 1, l), &Device::Cpu).unwrap();
            scores = scores.broadcast_add(&bias).unwrap();
        }
        let e = scores.exp().unwrap();
        let p = e.broadcast_div(&e.sum_keepdim(D::Minus1).unwrap()).unwrap();
        p.matmul(&split(2))
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .reshape((b, l, hidden))
            .unwrap()
    }

    #[test]
    fn fused_attention_is_candles_attention() {
        let (b, l, hidden, heads) = (3, 7, 24, 4);
        // Deterministic values of both signs, different in every place.
        let values: Vec<f32> = (0..b * l * 3 * hidden)
            .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * 3.0)
            .collect();
        let qkv = Tensor::from_vec(values, (b, l, 3 * hidden), &Device::Cpu).unwrap();
        let mut padding = vec![0f32; b * l];
        padding[l - 2..l].fill(-1e9);
        padding[2 * l - 1] = -1e9;
        for padding in [None, Some(padding.as_slice())] {
            let fused = qkv.apply_op1_no_bwd(&Attention { heads, padding }).unwrap();
            let expected = unfused(&qkv, heads, padding);
            assert_eq!(fused.dims(), expected.dims());
            let largest = (fused - expected)
                .unwrap()
                .abs()
                .unwrap()
                .flatten_all()
                .unwrap()
                .max(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(largest < 1e-5, "off by {largest} (padding {padding:?})");
        }
    }

    #[test]
    fn a_shape_that_does_not_split_into_heads_is_an_error() {
        let qkv = Tensor::zeros((1, 2, 30), candle_core::DType::F32, &Device::Cpu).unwrap();
        let err = qkv
            .apply_op1_no_bwd(&Attention {
                heads: 4,
                padding: None,
            })
            .unwrap_err();
        assert!(err.to_string().contains("4 heads"), "{err}");
    }
}
