//! `train`: every model that the history has targets for.

use indicatif::ProgressBar;

use crate::boosted::{fit_breach, Resolution};
use crate::config::{FormatConfig, TrainSettings};
use crate::encode::{Column, OneHot};
use crate::history::{History, Row};
use crate::linear::{Multinomial, Ridge};
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

/// Boosted models: the resolution time's three quantiles and the SLA breach.
const BOOSTERS: u64 = 4;
/// Linear models: group, agent, rating, and the agents' profiles.
const LINEAR_STEPS: u64 = 4;

/// The steps `train` counts on its progress bar: every tree the boosted
/// models may grow (what early stopping leaves ungrown is skipped), then
/// each linear model.
pub fn progress_steps(settings: &TrainSettings) -> u64 {
    BOOSTERS * settings.trees.max_iterations as u64 + LINEAR_STEPS
}

/// Seconds each model took to fit, by target, in training order.
pub type Seconds = Vec<(&'static str, f64)>;

/// Runs `step`, adding its wall time to `seconds` under `target`.
fn clocked<T>(seconds: &mut Seconds, target: &'static str, step: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let result = step();
    seconds.push((target, round_to(started.elapsed().as_secs_f64(), 3)));
    result
}

/// Trains on `history`, read with `format`'s mapping, counting
/// [`progress_steps`] on `progress`.
pub fn train(
    history: &History,
    format: &FormatConfig,
    settings: &TrainSettings,
    progress: &ProgressBar,
) -> Result<(Model, Seconds), TrainError> {
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

    let onehot = OneHot::fit(&inputs, schema.width(), settings.min_count);
    let mut seconds = Seconds::new();
    let per_booster = settings.trees.max_iterations as u64;
    let mut on_tree = || progress.inc(1);
    let timed: Vec<&Row> = rows
        .iter()
        .filter(|r| r.targets.minutes.is_some())
        .collect();
    let resolution = if timed.is_empty() {
        None
    } else {
        tracing::info!(rows = timed.len(), "boosting the resolution-time trees");
        let timed_inputs: Vec<&Inputs> = timed.iter().map(|r| &r.inputs).collect();
        let minutes: Vec<f64> = timed.iter().filter_map(|r| r.targets.minutes).collect();
        let features = onehot.features(&timed_inputs);
        Some(clocked(&mut seconds, "resolution_minutes", || {
            Resolution::fit(&features, &minutes, settings, &mut on_tree)
        })?)
    };
    // What early stopping left ungrown is skipped.
    progress.set_position(3 * per_booster);

    tracing::info!("boosting the SLA-breach trees");
    let (with_outcome, breached): (Vec<&Inputs>, Vec<bool>) = rows
        .iter()
        .filter_map(|r| Some((&r.inputs, r.targets.breached?)))
        .unzip();
    let features = onehot.features(&with_outcome);
    let sla_breach = clocked(&mut seconds, "sla_breach", || {
        fit_breach(&features, &breached, settings, &mut on_tree)
    })?;
    progress.set_position(BOOSTERS * per_booster);

    // Each row's active one-hot columns, the sparse rows of both classifiers.
    let active: Vec<Vec<Column>> = inputs.iter().map(|i| onehot.columns(i)).collect();

    tracing::info!("fitting the group model");
    let groups: Vec<Option<&str>> = rows.iter().map(|r| r.targets.group.as_deref()).collect();
    let group = clocked(&mut seconds, "group", || {
        Multinomial::fit(&active, onehot.width(), &groups, &settings.classifier)
    })?;
    progress.inc(1);

    tracing::info!("fitting the agent model");
    let agent = clocked(&mut seconds, "agent", || {
        fit_agents(&active, rows, &onehot, resolution.as_ref(), settings)
    })?;
    progress.inc(1);

    tracing::info!("fitting the satisfaction model");
    let csat = clocked(&mut seconds, "csat", || fit_csat(&onehot, rows, settings))?;
    progress.inc(1);

    let model = Model {
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
    };
    Ok((model, seconds))
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

fn fit_csat(
    onehot: &OneHot,
    rows: &[Row],
    settings: &TrainSettings,
) -> Result<Option<Ridge>, TrainError> {
    let (rated, ratings): (Vec<&Inputs>, Vec<f64>) = rows
        .iter()
        .filter_map(|r| Some((&r.inputs, r.targets.csat?)))
        .unzip();
    if ratings.len() < settings.csat.min_examples.max(2) {
        if !ratings.is_empty() {
            tracing::warn!(
                ratings = ratings.len(),
                "too few ratings for a satisfaction model"
            );
        }
        return Ok(None);
    }
    // Dense, as linfa's ridge takes it: only the rated rows.
    Ridge::fit(
        &onehot.matrix(&rated),
        &ratings,
        settings.csat.alpha,
        settings.interval,
    )
    .map(Some)
}

/// The agent classifier, and per agent how fast (against the resolution
/// model's expectation for the same tickets) and how well rated they were.
fn fit_agents(
    active: &[Vec<Column>],
    rows: &[Row],
    onehot: &OneHot,
    resolution: Option<&Resolution>,
    settings: &TrainSettings,
) -> Result<Option<AgentModel>, TrainError> {
    let agents: Vec<Option<&str>> = rows.iter().map(|r| r.targets.agent.as_deref()).collect();
    let Some(classifier) = Multinomial::fit(active, onehot.width(), &agents, &settings.classifier)?
    else {
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
                Some(resolution) => theirs
                    .iter()
                    .filter_map(|r| {
                        let actual = r.targets.minutes?;
                        // The model's log(1 + minutes), as its estimate clamps it.
                        let expected = resolution.median.output(&onehot.bins(&r.inputs)).max(0.0);
                        Some(actual.ln_1p() - expected)
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
