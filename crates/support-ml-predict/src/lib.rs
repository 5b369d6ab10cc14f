//! support-ml-predict: resolution time, SLA-breach risk, satisfaction and
//! the group and agent to assign, learned from a team's own closed tickets.
//!
//! `train` reads history (CSV, JSON Lines or the support-store database) in
//! one of the configured formats, and fits gradient-boosted trees
//! (support-boost) for the resolution time (quantile loss: the median and
//! the interval) and the SLA breach (log loss), and with linfa multinomial
//! logistic regression for group and agent, ridge regression for the rating. The model file (JSON) carries
//! its version and the feature schema it reads. Before any training the tool
//! answers from embedded priors per priority, marked `"source": "default"`.

pub mod boosted;
mod config;
pub mod encode;
pub mod evaluate;
pub mod fields;
pub mod history;
pub mod linear;
pub mod model;
mod output;
mod predict;
pub mod schema;
mod stats;
pub mod train;

pub use config::{
    AgentSettings, AgentWeights, ClassifierSettings, CsatSettings, FormatConfig, MlPredictConfig,
    Prior, Priors, TrainSettings, DEFAULT_CONFIG, EMBEDDED_CONFIG,
};
pub use output::{
    Candidate, Effect, Estimate, Interval, Predictions, Recommendation, Risk, Source,
};
pub use predict::{Predictor, DEFAULT_MODEL_NAME};
pub use train::{train, TrainError};
