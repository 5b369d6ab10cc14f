//! The encoder's element-wise functions, GELU and the attention's softmax,
//! with polynomial `erf` and `exp` that compilers vectorize: the C library's,
//! called value by value, took 10% (erf) and 6% (exp) of the encoder's time
//! (`perf record target/release/examples/embed query time < texts`).

/// Gaussian error linear unit, `x * (1 + erf(x / sqrt 2)) / 2`, in place.
pub(crate) fn gelu_in_place(values: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512, for which this copy is compiled.
        return unsafe { avx512::gelu_in_place(values) };
    }
    gelu_inline(values)
}

/// Softmax of each row of `width` values, in place.
pub(crate) fn softmax_rows_in_place(values: &mut [f32], width: usize) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: the CPU has AVX-512, for which this copy is compiled.
        return unsafe { avx512::softmax_rows_in_place(values, width) };
    }
    softmax_inline(values, width)
}

#[inline(always)]
fn gelu_inline(values: &mut [f32]) {
    for v in values {
        *v = 0.5 * *v * (1.0 + erf(*v * std::f32::consts::FRAC_1_SQRT_2));
    }
}

#[inline(always)]
fn softmax_inline(values: &mut [f32], width: usize) {
    for row in values.chunks_exact_mut(width) {
        let largest = lanes(row, f32::NEG_INFINITY, f32::max)
            .into_iter()
            .fold(f32::NEG_INFINITY, f32::max);
        for v in row.iter_mut() {
            *v = exp(*v - largest);
        }
        let inverse = 1.0 / lanes(row, 0.0, |a, b| a + b).iter().sum::<f32>();
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

/// 1.5 * 2^23: a float below 2^22 in magnitude plus this is rounded to the
/// nearest integer (ties to even), which sits in the sum's low bits, so
/// rounding needs no float-to-int conversion (a library call or a
/// saturation check per value on baseline x86-64; this vectorizes).
pub(crate) const ROUNDING_SHIFT: f32 = 12_582_912.0;

/// Eigen's and XLA's rational approximation, within 1e-6 of erf.
#[inline(always)]
fn erf(x: f32) -> f32 {
    // Beyond 4 erf is 1 to single precision.
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_4e-5;
    p = x2 * p + -7.349_906_3e-4;
    p = x2 * p + -2.954_6e-3;
    p = x2 * p + -1.609_603_3e-2;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_6e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329e-3;
    q = x2 * q + -1.426_474e-2;
    x * p / q
}

/// Cephes' `expf` for the softmax's arguments (at most 0): `2^n * e^r` with
/// `n` the nearest integer to `x / ln 2` and a degree-6 polynomial for
/// `e^r`, within 2e-7 relative. Below -87 it gives about 1e-38 rather than
/// underflowing, which a row's sum (at least 1) cannot tell from 0.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUNDING_SHIFT;
    let n = shifted - ROUNDING_SHIFT;
    // ln 2 in two parts, so `r` keeps its low bits.
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = r * 1.987_569_1e-4 + 1.398_199_9e-3;
    p = r * p + 8.333_452e-3;
    p = r * p + 4.166_579_6e-2;
    p = r * p + 1.666_666_5e-1;
    p = r * p + 0.5;
    let e_r = p * r * r + r + 1.0;
    // `n` sits in the low bits of `shifted`: 2^n built from them in integer
    // arithmetic, which vectorizes where a float-to-int conversion does not.
    let two_to_n = (shifted.to_bits().wrapping_sub(ROUNDING_SHIFT.to_bits()) as i32 + 127) << 23;
    e_r * f32::from_bits(two_to_n as u32)
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn gelu_in_place(values: &mut [f32]) {
        super::gelu_inline(values)
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn softmax_rows_in_place(values: &mut [f32], width: usize) {
        super::softmax_inline(values, width)
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
        for i in -300..=300 {
            let x = i as f32 / 100.0;
            let error = (f64::from(erf(x)) - series(f64::from(x))).abs();
            assert!(error < 1e-6, "erf({x}) is off by {error}");
        }
        assert_eq!(erf(7.0), erf(4.0));
    }

    #[test]
    fn exp_is_within_two_ten_millionths_relative() {
        for i in 0..=87_000 {
            let x = -(i as f32) / 1000.0;
            let exact = f64::from(x).exp();
            let error = (f64::from(exp(x)) - exact).abs() / exact;
            assert!(error < 2e-7, "exp({x}) is off by {error} relative");
        }
        assert!(exp(-1e9) < 1e-37);
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
