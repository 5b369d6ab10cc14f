//! Resolution time and SLA-breach risk: gradient-boosted trees
//! (support-boost) over each feature's value as a category, in the bins of
//! the one-hot vocabularies (a value seen fewer than `min_count` times, or
//! never, shares the `other` bin).
//!
//! Resolution times are heavy-tailed (median about a day, p90 about two
//! weeks), so the estimate that minimizes the absolute error is a median:
//! three quantile models of log(1 + minutes) give the median and the ends of
//! the interval. Quantile models hold fewer true times than nominal on
//! tickets they did not see, so the interval is widened (in log time) by the
//! amount that makes it hold the nominal share of the rows held out for early
//! stopping, as in conformalized quantile regression.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use support_boost::{Booster, Features, Loss};

use crate::config::TrainSettings;
use crate::stats::{normal_cdf, normal_quantile, quantile, round_to};
use crate::TrainError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    /// Lower and upper quantile of the prediction interval.
    pub interval: [f64; 2],
    /// How far (in log(1 + minutes)) the quantile models' interval is
    /// widened so that it holds `interval[1] - interval[0]` of held-out times.
    pub widen: f64,
    pub median: Booster,
    pub low: Booster,
    pub high: Booster,
    /// The standard normal quantiles of the interval's ends, which turn its
    /// half-widths into spreads: derived from `interval` on first use, not
    /// per ticket.
    #[serde(skip)]
    normal_ends: NormalEnds,
}

/// Derived, so neither in the file nor in equality.
#[derive(Debug, Clone, Default)]
struct NormalEnds(OnceLock<[f64; 2]>);

impl PartialEq for NormalEnds {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolutionEstimate {
    pub minutes: f64,
    pub low: f64,
    pub high: f64,
    /// The chance that the time falls within a factor 2 of `minutes`, read
    /// from the interval as if log time were normal around the median.
    pub within_factor_2: f64,
    /// Each feature's part in the median's log(1 + minutes).
    pub effects: Vec<f64>,
}

impl Resolution {
    pub fn fit(
        features: &Features,
        minutes: &[f64],
        settings: &TrainSettings,
        on_tree: &mut dyn FnMut(),
    ) -> Result<Resolution, TrainError> {
        let logs: Vec<f64> = minutes.iter().map(|m| m.ln_1p()).collect();
        let options = settings.trees;
        let [low, high] = settings.interval;
        let mut model = |alpha: f64| {
            support_boost::fit(
                features,
                &logs,
                Loss::Quantile { alpha },
                &options,
                &mut *on_tree,
            )
            .map_err(|e| TrainError::Fit(format!("resolution time (quantile {alpha}): {e}")))
        };
        let mut resolution = Resolution {
            interval: settings.interval,
            widen: 0.0,
            median: model(0.5)?,
            low: model(low)?,
            high: model(high)?,
            normal_ends: NormalEnds::default(),
        };
        let (_, held_out) = support_boost::training_and_validation(logs.len(), &options);
        let mut misses: Vec<f64> = held_out
            .iter()
            .map(|&i| {
                let row: Vec<u16> = features.columns.iter().map(|c| c[i as usize]).collect();
                let y = logs[i as usize];
                (resolution.low.output(&row) - y).max(y - resolution.high.output(&row))
            })
            .collect();
        misses.sort_by(f64::total_cmp);
        let widen = quantile(&misses, high - low);
        resolution.widen = if widen.is_finite() {
            round_to(widen, 4)
        } else {
            0.0
        };
        Ok(resolution)
    }

    pub fn estimate(&self, row: &[u16]) -> ResolutionEstimate {
        let (median, effects) = self.median.explain(row);
        // The ends never cross the median, whatever the separate models say.
        let low = (self.low.output(row) - self.widen).min(median);
        let high = (self.high.output(row) + self.widen).max(median);
        let minutes = |log: f64| log.exp_m1().max(0.0);
        let [z_low, z_high] = *self.normal_ends.0.get_or_init(|| {
            let [low_q, high_q] = self.interval;
            [normal_quantile(1.0 - low_q), normal_quantile(high_q)].map(|z| z.max(1e-6))
        });
        let spread_below = (median - low) / z_low;
        let spread_above = (high - median) / z_high;
        let within = |spread: f64| {
            if spread <= 0.0 {
                0.5
            } else {
                normal_cdf(std::f64::consts::LN_2 / spread) - 0.5
            }
        };
        ResolutionEstimate {
            minutes: minutes(median),
            low: minutes(low),
            high: minutes(high),
            within_factor_2: within(spread_below) + within(spread_above),
            effects,
        }
    }
}

/// The SLA-breach model: log loss over the same bins. `None` when the
/// history has no SLA outcomes, or only one kind.
pub fn fit_breach(
    features: &Features,
    breached: &[bool],
    settings: &TrainSettings,
    on_tree: &mut dyn FnMut(),
) -> Result<Option<Booster>, TrainError> {
    let breaches = breached.iter().filter(|&&b| b).count();
    if breaches == 0 || breaches == breached.len() {
        if !breached.is_empty() {
            tracing::warn!("every SLA outcome in the history is the same: no SLA-breach model");
        }
        return Ok(None);
    }
    let target: Vec<f64> = breached.iter().map(|&b| f64::from(u8::from(b))).collect();
    support_boost::fit(features, &target, Loss::LogLoss, &settings.trees, on_tree)
        .map(Some)
        .map_err(|e| TrainError::Fit(format!("SLA breach: {e}")))
}
