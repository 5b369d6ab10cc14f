//! `evaluate`: every prediction against held-out history, next to a naive
//! baseline. Resolution time: MAE, median absolute error and R² beside the
//! median per category and priority. SLA breach: AUC, Brier score and a
//! calibration table beside the breach rate per category and priority.
//! Group and agent: top-1 and top-3 accuracy beside the most frequent ones.
//! Satisfaction: MAE beside the overall mean.

use std::fmt::Write as _;

use rayon::prelude::*;
use serde::Serialize;

use crate::history::{History, Row};
use crate::linear::Multinomial;
use crate::model::Model;
use crate::stats::{quantile, round_to};

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub data: String,
    pub model: String,
    pub records: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution_minutes: Option<ResolutionReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla_breach: Option<SlaReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csat: Option<CsatReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<RankReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<RankReport>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Scores {
    pub mae: f64,
    pub median_ae: f64,
    pub r2: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolutionReport {
    pub examples: usize,
    pub model: Scores,
    /// The median resolution time of the training tickets of the same
    /// category and priority (else of the priority, else of all).
    pub baseline: Scores,
    /// 1 - model MAE / baseline MAE: the share of the baseline's error removed.
    pub mae_improvement: f64,
    /// The interval's nominal level and the share of true times inside it.
    pub interval_level: f64,
    pub interval_coverage: f64,
    /// The median model's features by their share of its splits' gain.
    pub feature_importance: Vec<Importance>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Importance {
    pub feature: String,
    pub share: f64,
}

/// The features of a boosted model, largest share of gain first.
fn importance(model: &Model, trees: &support_boost::Booster) -> Vec<Importance> {
    let names = model.schema.names();
    let mut shares: Vec<Importance> = names
        .iter()
        .zip(&trees.importance)
        .map(|(name, &share)| Importance {
            feature: name.to_string(),
            share: round_to(share, 4),
        })
        .collect();
    shares.sort_by(|a, b| b.share.total_cmp(&a.share));
    shares
}

fn importance_line(shares: &[Importance]) -> String {
    let parts: Vec<String> = shares
        .iter()
        .map(|i| format!("{} {:.2}", i.feature, i.share))
        .collect();
    format!(
        "  features by share of the trees' gain: {}",
        parts.join(", ")
    )
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct RiskScores {
    pub auc: f64,
    pub brier: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlaReport {
    pub examples: usize,
    pub breach_rate: f64,
    pub model: RiskScores,
    /// The breach rate of the training tickets of the same category and priority.
    pub baseline: RiskScores,
    /// Tickets by predicted probability (tenths): mean predicted against observed.
    pub calibration: Vec<CalibrationBin>,
    /// The model's features by their share of its splits' gain.
    pub feature_importance: Vec<Importance>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CalibrationBin {
    pub from: f64,
    pub to: f64,
    pub tickets: usize,
    pub mean_predicted: f64,
    pub observed: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankReport {
    pub examples: usize,
    /// Classes the model can recommend.
    pub classes: usize,
    /// True answers the model cannot give (too rare or unseen in training); counted as misses.
    pub unknown: usize,
    /// The true answer is the model's first pick, or among its first three.
    pub top1: f64,
    pub top3: f64,
    /// The same for always answering the most frequent ones in training.
    pub baseline_top1: f64,
    pub baseline_top3: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CsatReport {
    pub examples: usize,
    pub mae: f64,
    /// MAE of always predicting the training mean.
    pub baseline_mae: f64,
}

/// Evaluates `model` on `history` (read with the model's schema).
pub fn evaluate(model: &Model, model_name: &str, history: &History) -> Evaluation {
    let rows = &history.rows;
    Evaluation {
        data: history.origin.clone(),
        model: model_name.to_string(),
        records: rows.len(),
        resolution_minutes: resolution(model, rows),
        sla_breach: sla(model, rows),
        csat: csat(model, rows),
        group: model
            .group
            .as_ref()
            .and_then(|c| rank(c, model, rows, |r| r.targets.group.as_deref())),
        agent: model
            .agent
            .as_ref()
            .and_then(|a| rank(&a.classifier, model, rows, |r| r.targets.agent.as_deref())),
    }
}

fn scores(pairs: &[(f64, f64)]) -> Scores {
    let n = pairs.len() as f64;
    let mut errors: Vec<f64> = pairs.iter().map(|(p, y)| (p - y).abs()).collect();
    errors.sort_by(f64::total_cmp);
    let mean = pairs.iter().map(|(_, y)| y).sum::<f64>() / n;
    let total: f64 = pairs.iter().map(|(_, y)| (y - mean).powi(2)).sum();
    let residual: f64 = pairs.iter().map(|(p, y)| (y - p).powi(2)).sum();
    Scores {
        mae: round_to(errors.iter().sum::<f64>() / n, 1),
        median_ae: round_to(quantile(&errors, 0.5), 1),
        r2: round_to(1.0 - residual / total, 4),
    }
}

fn resolution(model: &Model, rows: &[Row]) -> Option<ResolutionReport> {
    let resolution = model.resolution.as_ref()?;
    let outcomes: Vec<(f64, f64, f64, bool)> = rows
        .par_iter()
        .filter_map(|row| {
            let truth = row.targets.minutes?;
            let estimate = resolution.estimate(&model.onehot.bins(&row.inputs));
            let baseline = model.baseline.minutes(&row.inputs)?;
            let inside = (estimate.low..=estimate.high).contains(&truth);
            Some((truth, estimate.minutes, baseline, inside))
        })
        .collect();
    if outcomes.is_empty() {
        return None;
    }
    let ours: Vec<(f64, f64)> = outcomes.iter().map(|o| (o.1, o.0)).collect();
    let naive: Vec<(f64, f64)> = outcomes.iter().map(|o| (o.2, o.0)).collect();
    let (ours, naive) = (scores(&ours), scores(&naive));
    let inside = outcomes.iter().filter(|o| o.3).count();
    Some(ResolutionReport {
        examples: outcomes.len(),
        model: ours,
        baseline: naive,
        mae_improvement: round_to(1.0 - ours.mae / naive.mae, 4),
        interval_level: round_to(resolution.interval[1] - resolution.interval[0], 3),
        interval_coverage: round_to(inside as f64 / outcomes.len() as f64, 4),
        feature_importance: importance(model, &resolution.median),
    })
}

fn sla(model: &Model, rows: &[Row]) -> Option<SlaReport> {
    let trees = model.sla_breach.as_ref()?;
    let outcomes: Vec<(bool, f64, f64)> = rows
        .par_iter()
        .filter_map(|row| {
            let truth = row.targets.breached?;
            let p = trees.probability(&model.onehot.bins(&row.inputs));
            let baseline = model.baseline.breach_rate(&row.inputs)?;
            Some((truth, p, baseline))
        })
        .collect();
    if outcomes.is_empty() {
        return None;
    }
    let risk = |pick: fn(&(bool, f64, f64)) -> f64| {
        let scored: Vec<(f64, bool)> = outcomes.iter().map(|o| (pick(o), o.0)).collect();
        RiskScores {
            auc: round_to(auc(&scored), 4),
            brier: round_to(brier(&scored), 4),
        }
    };
    let breaches = outcomes.iter().filter(|o| o.0).count();
    Some(SlaReport {
        examples: outcomes.len(),
        breach_rate: round_to(breaches as f64 / outcomes.len() as f64, 4),
        model: risk(|o| o.1),
        baseline: risk(|o| o.2),
        calibration: calibration(&outcomes.iter().map(|o| (o.1, o.0)).collect::<Vec<_>>()),
        feature_importance: importance(model, trees),
    })
}

/// Area under the ROC curve: the chance that a random breach scores above a
/// random non-breach (ties count half). NaN with only one kind of outcome.
pub fn auc(scored: &[(f64, bool)]) -> f64 {
    let mut order: Vec<usize> = (0..scored.len()).collect();
    order.sort_by(|&a, &b| scored[a].0.total_cmp(&scored[b].0));
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scored[order[j + 1]].0 == scored[order[i]].0 {
            j += 1;
        }
        // Tied scores share the mean of their ranks (1-based).
        let rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += rank * order[i..=j].iter().filter(|&&k| scored[k].1).count() as f64;
        i = j + 1;
    }
    let positives = scored.iter().filter(|s| s.1).count() as f64;
    let negatives = scored.len() as f64 - positives;
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

pub fn brier(scored: &[(f64, bool)]) -> f64 {
    scored
        .iter()
        .map(|&(p, y)| (p - if y { 1.0 } else { 0.0 }).powi(2))
        .sum::<f64>()
        / scored.len() as f64
}

/// Ten bins of predicted probability; empty bins are left out.
pub fn calibration(scored: &[(f64, bool)]) -> Vec<CalibrationBin> {
    (0..10)
        .filter_map(|bin| {
            let from = bin as f64 / 10.0;
            let to = from + 0.1;
            let inside: Vec<&(f64, bool)> = scored
                .iter()
                .filter(|(p, _)| *p >= from && (*p < to || (bin == 9 && *p <= 1.0)))
                .collect();
            if inside.is_empty() {
                return None;
            }
            let n = inside.len() as f64;
            Some(CalibrationBin {
                from: round_to(from, 1),
                to: round_to(to, 1),
                tickets: inside.len(),
                mean_predicted: round_to(inside.iter().map(|s| s.0).sum::<f64>() / n, 4),
                observed: round_to(inside.iter().filter(|s| s.1).count() as f64 / n, 4),
            })
        })
        .collect()
}

fn rank(
    classifier: &Multinomial,
    model: &Model,
    rows: &[Row],
    truth: impl Fn(&Row) -> Option<&str> + Sync,
) -> Option<RankReport> {
    let hits: Vec<(bool, bool, bool)> = rows
        .par_iter()
        .filter_map(|row| {
            let truth = truth(row)?;
            let p = classifier.probabilities(&model.onehot.columns(&row.inputs));
            let ranked = Multinomial::top(&p, 3);
            let position = ranked.iter().position(|&k| classifier.classes[k] == truth);
            let known = classifier.classes.iter().any(|c| c == truth);
            Some((position == Some(0), position.is_some_and(|i| i < 3), known))
        })
        .collect();
    if hits.is_empty() {
        return None;
    }
    let by_frequency = Multinomial::top(
        &classifier
            .counts
            .iter()
            .map(|&c| c as f64)
            .collect::<Vec<_>>(),
        3,
    );
    let frequent: Vec<&str> = by_frequency
        .iter()
        .map(|&k| classifier.classes[k].as_str())
        .collect();
    let truths: Vec<&str> = rows.iter().filter_map(&truth).collect();
    let n = hits.len() as f64;
    let share = |count: usize| round_to(count as f64 / n, 4);
    Some(RankReport {
        examples: hits.len(),
        classes: classifier.classes.len(),
        unknown: hits.iter().filter(|h| !h.2).count(),
        top1: share(hits.iter().filter(|h| h.0).count()),
        top3: share(hits.iter().filter(|h| h.1).count()),
        baseline_top1: share(truths.iter().filter(|t| frequent[..1].contains(t)).count()),
        baseline_top3: share(
            truths
                .iter()
                .filter(|t| frequent[..frequent.len().min(3)].contains(t))
                .count(),
        ),
    })
}

fn csat(model: &Model, rows: &[Row]) -> Option<CsatReport> {
    let ridge = model.csat.as_ref()?;
    let errors: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|row| {
            let truth = row.targets.csat?;
            let predicted = ridge.predict(&model.onehot.columns(&row.inputs));
            Some(((predicted - truth).abs(), (ridge.mean - truth).abs()))
        })
        .collect();
    if errors.is_empty() {
        return None;
    }
    let n = errors.len() as f64;
    Some(CsatReport {
        examples: errors.len(),
        mae: round_to(errors.iter().map(|e| e.0).sum::<f64>() / n, 4),
        baseline_mae: round_to(errors.iter().map(|e| e.1).sum::<f64>() / n, 4),
    })
}

/// The evaluation as a table for people.
pub fn table(evaluation: &Evaluation) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} records of {}, model {}",
        evaluation.records, evaluation.data, evaluation.model
    );
    if let Some(r) = &evaluation.resolution_minutes {
        let _ = writeln!(
            out,
            "\nresolution minutes ({} tickets)          MAE   median AE       R²",
            r.examples
        );
        for (name, s) in [
            ("model", r.model),
            ("baseline: median per category+priority", r.baseline),
        ] {
            let _ = writeln!(
                out,
                "  {name:<38} {:>9.0} {:>11.0} {:>8.4}",
                s.mae, s.median_ae, s.r2
            );
        }
        let _ = writeln!(
            out,
            "  MAE {:.1}% lower than the baseline; the {:.0}% interval holds {:.1}% of true times",
            r.mae_improvement * 100.0,
            r.interval_level * 100.0,
            r.interval_coverage * 100.0
        );
        let _ = writeln!(out, "{}", importance_line(&r.feature_importance));
    }
    if let Some(s) = &evaluation.sla_breach {
        let _ = writeln!(
            out,
            "\nSLA breach ({} tickets, {:.1}% breached)            AUC    Brier",
            s.examples,
            s.breach_rate * 100.0
        );
        for (name, r) in [
            ("model", s.model),
            ("baseline: rate per category+priority", s.baseline),
        ] {
            let _ = writeln!(out, "  {name:<38} {:>9.4} {:>8.4}", r.auc, r.brier);
        }
        let _ = writeln!(
            out,
            "  calibration   predicted  tickets  mean predicted  observed"
        );
        for bin in &s.calibration {
            let _ = writeln!(
                out,
                "                {:.1}-{:.1} {:>8} {:>15.3} {:>9.3}",
                bin.from, bin.to, bin.tickets, bin.mean_predicted, bin.observed
            );
        }
        let _ = writeln!(out, "{}", importance_line(&s.feature_importance));
    }
    for (name, report) in [("group", &evaluation.group), ("agent", &evaluation.agent)] {
        if let Some(r) = report {
            let _ = writeln!(
                out,
                "\n{name} ({} tickets; {} the model can name, {} answers it cannot)   top-1    top-3",
                r.examples, r.classes, r.unknown
            );
            let _ = writeln!(out, "  {:<38} {:>9.4} {:>8.4}", "model", r.top1, r.top3);
            let _ = writeln!(
                out,
                "  {:<38} {:>9.4} {:>8.4}",
                "baseline: most frequent", r.baseline_top1, r.baseline_top3
            );
        }
    }
    if let Some(c) = &evaluation.csat {
        let _ = writeln!(
            out,
            "\nrating ({} tickets): MAE {:.3}, baseline (training mean) {:.3}",
            c.examples, c.mae, c.baseline_mae
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_pairs_and_ties() {
        let perfect = [(0.9, true), (0.8, true), (0.2, false), (0.1, false)];
        assert_eq!(auc(&perfect), 1.0);
        let reversed = [(0.1, true), (0.9, false)];
        assert_eq!(auc(&reversed), 0.0);
        let tied = [(0.5, true), (0.5, false)];
        assert_eq!(auc(&tied), 0.5);
        let mixed = [(0.9, true), (0.7, false), (0.6, true), (0.1, false)];
        assert_eq!(auc(&mixed), 0.75);
    }

    #[test]
    fn brier_and_calibration() {
        let scored = [(1.0, true), (0.0, false), (0.05, true), (0.95, true)];
        assert!((brier(&scored) - (0.9025 + 0.0025) / 4.0).abs() < 1e-12);
        let bins = calibration(&scored);
        assert_eq!(bins.len(), 2);
        assert_eq!(bins[0].tickets, 2);
        assert_eq!(bins[0].observed, 0.5);
        assert_eq!(bins[1].tickets, 2, "1.0 falls in the last bin");
    }

    #[test]
    fn regression_scores() {
        let s = scores(&[(1.0, 1.0), (2.0, 4.0), (3.0, 3.0)]);
        assert_eq!(s.mae, round_to(2.0 / 3.0, 1));
        assert_eq!(s.median_ae, 0.0);
        assert!(s.r2 < 1.0 && s.r2 > -1.0);
    }
}
