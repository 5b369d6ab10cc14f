//! Small numeric helpers shared by the models and the evaluation.

use support_boost::quantile_of;
pub use support_boost::{quantile, sigmoid};

/// The median of unsorted values.
pub fn median(values: &[f64]) -> f64 {
    quantile_of(values.to_vec(), 0.5)
}

/// P(Z <= x) for a standard normal Z (Abramowitz and Stegun 7.1.26, error
/// below 1.5e-7).
pub fn normal_cdf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.3275911 * x.abs() / std::f64::consts::SQRT_2);
    let poly = t
        * (0.254829592
            + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    let erf = 1.0 - poly * (-x * x / 2.0).exp();
    0.5 * (1.0 + erf.copysign(x))
}

/// The x with `normal_cdf(x) == p`, by bisection (p in (0, 1)).
pub fn normal_quantile(p: f64) -> f64 {
    let (mut low, mut high) = (-10.0, 10.0);
    for _ in 0..60 {
        let mid = (low + high) / 2.0;
        if normal_cdf(mid) < p {
            low = mid;
        } else {
            high = mid;
        }
    }
    (low + high) / 2.0
}

/// Rounds to `digits` decimals: model files stay small and stable, outputs readable.
pub fn round_to(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(median(&[5.0, 1.0, 3.0]), 3.0);
        assert!(quantile(&[], 0.5).is_nan());
        assert_eq!(round_to(1.23456, 2), 1.23);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-12);
        assert!((normal_cdf(1.959964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158655).abs() < 1e-6);
        assert!((normal_quantile(0.9) - 1.281552).abs() < 1e-5);
    }
}
