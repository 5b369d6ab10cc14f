//! The direction of a transcript: the slope of the user messages' scores.

use crate::Trend;

/// The trend of `scores` (user messages in order) and the change the fitted
/// line makes from the first message to the last. Needs two messages: one
/// message has no direction.
pub(crate) fn trend(scores: &[f64], dead_band: f64) -> Option<(Trend, f64)> {
    if scores.len() < 2 {
        return None;
    }
    // Least-squares slope over positions 0..n, so one odd message in the
    // middle moves the trend less than comparing only the ends would.
    let n = scores.len() as f64;
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = scores.iter().sum::<f64>() / n;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for (i, &y) in scores.iter().enumerate() {
        let dx = i as f64 - mean_x;
        covariance += dx * (y - mean_y);
        variance += dx * dx;
    }
    let change = covariance / variance * (n - 1.0);
    let trend = if change <= -dead_band {
        Trend::Worsening
    } else if change >= dead_band {
        Trend::Improving
    } else {
        Trend::Stable
    };
    Some((trend, change))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_decides_with_a_dead_band() {
        assert_eq!(
            trend(&[-0.1, -0.5, -0.8], 0.25).unwrap().0,
            Trend::Worsening
        );
        assert_eq!(trend(&[-0.6, 0.0, 0.7], 0.25).unwrap().0, Trend::Improving);
        assert_eq!(trend(&[-0.5, -0.4, -0.6], 0.25).unwrap().0, Trend::Stable);
        let (_, change) = trend(&[0.0, 1.0], 0.25).unwrap();
        assert!((change - 1.0).abs() < 1e-9);
    }

    #[test]
    fn one_message_has_no_trend() {
        assert_eq!(trend(&[-0.9], 0.25), None);
        assert_eq!(trend(&[], 0.25), None);
    }
}
