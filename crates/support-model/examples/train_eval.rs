//! Trains on one labelled file, evaluates on another, and prints accuracy,
//! macro-F1, training time, model size and prediction cost.
//!
//! cargo run --release -p support-model --example train_eval -- \
//!     --train train.csv --dev dev.csv [--text text] [--label label] [--save model.bin] [--json]

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use support_model::{load_examples, train, FeatureSettings, Model, TrainOptions};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    train: PathBuf,
    #[arg(long)]
    dev: PathBuf,
    /// Column (CSV) or field (JSON Lines) holding the text.
    #[arg(long, default_value = "text")]
    text: String,
    /// Column or field holding the label.
    #[arg(long, default_value = "label")]
    label: String,
    #[arg(long, default_value_t = TrainOptions::default().c)]
    c: f32,
    #[arg(long, default_value_t = TrainOptions::default().min_df)]
    min_df: u32,
    #[arg(long, default_value_t = TrainOptions::default().max_iterations)]
    max_iterations: u32,
    #[arg(long, default_value_t = FeatureSettings::default().hash_bits)]
    hash_bits: u8,
    /// Shortest character n-gram.
    #[arg(long, default_value_t = FeatureSettings::default().char_min)]
    char_min: u8,
    /// Longest character n-gram (0: none).
    #[arg(long, default_value_t = FeatureSettings::default().char_max)]
    char_max: u8,
    /// Write the trained model here.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let train_set = load_examples(&args.train, &args.text, &args.label)?;
    let dev_set = load_examples(&args.dev, &args.text, &args.label)?;
    let options = TrainOptions {
        features: FeatureSettings {
            hash_bits: args.hash_bits,
            char_min: args.char_min,
            char_max: args.char_max,
            ..FeatureSettings::default()
        },
        c: args.c,
        min_df: args.min_df,
        max_iterations: args.max_iterations,
    };
    let started = Instant::now();
    let model = train(&train_set, &options)?;
    let train_seconds = started.elapsed().as_secs_f64();
    let bytes = model.to_bytes();
    if let Some(path) = &args.save {
        std::fs::write(path, &bytes)?;
    }
    let started = Instant::now();
    let model = Model::from_bytes(&bytes)?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let report = model.evaluate(&dev_set, &[0.9, 0.95]);
    // One thread, one text at a time: the cost a CLI pays per ticket.
    let started = Instant::now();
    for example in &dev_set {
        std::hint::black_box(model.predict(&example.text));
    }
    let predict_us = started.elapsed().as_secs_f64() * 1e6 / dev_set.len() as f64;
    if args.json {
        let summary = serde_json::json!({
            "train_examples": train_set.len(),
            "dev_examples": dev_set.len(),
            "labels": model.labels().len(),
            "features": model.feature_count(),
            "accuracy": report.accuracy,
            "macro_f1": report.macro_f1,
            "train_seconds": train_seconds,
            "model_bytes": bytes.len(),
            "load_ms": load_ms,
            "predict_us": predict_us,
            "operating_points": report.operating_points,
        });
        println!("{summary}");
        return Ok(());
    }
    println!(
        "{} train / {} dev examples, {} labels, {} features",
        train_set.len(),
        dev_set.len(),
        model.labels().len(),
        model.feature_count()
    );
    println!(
        "accuracy {:.4}  macro-F1 {:.4}",
        report.accuracy, report.macro_f1
    );
    println!("training {train_seconds:.2} s, model {} bytes, load {load_ms:.2} ms, predict {predict_us:.1} µs/text", bytes.len());
    for point in &report.operating_points {
        println!(
            "precision ≥ {:.2}: threshold {:.3}, coverage {:.3}",
            point.target_precision, point.threshold, point.coverage
        );
    }
    for confusion in report.confusions.iter().take(5) {
        println!(
            "confused: {} → {} ×{}",
            confusion.truth, confusion.predicted, confusion.count
        );
    }
    Ok(())
}
