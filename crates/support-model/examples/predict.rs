//! Loads a model file and classifies texts: the one given with `--text`, or
//! else every line of standard input. Prints one JSON object per text with
//! the top labels and the reasons for the best one.
//!
//! cargo run --release -p support-model --example predict -- --model model.bin --text "¿Dónde está mi reembolso?"

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::Parser;
use support_model::Model;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    text: Option<String>,
    /// Labels to show, most probable first.
    #[arg(long, default_value_t = 3)]
    top: usize,
    /// Reasons to show for the best label.
    #[arg(long, default_value_t = 3)]
    reasons: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let bytes = std::fs::read(&args.model).map_err(|e| format!("{}: {e}", args.model.display()))?;
    let model = Model::from_bytes(&bytes).map_err(|e| format!("{}: {e}", args.model.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut classify = |text: &str| -> std::io::Result<()> {
        let prediction = model.predict(text);
        let best = prediction.best();
        let reasons = match args.reasons {
            0 => Vec::new(),
            limit => model.explain(text, best.label, limit).unwrap_or_default(),
        };
        let line = serde_json::json!({
            "label": best.label,
            "confidence": best.probability,
            "top": &prediction.ranked[..args.top.min(prediction.ranked.len())],
            "reasons": reasons,
        });
        writeln!(out, "{line}")
    };
    match &args.text {
        Some(text) => classify(text)?,
        None => {
            for line in std::io::stdin().lock().lines() {
                classify(&line?)?;
            }
        }
    }
    Ok(())
}
