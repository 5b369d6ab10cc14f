//! The encoder's element-wise functions, GELU, the attention's softmax and
//! layer normalization, with polynomial `erf` and `exp` that compilers
//! vectorize: the C library's, called value by value, took 10% (erf) and 6%
//! (exp) of the encoder's time, and candle's layer norm, scalar, 4%
//! (`perf record target/release/examples/embed query time < texts`).

/// Gaussian error linear unit, `x * (1 + erf(x / sqrt 2)) / 2`, in place.
pub(crate) fn gelu_in_place(values: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512, for which this copy is compiled.
        return unsafe { avx512::gelu_in_place(values) };
    }
    gelu_inline::<false>(values)
}

/// Softmax of each row of `width` values, in place.
pub(crate) fn softmax_rows_in_place(values: &mut [f32], width: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512, for which this copy is compiled.
        return unsafe { avx512::softmax_rows_in_place(values, width) };
    }
    softmax_inline::<false>(values, width)
}

/// Layer normalization of each row of `weight.len()` values, in place:
/// `(v - mean) / sqrt(variance + eps) * weight + bias`.
pub(crate) fn layer_norm_rows_in_place(values: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512, for which this copy is compiled.
        return unsafe { avx512::layer_norm_rows_in_place(values, weight, bias, eps) };
    }
    layer_norm_inline::<false>(values, weight, bias, eps)
}

#[inline(always)]
fn layer_norm_inline<const FMA: bool>(values: &mut [f32], weight: &[f32], bias: &[f32], eps: f32) {
    let width = weight.len();
    for row in values.chunks_exact_mut(width) {
        let mean = reduce(lanes(row, 0.0, |a, b| a + b), |a, b| a + b) / width as f32;
        // Two passes: the variance from the centred values, not E[v²] - mean².
        let squares = lanes(row, 0.0, |sum, v| mul_add::<FMA>(v - mean, v - mean, sum));
        let scale = 1.0 / (reduce(squares, |a, b| a + b) / width as f32 + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(weight).zip(bias) {
            *v = mul_add::<FMA>((*v - mean) * scale, *w, *b);
        }
    }
}

#[inline(always)]
fn gelu_inline<const FMA: bool>(values: &mut [f32]) {
    for v in values {
        *v = 0.5 * *v * (1.0 + erf::<FMA>(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

#[inline(always)]
fn softmax_inline<const FMA: bool>(values: &mut [f32], width: usize) {
    for row in values.chunks_exact_mut(width) {
        let largest = reduce(lanes(row, f32::NEG_INFINITY, f32::max), f32::max);
        // Summed as they are computed: one pass over the row, not two.
        let mut sums = [0.0; LANES];
        let mut chunks = row.chunks_exact_mut(LANES);
        for chunk in &mut chunks {
            for (sum, v) in sums.iter_mut().zip(chunk) {
                *v = exp::<FMA>(*v - largest);
                *sum += *v;
            }
        }
        for (sum, v) in sums.iter_mut().zip(chunks.into_remainder()) {
            *v = exp::<FMA>(*v - largest);
            *sum += *v;
        }
        let inverse = 1.0 / reduce(sums, |a, b| a + b);
        for v in row.iter_mut() {
            *v *= inverse;
        }
    }
}

/// `combine` folded over 16 interleaved lanes: a reduction compilers keep
/// in vector registers (a single running value is one long dependency).
#[inline(always)]
fn lanes(values: &[f32], start: f32, combine: impl Fn(f32, f32) -> f32) -> [f32; LANES] {
    let mut lanes = [start; LANES];
    let mut chunks = values.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = combine(*lane, v);
        }
    }
    for (lane, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        *lane = combine(*lane, v);
    }
    lanes
}

const LANES: usize = 16;

/// The lanes combined pairwise, halves at a time: vector operations, where
/// a fold from the first lane to the last is one scalar step per lane.
#[inline(always)]
fn reduce(mut lanes: [f32; LANES], combine: impl Fn(f32, f32) -> f32) -> f32 {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            lanes[i] = combine(lanes[i], lanes[i + width]);
        }
    }
    lanes[0]
}

/// `a * b + c`, in one fused instruction where the caller is compiled for
/// a CPU that has it (`FMA`); elsewhere `mul_add` is a slow library call.
#[inline(always)]
fn mul_add<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// 1.5 * 2^23: a float below 2^22 in magnitude plus this is rounded to the
/// nearest integer (ties to even), which sits in the sum's low bits, so
/// rounding needs no float-to-int conversion (a library call or a
/// saturation check per value on baseline x86-64; this vectorizes).
pub(crate) const ROUNDING_SHIFT: f32 = 12_582_912.0;

/// Eigen's and XLA's rational approximation, within 1e-6 of erf.
#[inline(always)]
fn erf<const FMA: bool>(x: f32) -> f32 {
    // Beyond 4 erf is 1 to single precision.
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let step = |p: f32, c: f32| mul_add::<FMA>(x2, p, c);
    let mut p = step(-2.726_142_3e-10, 2.770_681_4e-8);
    p = step(p, -2.101_024e-6);
    p = step(p, -5.692_506_4e-5);
    p = step(p, -7.349_906_3e-4);
    p = step(p, -2.954_6e-3);
    p = step(p, -1.609_603_3e-2);
    let mut q = step(-1.456_607_2e-5, -2.133_740_6e-4);
    q = step(q, -1.682_827e-3);
    q = step(q, -7.373_329e-3);
    q = step(q, -1.426_474e-2);
    x * p / q
}

/// Cephes' `expf` for the softmax's arguments (at most 0): `2^n * e^r` with
/// `n` the nearest integer to `x / ln 2` and a degree-6 polynomial for
/// `e^r`, within 2e-7 relative. Below -87 it gives about 1e-38 rather than
/// underflowing, which a row's sum (at least 1) cannot tell from 0.
#[inline(always)]
fn exp<const FMA: bool>(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let shifted = mul_add::<FMA>(x, std::f32::consts::LOG2_E, ROUNDING_SHIFT);
    let n = shifted - ROUNDING_SHIFT;
    // ln 2 in two parts, so `r` keeps its low bits.
    let r = mul_add::<FMA>(n, 2.121_944_4e-4, mul_add::<FMA>(n, -0.693_359_4, x));
    let step = |p: f32, c: f32| mul_add::<FMA>(r, p, c);
    let mut p = step(1.987_569_1e-4, 1.398_199_9e-3);
    p = step(p, 8.333_452e-3);
    p = step(p, 4.166_579_6e-2);
    p = step(p, 1.666_666_5e-1);
    p = step(p, 0.5);
    let e_r = mul_add::<FMA>(p, r * r, r + 1.0);
    // `n` sits in the low bits of `shifted`: 2^n built from them in integer
    // arithmetic, which vectorizes where a float-to-int conversion does not.
    let two_to_n = (shifted.to_bits().wrapping_sub(ROUNDING_SHIFT.to_bits()) as i32 + 127) << 23;
    e_r * f32::from_bits(two_to_n as u32)
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    // AVX-512 implies FMA.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn gelu_in_place(values: &mut [f32]) {
        super::gelu_inline::<true>(values)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn softmax_rows_in_place(values: &mut [f32], width: usize) {
        super::softmax_inline::<true>(values, width)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn layer_norm_rows_in_place(
        values: &mut [f32],
        weight: &[f32],
        bias: &[f32],
        eps: f32,
    ) {
        super::layer_norm_inline::<true>(values, weight, bias, eps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_is_within_a_millionth_of_the_series() {
        // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)), in f64.
        let series = |x: f64| {
            let (mut term, mut sum, mut n) = (x, x, 0.0);
            while term.abs() > 1e-17 {
                n += 1.0;
                term *= -x * x / n;
                sum += term / (2.0 * n + 1.0);
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        };
        for erf in [erf::<false>, erf::<true>] {
            for i in -300..=300 {
                let x = i as f32 / 100.0;
                let error = (f64::from(erf(x)) - series(f64::from(x))).abs();
                assert!(error < 1e-6, "erf({x}) is off by {error}");
            }
            assert_eq!(erf(7.0), erf(4.0));
        }
    }

    #[test]
    fn exp_is_within_two_ten_millionths_relative() {
        for exp in [exp::<false>, exp::<true>] {
            for i in 0..=87_000 {
                let x = -(i as f32) / 1000.0;
                let exact = f64::from(x).exp();
                let error = (f64::from(exp(x)) - exact).abs() / exact;
                assert!(error < 2e-7, "exp({x}) is off by {error} relative");
            }
            assert!(exp(-1e9) < 1e-37);
        }
    }

    #[test]
    fn softmax_rows_sum_to_one_and_keep_the_order() {
        let mut rows = vec![1.0, 2.0, 3.0, -1e9, 0.5, 0.5, 0.5, 0.5];
        softmax_rows_in_place(&mut rows, 4);
        let exact = |x: f64| x.exp() / (1f64.exp() + 2f64.exp() + 3f64.exp());
        for (got, x) in rows[..3].iter().zip([1.0, 2.0, 3.0]) {
            assert!((f64::from(*got) - exact(x)).abs() < 1e-6, "{rows:?}");
        }
        assert!(rows[3] < 1e-30);
        assert!(
            rows[4..].iter().all(|&v| (v - 0.25).abs() < 1e-7),
            "{rows:?}"
        );
    }

    #[test]
    fn the_fast_copies_compute_what_the_portable_loops_compute() {
        let values: Vec<f32> = (0..1000)
            .map(|i| (i * 37 % 201) as f32 / 20.0 - 5.0)
            .collect();
        let (mut fast, mut portable) = (values.clone(), values.clone());
        softmax_rows_in_place(&mut fast, 40);
        softmax_inline::<false>(&mut portable, 40);
        for (f, p) in fast.iter().zip(&portable) {
            assert!((f - p).abs() <= 1e-6 * p.max(1e-3), "{f} against {p}");
        }
        let (mut fast, mut portable) = (values.clone(), values.clone());
        gelu_in_place(&mut fast);
        gelu_inline::<false>(&mut portable);
        for (f, p) in fast.iter().zip(&portable) {
            assert!((f - p).abs() <= 1e-6, "{f} against {p}");
        }
        let weight: Vec<f32> = (0..40).map(|i| 0.5 + i as f32 / 40.0).collect();
        let bias: Vec<f32> = (0..40).map(|i| i as f32 / 80.0 - 0.25).collect();
        let (mut fast, mut portable) = (values.clone(), values);
        layer_norm_rows_in_place(&mut fast, &weight, &bias, 1e-12);
        layer_norm_inline::<false>(&mut portable, &weight, &bias, 1e-12);
        for (f, p) in fast.iter().zip(&portable) {
            assert!((f - p).abs() <= 1e-5, "{f} against {p}");
        }
    }

    #[test]
    fn layer_norm_centres_and_scales_each_row() {
        let mut rows = vec![1.0, 2.0, 3.0, 4.0, -5.0, -5.0, -5.0, -5.0];
        let bias = [0.0, 0.0, 0.0, 1.0];
        layer_norm_rows_in_place(&mut rows, &[1.0, 1.0, 2.0, 2.0], &bias, 1e-12);
        // Mean 2.5, variance 1.25: (v - 2.5) / sqrt(1.25), then weight and bias.
        let unit = 1.25f32.sqrt();
        let expected = [-1.5 / unit, -0.5 / unit, 1.0 / unit, 3.0 / unit + 1.0];
        for (got, want) in rows[..4].iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{rows:?}");
        }
        // A constant row has no variance: eps keeps it finite, at the bias.
        assert_eq!(rows[4..], bias, "{rows:?}");
    }

    #[test]
    fn gelu_is_x_times_the_normal_distribution() {
        let mut values = [-3.0, -1.0, 0.0, 1.0, 3.0];
        gelu_in_place(&mut values);
        // x * Phi(x), Phi from tables.
        let expected = [-0.004_049_7, -0.158_655_3, 0.0, 0.841_344_7, 2.995_950_3];
        for (got, want) in values.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{values:?}");
        }
    }
}
