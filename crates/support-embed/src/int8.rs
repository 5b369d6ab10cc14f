//! The encoder's linear layers as 8-bit integer products: weights and
//! activations quantized to signed bytes, one scale per block of `BLOCK`
//! inputs, summed in 32-bit integers and scaled once per block. On x86 with
//! AVX512-VNNI one instruction multiplies and sums 64 byte pairs; elsewhere a
//! plain loop computes the same sums.
//!
//! candle's own 8-bit product (which this replaces) quantizes activations in
//! blocks of 256 inputs, so the 384-wide layers were padded to 512, and it
//! applies a float scale every 32 inputs of a 4-row by 16-column tile; here
//! the tile is 6 rows by 32 columns and the scale comes every `BLOCK` inputs.

use crate::activation::ROUNDING_SHIFT;

/// Inputs per scale, in a weight row and in an activation row alike: the
/// weights' own 4-bit blocks are 32 wide, and 64 keeps the embeddings at
/// cosine 0.9998 or more with the reference engine's (`cargo test
/// --test reference -- --nocapture` prints it; 128 gave 0.9995, and no
/// speed a stream could measure).
pub(crate) const BLOCK: usize = 64;
/// Output columns computed together: two AVX-512 registers of 16 sums.
const COLUMNS: usize = 32;
// A size in whole blocks is then in whole column groups too.
const _: () = assert!(BLOCK.is_multiple_of(COLUMNS) && BLOCK.is_multiple_of(16));
/// Activation rows (tokens) computed together, each against `COLUMNS`
/// columns: 12 integer and 12 float accumulators, within the 32 registers.
const ROWS: usize = 6;
/// Unsigned activations are the signed ones plus this (the instruction
/// multiplies unsigned by signed bytes); the weights' sums take it back off.
const OFFSET: i32 = 128;

/// A weight matrix (`outputs` x `inputs`, as a linear layer stores it) in
/// signed bytes, laid out as the kernel reads it: for each group of
/// `COLUMNS` outputs, block by block, four inputs of 32 columns at a time.
pub(crate) struct Int8Matrix {
    outputs: usize,
    inputs: usize,
    /// [column group][block][input / 4][column][input % 4]
    weights: Vec<i8>,
    /// [column group][block][column]
    scales: Vec<f32>,
    /// [column group][block][column]: `OFFSET` times the block's weight sum.
    offsets: Vec<i32>,
}

/// Activation rows quantized for [`Int8Matrix::product`]: `OFFSET` plus the
/// signed byte, and one scale per row and block.
struct Int8Rows {
    values: Vec<u8>,
    scales: Vec<f32>,
}

impl Int8Matrix {
    /// Quantizes row-major weights; `outputs` and `inputs` must be whole
    /// blocks (the encoder's 384 and 1536 are; `E5s1::parse` checks).
    pub(crate) fn quantize(rows: &[f32], outputs: usize, inputs: usize) -> Self {
        assert!(
            outputs.is_multiple_of(COLUMNS)
                && inputs.is_multiple_of(BLOCK)
                && rows.len() == outputs * inputs,
            "an int8 matrix needs outputs in {COLUMNS}s and inputs in {BLOCK}s"
        );
        let blocks = inputs / BLOCK;
        let mut weights = vec![0i8; outputs * inputs];
        let mut scales = vec![0f32; outputs * blocks];
        let mut offsets = vec![0i32; outputs * blocks];
        for (output, row) in rows.chunks_exact(inputs).enumerate() {
            let (group, column) = (output / COLUMNS, output % COLUMNS);
            for (block, values) in row.chunks_exact(BLOCK).enumerate() {
                let (scale, inverse) = block_scale(values);
                let at = (group * blocks + block) * COLUMNS + column;
                let start = (group * blocks + block) * BLOCK * COLUMNS;
                let mut sum = 0;
                // Four inputs side by side, then the next four 32 columns on.
                for (four, values) in values.chunks_exact(4).enumerate() {
                    let at = start + (four * COLUMNS + column) * 4;
                    for (w, v) in weights[at..at + 4].iter_mut().zip(values) {
                        let q = round(v * inverse);
                        sum += q;
                        *w = q as i8;
                    }
                }
                scales[at] = scale;
                offsets[at] = OFFSET * sum;
            }
        }
        Self {
            outputs,
            inputs,
            weights,
            scales,
            offsets,
        }
    }

    pub(crate) fn inputs(&self) -> usize {
        self.inputs
    }

    pub(crate) fn outputs(&self) -> usize {
        self.outputs
    }

    /// `x` (rows of `inputs` values) times the transposed matrix plus `bias`:
    /// rows of `outputs` values.
    pub(crate) fn product(&self, x: &[f32], bias: &[f32]) -> Vec<f32> {
        assert!(
            x.len().is_multiple_of(self.inputs) && bias.len() == self.outputs,
            "an int8 product takes rows of {} values and {} biases",
            self.inputs,
            self.outputs
        );
        let rows = x.len() / self.inputs;
        let x = quantize_rows(x);
        #[cfg(target_arch = "x86_64")]
        if vnni::available() {
            let mut out = Vec::with_capacity(rows * self.outputs);
            // SAFETY: the CPU has the features the kernel is compiled for,
            // and the kernel writes every value of every row (not zeroed
            // first: that was 3% of a stream's time).
            unsafe {
                vnni::product(self, &x, rows, bias, out.as_mut_ptr());
                out.set_len(rows * self.outputs);
            }
            return out;
        }
        let mut out = vec![0f32; rows * self.outputs];
        self.portable_product(&x, rows, bias, &mut out);
        out
    }

    /// The same sums as the AVX512-VNNI kernel, on any CPU.
    fn portable_product(&self, x: &Int8Rows, rows: usize, bias: &[f32], out: &mut [f32]) {
        let blocks = self.inputs / BLOCK;
        for group in 0..self.outputs / COLUMNS {
            for row in 0..rows {
                let mut sums = [0f32; COLUMNS];
                for block in 0..blocks {
                    let at = group * blocks + block;
                    let weights = &self.weights[at * BLOCK * COLUMNS..][..BLOCK * COLUMNS];
                    let values = &x.values[row * self.inputs + block * BLOCK..][..BLOCK];
                    let mut products = [0i32; COLUMNS];
                    for (four, inputs) in weights.chunks_exact(COLUMNS * 4).zip(values.chunks(4)) {
                        for (column, w) in four.chunks_exact(4).enumerate() {
                            products[column] += w
                                .iter()
                                .zip(inputs)
                                .map(|(&w, &v)| i32::from(w) * i32::from(v))
                                .sum::<i32>();
                        }
                    }
                    let activation_scale = x.scales[row * blocks + block];
                    for column in 0..COLUMNS {
                        let i = at * COLUMNS + column;
                        sums[column] += (products[column] - self.offsets[i]) as f32
                            * (self.scales[i] * activation_scale);
                    }
                }
                let first = group * COLUMNS;
                for (column, sum) in sums.iter().enumerate() {
                    out[row * self.outputs + first + column] = sum + bias[first + column];
                }
            }
        }
    }
}

/// A block's scale (its largest magnitude over 127) and the factor that
/// maps its values onto -127..=127 (0 for a block of zeros).
fn block_scale(values: &[f32]) -> (f32, f32) {
    let largest = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    let inverse = if largest > 0.0 { 127.0 / largest } else { 0.0 };
    (largest / 127.0, inverse)
}

/// Rounds to the nearest integer, ties to even (as the AVX-512 conversion
/// does), through [`ROUNDING_SHIFT`]; the values rounded here are at most 127.
#[inline(always)]
fn round(v: f32) -> i32 {
    (v + ROUNDING_SHIFT)
        .to_bits()
        .wrapping_sub(ROUNDING_SHIFT.to_bits()) as i32
}

fn quantize_rows(x: &[f32]) -> Int8Rows {
    #[cfg(target_arch = "x86_64")]
    if vnni::available() {
        // SAFETY: the CPU has the features the function is compiled for.
        return unsafe { vnni::quantize_rows(x) };
    }
    portable_quantize_rows(x)
}

fn portable_quantize_rows(x: &[f32]) -> Int8Rows {
    let mut values = vec![0u8; x.len()];
    let mut scales = Vec::with_capacity(x.len() / BLOCK);
    for (block, out) in x.chunks_exact(BLOCK).zip(values.chunks_exact_mut(BLOCK)) {
        let (scale, inverse) = block_scale(block);
        for (o, v) in out.iter_mut().zip(block) {
            *o = (round(v * inverse) + OFFSET) as u8;
        }
        scales.push(scale);
    }
    Int8Rows { values, scales }
}

#[cfg(target_arch = "x86_64")]
mod vnni {
    use super::{Int8Matrix, Int8Rows, BLOCK, COLUMNS, OFFSET, ROWS};
    use std::arch::x86_64::*;

    pub(super) fn available() -> bool {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vnni")
    }

    /// As `portable_quantize_rows`, a block's 16-value vectors at a time.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn quantize_rows(x: &[f32]) -> Int8Rows {
        const VECTORS: usize = BLOCK / 16;
        let mut values = Vec::<u8>::with_capacity(x.len());
        let mut scales = Vec::with_capacity(x.len() / BLOCK);
        let offset = _mm512_set1_epi32(OFFSET);
        for (b, block) in x.chunks_exact(BLOCK).enumerate() {
            let v: [__m512; VECTORS] =
                std::array::from_fn(|i| _mm512_loadu_ps(block.as_ptr().add(i * 16)));
            let largest = _mm512_reduce_max_ps(v.iter().fold(_mm512_setzero_ps(), |m, &v| {
                _mm512_max_ps(m, _mm512_abs_ps(v))
            }));
            let inverse = _mm512_set1_ps(if largest > 0.0 { 127.0 / largest } else { 0.0 });
            let out = values.as_mut_ptr().add(b * BLOCK);
            for (i, v) in v.into_iter().enumerate() {
                let q = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v, inverse)), offset);
                _mm_storeu_si128(out.add(i * 16).cast(), _mm512_cvtepi32_epi8(q));
            }
            scales.push(largest / 127.0);
        }
        values.set_len(x.len());
        Int8Rows { values, scales }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn product(
        matrix: &Int8Matrix,
        x: &Int8Rows,
        rows: usize,
        bias: &[f32],
        out: *mut f32,
    ) {
        for group in 0..matrix.outputs / COLUMNS {
            let mut row = 0;
            while row < rows {
                let tile = ROWS.min(rows - row);
                // One copy of the kernel per tile height keeps its
                // accumulators in registers.
                match tile {
                    6 => tile_product::<6>(matrix, x, group, row, bias, out),
                    5 => tile_product::<5>(matrix, x, group, row, bias, out),
                    4 => tile_product::<4>(matrix, x, group, row, bias, out),
                    3 => tile_product::<3>(matrix, x, group, row, bias, out),
                    2 => tile_product::<2>(matrix, x, group, row, bias, out),
                    _ => tile_product::<1>(matrix, x, group, row, bias, out),
                }
                row += tile;
            }
        }
    }

    /// Rows `first..first + R` against the 32 columns of `group`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    unsafe fn tile_product<const R: usize>(
        matrix: &Int8Matrix,
        x: &Int8Rows,
        group: usize,
        first: usize,
        bias: &[f32],
        out: *mut f32,
    ) {
        let inputs = matrix.inputs;
        let blocks = inputs / BLOCK;
        let mut sums = [[_mm512_setzero_ps(); 2]; R];
        for block in 0..blocks {
            let at = group * blocks + block;
            let weights = matrix.weights[at * BLOCK * COLUMNS..][..BLOCK * COLUMNS].as_ptr();
            let mut products = [[_mm512_setzero_si512(); 2]; R];
            for four in 0..BLOCK / 4 {
                let w = weights.add(four * COLUMNS * 4);
                let low = _mm512_loadu_si512(w.cast());
                let high = _mm512_loadu_si512(w.add(64).cast());
                for (r, product) in products.iter_mut().enumerate() {
                    let value = x
                        .values
                        .as_ptr()
                        .add((first + r) * inputs + block * BLOCK + four * 4);
                    let four_values = _mm512_set1_epi32(value.cast::<i32>().read_unaligned());
                    product[0] = _mm512_dpbusd_epi32(product[0], four_values, low);
                    product[1] = _mm512_dpbusd_epi32(product[1], four_values, high);
                }
            }
            let scales = matrix.scales[at * COLUMNS..].as_ptr();
            let offsets = matrix.offsets[at * COLUMNS..].as_ptr();
            let scale = [_mm512_loadu_ps(scales), _mm512_loadu_ps(scales.add(16))];
            let offset = [
                _mm512_loadu_si512(offsets.cast()),
                _mm512_loadu_si512(offsets.add(16).cast()),
            ];
            for (r, (sum, product)) in sums.iter_mut().zip(&products).enumerate() {
                let activation_scale = _mm512_set1_ps(x.scales[(first + r) * blocks + block]);
                for half in 0..2 {
                    let exact = _mm512_cvtepi32_ps(_mm512_sub_epi32(product[half], offset[half]));
                    sum[half] = _mm512_fmadd_ps(
                        exact,
                        _mm512_mul_ps(scale[half], activation_scale),
                        sum[half],
                    );
                }
            }
        }
        let bias = bias[group * COLUMNS..][..COLUMNS].as_ptr();
        let bias = [_mm512_loadu_ps(bias), _mm512_loadu_ps(bias.add(16))];
        for (r, sum) in sums.iter().enumerate() {
            let at = out.add((first + r) * matrix.outputs + group * COLUMNS);
            _mm512_storeu_ps(at, _mm512_add_ps(sum[0], bias[0]));
            _mm512_storeu_ps(at.add(16), _mm512_add_ps(sum[1], bias[1]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-1, 1) with a few large ones, as layer
    /// outputs have.
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|i| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let v = (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
                if i % 97 == 0 {
                    v * 8.0
                } else {
                    v
                }
            })
            .collect()
    }

    #[test]
    fn the_product_is_the_float_product_within_the_quantization_error() {
        let (rows, outputs, inputs) = (13, 64, 3 * BLOCK);
        let w = values(outputs * inputs, 1);
        let x = values(rows * inputs, 2);
        let bias = values(outputs, 3);
        let matrix = Int8Matrix::quantize(&w, outputs, inputs);
        let got = matrix.product(&x, &bias);
        let (mut error, mut size) = (0f64, 0f64);
        for r in 0..rows {
            for o in 0..outputs {
                let exact: f32 = (0..inputs)
                    .map(|i| x[r * inputs + i] * w[o * inputs + i])
                    .sum::<f32>()
                    + bias[o];
                error += f64::from(got[r * outputs + o] - exact).powi(2);
                size += f64::from(exact).powi(2);
            }
        }
        // A misplaced weight or scale gives errors the size of the sums.
        let relative = (error / size).sqrt();
        assert!(relative < 0.02, "relative error {relative}");
    }

    #[test]
    fn the_fast_kernel_sums_what_the_portable_loop_sums() {
        let (rows, outputs, inputs) = (13, 64, 3 * BLOCK);
        let matrix = Int8Matrix::quantize(&values(outputs * inputs, 4), outputs, inputs);
        let x = values(rows * inputs, 5);
        let bias = values(outputs, 6);
        let fast = matrix.product(&x, &bias);
        let mut portable = vec![0f32; rows * outputs];
        matrix.portable_product(&portable_quantize_rows(&x), rows, &bias, &mut portable);
        for (f, p) in fast.iter().zip(&portable) {
            assert!((f - p).abs() <= 1e-4 * p.abs().max(1.0), "{f} against {p}");
        }
    }

    #[test]
    fn the_fast_quantization_is_the_portable_one() {
        let x = values(7 * 3 * BLOCK, 7);
        let (fast, portable) = (quantize_rows(&x), portable_quantize_rows(&x));
        assert_eq!(fast.values, portable.values);
        assert_eq!(fast.scales, portable.scales);
    }
}
