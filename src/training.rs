//! The `train` command of the tools that learn from labelled data: a
//! progress bar while the optimizer runs (drawn only when stderr is a
//! terminal), the model written to `--out`, a JSON summary on stdout.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

/// What a trainer hands back: the model file's bytes and its label count.
pub struct Trained {
    pub bytes: Vec<u8>,
    pub labels: usize,
}

/// Runs `train` (which reports each optimizer iteration, at most
/// `max_iterations`) on `examples` texts and writes its model to `out`.
pub fn train_command(
    out: &Path,
    examples: usize,
    max_iterations: u32,
    train: impl FnOnce(&dyn Fn(u32)) -> anyhow::Result<Trained>,
) -> ExitCode {
    let started = Instant::now();
    let progress = ProgressBar::new(u64::from(max_iterations)).with_style(
        ProgressStyle::with_template(
            "training {bar:40} iteration {pos} (at most {len}), {elapsed}",
        )
        .expect("a valid template"),
    );
    let trained = match train(&|i| progress.set_position(u64::from(i))) {
        Ok(t) => t,
        Err(e) => return support_cli::usage_error(format_args!("{e:#}")),
    };
    progress.finish_and_clear();
    if let Err(code) = support_cli::write_output_file(out, &trained.bytes) {
        return code;
    }
    let summary = serde_json::json!({
        "model": out.display().to_string(),
        "examples": examples,
        "labels": trained.labels,
        "bytes": trained.bytes.len(),
        "seconds": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    });
    println!("{summary}");
    ExitCode::SUCCESS
}
