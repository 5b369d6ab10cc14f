//! A layer's self-attention as one operation on the rows of stacked query,
//! key and value: each head's scores, softmax and weighted values are
//! computed from that head's columns where they lie (gemm reads strided
//! matrices) and written into the head's columns of the output. Candle's
//! matmuls needed the heads copied out into contiguous tensors and the
//! context copied back, and a fresh tensor of every head's scores at
//! every layer.
//!
//! Each text attends over its own real tokens only, so a padded batch needs
//! no mask: the -1e9 scores a mask adds gave the softmax weights near the
//! smallest float (about 1e-38, subnormal once divided by the row's sum),
//! on which the products ran six times slower.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};

use crate::activation::softmax_rows_in_place;
use crate::encoder::contiguous_f32;

pub(crate) struct Attention<'a> {
    pub heads: usize,
    /// Each text's count of real tokens, its first ones (the rest is
    /// padding, whose context rows are left 0: nothing reads them).
    pub lengths: &'a [usize],
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
        let qkv = contiguous_f32(storage, layout, self.name())?;
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
        if self.lengths.len() != texts || self.lengths.iter().any(|&n| n > tokens) {
            return Err(error(format!(
                "lengths {:?} do not fit {texts} texts of {tokens} tokens",
                self.lengths
            )));
        }
        let head_size = hidden / self.heads;
        let mut context = vec![0f32; texts * tokens * hidden];
        let mut scores = vec![0f32; tokens * tokens];
        for (text, &real) in self.lengths.iter().enumerate() {
            let rows = &qkv[text * tokens * width..][..real * width];
            let out = &mut context[text * tokens * hidden..][..real * hidden];
            let scores = &mut scores[..real * real];
            for head in 0..self.heads {
                let column = head * head_size;
                // SAFETY: every matrix lies inside its slice: `real` rows
                // of `width` (or `hidden`, or `real`) values, of which the
                // head's `head_size` columns start at an offset of at most
                // `width - head_size` (`hidden - head_size`).
                unsafe {
                    // scores = query · keyᵀ (the key's rows are its columns)
                    product(
                        (real, real, head_size),
                        (scores.as_mut_ptr(), real),
                        (rows[column..].as_ptr(), width),
                        (rows[hidden + column..].as_ptr(), 1, width),
                    );
                }
                softmax_rows_in_place(scores, real);
                // SAFETY: as above.
                unsafe {
                    // The head's columns of the context = scores · value.
                    product(
                        (real, head_size, real),
                        (out[column..].as_mut_ptr(), hidden),
                        (scores.as_ptr(), real),
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
    /// before this operation: padding kept out by -1e9 scores.
    fn unfused(qkv: &Tensor, heads: usize, lengths: &[usize]) -> Tensor {
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
        let bias: Vec<f32> = lengths
            .iter()
            .flat_map(|&n| (0..l).map(move |i| if i < n { 0.0 } else { -1e9 }))
            .collect();
        let bias = Tensor::from_vec(bias, (b, 1, 1, l), &Device::Cpu).unwrap();
        scores = scores.broadcast_add(&bias).unwrap();
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
        for lengths in [[l, l, l], [l - 2, l - 1, l]] {
            let fused = qkv
                .apply_op1_no_bwd(&Attention {
                    heads,
                    lengths: &lengths,
                })
                .unwrap();
            let expected = unfused(&qkv, heads, &lengths);
            assert_eq!(fused.dims(), expected.dims());
            let (fused, expected) = (
                fused.to_vec3::<f32>().unwrap(),
                expected.to_vec3::<f32>().unwrap(),
            );
            for (text, &real) in lengths.iter().enumerate() {
                // A real token's context is candle's; a padded one's is 0.
                for (token, (got, want)) in fused[text].iter().zip(&expected[text]).enumerate() {
                    for (g, w) in got.iter().zip(want) {
                        let want = if token < real { *w } else { 0.0 };
                        assert!(
                            (g - want).abs() < 1e-5,
                            "{g} against {want} (lengths {lengths:?})"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_shape_that_does_not_split_into_heads_is_an_error() {
        let qkv = Tensor::zeros((1, 2, 30), candle_core::DType::F32, &Device::Cpu).unwrap();
        let err = qkv
            .apply_op1_no_bwd(&Attention {
                heads: 4,
                lengths: &[2],
            })
            .unwrap_err();
        assert!(err.to_string().contains("4 heads"), "{err}");
    }
}
