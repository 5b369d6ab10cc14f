//! `train`: every model that the history has targets for.

use indicatif::ProgressBar;
use ndarray::{Array2, Axis};

use crate::config::{FormatConfig, TrainSettings};
use crate::encode::OneHot;
use crate::forest::Forest;
use crate::history::{History, Row};
use crate::linear::{Logistic, Multinomial, Ridge};
use crate::model::{
    AgentModel, AgentProfile, Baseline, Examples, Model, Trained, MODEL_KIND, MODEL_VERSION,
};
use crate::schema::Inputs;
use crate::stats::{median, round_to};

/// Why a model could not be trained.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{origin}: no record has a resolution time, an SLA outcome, a rating, a group or an agent to learn from; check the field mapping with --print-config")]
    NoTargets { origin: String },
    #[error("the baseline feature `{0}` is not a feature of the format")]
    BaselineFeature(String),
    #[error("training failed: {0}")]
    Fit(String),
}

/// Steps the progress bar counts besides the trees.
pub const LINEAR_STEPS: u64 = 4;

/// Trains on `history`, read with `format`'s mapping. `progress` advances by
/// one per tree and per linear model.
pub fn train(
    history: &History,
    format: &FormatConfig,
    settings: &TrainSettings,
    progress: &ProgressBar,
) -> Result<Model, TrainError> {
    let schema = history.schema.clone();
    let rows = &history.rows;
    let examples = count(rows);
    if examples.resolution_minutes
        + examples.sla_breach
        + examples.csat
        + examples.group
        + examples.agent
        == 0
    {
        return Err(TrainError::NoTargets {
            origin: history.origin.clone(),
        });
    }
    let names = schema.names();
    let baseline_features = format
        .baseline
        .clone()
        .map(|name| names.iter().position(|n| *n == name).ok_or(name));
    let baseline_features = match baseline_features {
        [Ok(category), Ok(priority)] => [category, priority],
        [Err(name), _] | [_, Err(name)] => return Err(TrainError::BaselineFeature(name)),
    };
    let inputs: Vec<&Inputs> = rows.iter().map(|r| &r.inputs).collect();
    let baseline_rows: Vec<_> = rows
        .iter()
        .map(|r| (&r.inputs, r.targets.minutes, r.targets.breached))
        .collect();
    let baseline = Baseline::fit(baseline_features, &baseline_rows);

    let timed: Vec<&Row> = rows
        .iter()
        .filter(|r| r.targets.minutes.is_some())
        .collect();
    let resolution = if timed.is_empty() {
        None
    } else {
        tracing::info!(
            rows = timed.len(),
            trees = settings.forest.trees,
            "growing the resolution-time trees"
        );
        let timed_inputs: Vec<&Inputs> = timed.iter().map(|r| &r.inputs).collect();
        let minutes: Vec<f64> = timed.iter().filter_map(|r| r.targets.minutes).collect();
        Some(Forest::fit(
            &timed_inputs,
            &minutes,
            schema.width(),
            settings,
            &|| progress.inc(1),
        )?)
    };

    let onehot = OneHot::fit(&inputs, schema.width(), settings.min_count);
    let x = onehot.matrix(&inputs);

    tracing::info!(columns = onehot.width(), "fitting the SLA-breach model");
    let sla_breach = fit_sla(&x, rows, settings)?;
    progress.inc(1);

    tracing::info!("fitting the group model");
    let groups: Vec<Option<&str>> = rows.iter().map(|r| r.targets.group.as_deref()).collect();
    let group = Multinomial::fit(&x, &groups, &settings.classifier)?;
    progress.inc(1);

    tracing::info!("fitting the agent model");
    let agent = fit_agents(&x, rows, resolution.as_ref(), settings)?;
    progress.inc(1);

    tracing::info!("fitting the satisfaction model");
    let csat = fit_csat(&x, rows, settings)?;
    progress.inc(1);

    Ok(Model {
        kind: MODEL_KIND.to_string(),
        version: MODEL_VERSION,
        trained: Trained {
            data: history.origin.clone(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            examples,
        },
        schema,
        onehot,
        baseline,
        resolution,
        sla_breach,
        csat,
        group,
        agent,
    })
}

fn count(rows: &[Row]) -> Examples {
    let n = |f: &dyn Fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count();
    Examples {
        records: rows.len(),
        resolution_minutes: n(&|r| r.targets.minutes.is_some()),
        sla_breach: n(&|r| r.targets.breached.is_some()),
        csat: n(&|r| r.targets.csat.is_some()),
        group: n(&|r| r.targets.group.is_some()),
        agent: n(&|r| r.targets.agent.is_some()),
    }
}

/// The rows of `x` where `target` is known, and those targets.
fn known<T: Copy>(
    x: &Array2<f64>,
    rows: &[Row],
    target: impl Fn(&Row) -> Option<T>,
) -> (Array2<f64>, Vec<T>) {
    let (index, values): (Vec<usize>, Vec<T>) = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| Some((i, target(r)?)))
        .unzip();
    (x.select(Axis(0), &index), values)
}

/// None when the history has no SLA outcomes, or only one kind.
fn fit_sla(
    x: &Array2<f64>,
    rows: &[Row],
    settings: &TrainSettings,
) -> Result<Option<Logistic>, TrainError> {
    let (records, breached) = known(x, rows, |r| r.targets.breached);
    let breaches = breached.iter().filter(|&&b| b).count();
    if breaches == 0 || breaches == breached.len() {
        if !breached.is_empty() {
            tracing::warn!("every SLA outcome in the history is the same: no SLA-breach model");
        }
        return Ok(None);
    }
    Logistic::fit(&records, &breached, &settings.sla).map(Some)
}

fn fit_csat(
    x: &Array2<f64>,
    rows: &[Row],
    settings: &TrainSettings,
) -> Result<Option<Ridge>, TrainError> {
    let (records, ratings) = known(x, rows, |r| r.targets.csat);
    if ratings.len() < settings.csat.min_examples.max(2) {
        if !ratings.is_empty() {
            tracing::warn!(
                ratings = ratings.len(),
                "too few ratings for a satisfaction model"
            );
        }
        return Ok(None);
    }
    Ridge::fit(
        &records,
        &ratings,
        settings.csat.alpha,
        settings.forest.interval,
    )
    .map(Some)
}

/// The agent classifier, and per agent how fast (against the forest's
/// expectation for the same tickets) and how well rated they were.
fn fit_agents(
    x: &Array2<f64>,
    rows: &[Row],
    resolution: Option<&Forest>,
    settings: &TrainSettings,
) -> Result<Option<AgentModel>, TrainError> {
    let agents: Vec<Option<&str>> = rows.iter().map(|r| r.targets.agent.as_deref()).collect();
    let Some(classifier) = Multinomial::fit(x, &agents, &settings.classifier)? else {
        return Ok(None);
    };
    let ratings: Vec<f64> = rows.iter().filter_map(|r| r.targets.csat).collect();
    let overall_csat =
        (!ratings.is_empty()).then(|| ratings.iter().sum::<f64>() / ratings.len() as f64);
    const PSEUDO_RATINGS: f64 = 5.0;
    let profiles = classifier
        .classes
        .iter()
        .map(|agent| {
            let theirs: Vec<&Row> = rows
                .iter()
                .filter(|r| r.targets.agent.as_deref() == Some(agent.as_str()))
                .collect();
            let speeds: Vec<f64> = match resolution {
                Some(forest) => theirs
                    .iter()
                    .filter_map(|r| {
                        let actual = r.targets.minutes?;
                        let expected = forest.estimate(&r.inputs).minutes;
                        Some(actual.ln_1p() - expected.ln_1p())
                    })
                    .collect(),
                None => Vec::new(),
            };
            let own: Vec<f64> = theirs.iter().filter_map(|r| r.targets.csat).collect();
            let csat = overall_csat.filter(|_| !own.is_empty()).map(|prior| {
                let shrunk = (own.iter().sum::<f64>() + PSEUDO_RATINGS * prior)
                    / (own.len() as f64 + PSEUDO_RATINGS);
                round_to(shrunk, 3)
            });
            AgentProfile {
                speed: (!speeds.is_empty()).then(|| round_to(median(&speeds), 3)),
                csat,
                ratings: own.len(),
            }
        })
        .collect();
    Ok(Some(AgentModel {
        classifier,
        profiles,
    }))
}
