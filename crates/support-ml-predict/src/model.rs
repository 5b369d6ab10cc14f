//! The model file: what was learned from history, its version and the
//! feature schema it reads, as compact JSON.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::boosted::Resolution;
use crate::encode::OneHot;
use crate::linear::{Multinomial, Ridge};
use crate::schema::{Inputs, Schema};
use crate::stats::{median, round_to};

/// Names the file as ours.
pub const MODEL_KIND: &str = "support-ml-predict";
/// Raised whenever a model file changes shape; older files are refused with a clear message.
pub const MODEL_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub kind: String,
    pub version: u32,
    pub trained: Trained,
    pub schema: Schema,
    pub onehot: OneHot,
    pub baseline: Baseline,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_breach: Option<support_boost::Booster>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<Ridge>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Multinomial>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentModel>,
}

/// What the model learned from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trained {
    /// The history's file or database (no password).
    pub data: String,
    /// Version of the tool that trained it.
    pub tool_version: String,
    /// Records read, and how many had each target.
    pub examples: Examples,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Examples {
    pub records: usize,
    pub resolution_minutes: usize,
    pub sla_breach: usize,
    pub csat: usize,
    pub group: usize,
    pub agent: usize,
}

/// The naive baseline `evaluate` compares with: the median resolution time
/// (and the breach rate) per category and priority of the training data,
/// falling back to the priority's, then to the overall figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Input indices of the category and priority features.
    pub features: [usize; 2],
    pub cells: BTreeMap<String, Cell>,
    pub by_priority: BTreeMap<String, Cell>,
    pub overall: Cell,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach_rate: Option<f64>,
}

impl Baseline {
    pub fn fit(features: [usize; 2], rows: &[(&Inputs, Option<f64>, Option<bool>)]) -> Baseline {
        #[derive(Default)]
        struct Acc {
            minutes: Vec<f64>,
            breaches: Vec<bool>,
        }
        fn cell(acc: &Acc) -> Cell {
            Cell {
                minutes: (!acc.minutes.is_empty()).then(|| round_to(median(&acc.minutes), 1)),
                breach_rate: (!acc.breaches.is_empty()).then(|| {
                    let breached = acc.breaches.iter().filter(|&&b| b).count();
                    round_to(breached as f64 / acc.breaches.len() as f64, 4)
                }),
            }
        }
        let mut cells: BTreeMap<String, Acc> = BTreeMap::new();
        let mut by_priority: BTreeMap<String, Acc> = BTreeMap::new();
        let mut overall = Acc::default();
        for (inputs, minutes, breached) in rows {
            for acc in [
                cells.entry(Self::key(features, inputs)).or_default(),
                by_priority
                    .entry(inputs.0[features[1]].clone())
                    .or_default(),
                &mut overall,
            ] {
                acc.minutes.extend(minutes);
                acc.breaches.extend(breached);
            }
        }
        Baseline {
            features,
            cells: cells.iter().map(|(k, a)| (k.clone(), cell(a))).collect(),
            by_priority: by_priority
                .iter()
                .map(|(k, a)| (k.clone(), cell(a)))
                .collect(),
            overall: cell(&overall),
        }
    }

    fn key(features: [usize; 2], inputs: &Inputs) -> String {
        format!("{}\u{1f}{}", inputs.0[features[0]], inputs.0[features[1]])
    }

    /// The most specific figure `get` finds: cell, priority, overall.
    fn lookup(&self, inputs: &Inputs, get: impl Fn(&Cell) -> Option<f64>) -> Option<f64> {
        self.cells
            .get(&Self::key(self.features, inputs))
            .and_then(&get)
            .or_else(|| {
                self.by_priority
                    .get(&inputs.0[self.features[1]])
                    .and_then(&get)
            })
            .or_else(|| get(&self.overall))
    }

    pub fn minutes(&self, inputs: &Inputs) -> Option<f64> {
        self.lookup(inputs, |c| c.minutes)
    }

    pub fn breach_rate(&self, inputs: &Inputs) -> Option<f64> {
        self.lookup(inputs, |c| c.breach_rate)
    }
}

/// Who handles tickets of a kind, and how each agent did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentModel {
    pub classifier: Multinomial,
    /// In the classifier's class order.
    pub profiles: Vec<AgentProfile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentProfile {
    /// Median of log((1 + actual) / (1 + expected minutes)) over the agent's
    /// resolved tickets: below 0 is faster than expected for those tickets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// Mean rating, shrunk towards the overall mean by five pseudo-ratings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<f64>,
    pub ratings: usize,
}

/// Why a model file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model {path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path} is not a support-ml-predict model ({message}); train one with `support-ml-predict train --data FILE --out MODEL`")]
    NotAModel { path: String, message: String },
    #[error("{path} is a model of format version {found}; this support-ml-predict reads version {MODEL_VERSION}: retrain it with `support-ml-predict train`")]
    Version { path: String, found: u32 },
}

impl Model {
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).expect("models serialize");
        bytes.push(b'\n');
        bytes
    }

    pub fn load(path: &Path) -> Result<Model, ModelError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|error| ModelError::Io {
            path: name.clone(),
            error,
        })?;
        Model::from_json(&name, &bytes)
    }

    /// Reads a model, checking its kind and version before its shape.
    pub fn from_json(name: &str, bytes: &[u8]) -> Result<Model, ModelError> {
        #[derive(Deserialize)]
        struct Header {
            kind: String,
            version: u32,
        }
        let not_a_model = |message: String| ModelError::NotAModel {
            path: name.to_string(),
            message,
        };
        let header: Header =
            serde_json::from_slice(bytes).map_err(|e| not_a_model(e.to_string()))?;
        if header.kind != MODEL_KIND {
            return Err(not_a_model(format!("kind is {:?}", header.kind)));
        }
        if header.version != MODEL_VERSION {
            return Err(ModelError::Version {
                path: name.to_string(),
                found: header.version,
            });
        }
        let model: Model = serde_json::from_slice(bytes).map_err(|e| not_a_model(e.to_string()))?;
        model.check().map_err(not_a_model)?;
        Ok(model)
    }

    /// Checks that the parts agree on the features and columns a ticket
    /// gives them, so that a damaged or hand-edited file is refused here
    /// rather than failing on a ticket.
    fn check(&self) -> Result<(), String> {
        let width = self.onehot.vocabularies.len();
        if self
            .onehot
            .vocabularies
            .iter()
            .any(|v| v.len() >= usize::from(u16::MAX))
        {
            return Err("a feature has more values than a model can hold".into());
        }
        if self.schema.width() != width {
            return Err(format!(
                "its schema reads {} features, its vocabularies have {width}",
                self.schema.width()
            ));
        }
        if self.baseline.features.iter().any(|&f| f >= width) {
            return Err("its baseline reads a feature it does not have".into());
        }
        let boosters = self
            .resolution
            .iter()
            .flat_map(|r| [&r.median, &r.low, &r.high])
            .chain(&self.sla_breach);
        for booster in boosters {
            booster.check().map_err(|e| e.to_string())?;
            if booster.width != width {
                return Err(format!(
                    "its trees read {} features, its vocabularies have {width}",
                    booster.width
                ));
            }
        }
        let columns = self.onehot.width();
        if let Some(csat) = &self.csat {
            if csat.weights.len() != columns {
                return Err("its rating model has weights for other columns".into());
            }
        }
        let classifiers = self
            .group
            .iter()
            .chain(self.agent.as_ref().map(|a| &a.classifier));
        for classifier in classifiers {
            let classes = classifier.classes.len();
            if classes == 0
                || classifier.intercepts.len() != classes
                || classifier.counts.len() != classes
                || classifier.weights.len() != classes
                || classifier.weights.iter().any(|w| w.len() != columns)
            {
                return Err("a classifier's classes and weights disagree".into());
            }
        }
        if let Some(agents) = &self.agent {
            if agents.profiles.len() != agents.classifier.classes.len() {
                return Err("its agent profiles and agents disagree".into());
            }
        }
        Ok(())
    }
}
