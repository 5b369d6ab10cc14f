//! STUB: `evaluate --data FILE.csv`.
use std::path::Path;

use crate::Analyzer;

pub fn evaluate_csv(_a: &Analyzer, _data: &Path, _text: &str, _label: &str) -> anyhow::Result<serde_json::Value> {
    anyhow::bail!("not implemented yet")
}
