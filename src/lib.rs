//! The support triage tools as a product: every binary (`src/bin/`), the
//! registry of the stream tools, the triage chain built from it, the
//! composition that gives a tool run alone the earlier results it needs,
//! the JSON Schemas, the `train` command the learning tools share, and the
//! `--store-models` flag that gives them the models promoted in the store.

pub mod allocator;
pub mod chain;
pub mod compose;
pub mod registry;
pub mod schemas;
pub mod store_models;
pub mod training;

pub use registry::{ToolInfo, TOOLS};
pub use schemas::schemas;
