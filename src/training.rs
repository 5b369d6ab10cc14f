//! The `train` command of the tools that learn from labelled data: the
//! texts' embeddings when the model learns from them, a progress bar while
//! they are embedded and while the optimizer runs (drawn only when stderr is
//! a terminal), the model written to `--out`, a JSON summary on stdout.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use support_cli::LabelledData;
use support_embed::{Embedder, Role};
use support_model::{Example, FeatureSettings, TrainOptions};

/// The flags of every tool's `train`.
#[derive(clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: LabelledData,
    /// Where to write the model.
    #[arg(long, value_name = "MODEL")]
    pub out: PathBuf,
    /// Inverse regularization strength, as scikit-learn's C (default: the tool's).
    #[arg(long)]
    pub c: Option<f32>,
    /// How much the texts' embeddings weigh beside the words (default: the
    /// tool's). They are features unless --lexical or the embedding model is
    /// not installed.
    #[arg(long)]
    pub embedding_scale: Option<f32>,
    /// Lengths of the character n-grams taken inside each word, as MIN-MAX
    /// (default: the tool's, 2-5); 0 for none. Fewer lengths give fewer
    /// features: a smaller, faster model.
    #[arg(long, value_name = "MIN-MAX", value_parser = parse_char_ngrams)]
    pub char_ngrams: Option<(u8, u8)>,
}

/// `3-4` → (3, 4); `0` → no character n-grams. The lengths are checked by
/// the rule a model's feature settings follow.
fn parse_char_ngrams(value: &str) -> Result<(u8, u8), String> {
    if value == "0" {
        return Ok((0, 0));
    }
    let usage = || format!("expected MIN-MAX (e.g. 3-4), or 0 for none; got {value:?}");
    let (char_min, char_max) = value
        .split_once('-')
        .and_then(|(min, max)| Some((min.trim().parse().ok()?, max.trim().parse().ok()?)))
        .ok_or_else(usage)?;
    FeatureSettings {
        char_min,
        char_max,
        ..FeatureSettings::default()
    }
    .validate()
    .map_err(|rule| format!("{}: {rule}", usage()))?;
    Ok((char_min, char_max))
}

impl TrainArgs {
    /// The tool's `defaults` with the flags given.
    pub fn options(&self, defaults: TrainOptions) -> TrainOptions {
        let mut features = defaults.features;
        if let Some((char_min, char_max)) = self.char_ngrams {
            (features.char_min, features.char_max) = (char_min, char_max);
        }
        TrainOptions {
            c: self.c.unwrap_or(defaults.c),
            dense_scale: self.embedding_scale.unwrap_or(defaults.dense_scale),
            features,
            ..defaults
        }
    }
}

/// The examples' embeddings as training features (each text embedded as a
/// query, its first `max_tokens` tokens, from the per-text cache or the
/// encoder, with a progress bar), unless `lexical` or the embedding model is
/// not installed: then the model learns from the words alone, with a
/// warning naming the command that installs it.
fn training_embeddings(
    lexical: bool,
    embedder: Option<&Path>,
    examples: &[Example],
    max_tokens: usize,
) -> anyhow::Result<Option<Vec<Vec<f32>>>> {
    if lexical {
        return Ok(None);
    }
    let Some(embedder) = Embedder::open_if_installed(embedder)? else {
        tracing::warn!(
            "the embedding model is not installed: the model learns from the words alone (run `{}` to add the embeddings)",
            support_embed::SETUP_COMMAND
        );
        return Ok(None);
    };
    let texts: Vec<&str> = examples.iter().map(|e| e.text.as_str()).collect();
    let progress = ProgressBar::new(texts.len() as u64).with_style(
        ProgressStyle::with_template("embedding {bar:40} {pos}/{len} texts, {elapsed} (eta {eta})")
            .expect("a valid template"),
    );
    let vectors = embedder.embed_each_cached(&texts, Role::Query, max_tokens, &|done| {
        progress.set_position(done as u64)
    })?;
    progress.finish_and_clear();
    Ok(Some(vectors))
}

/// What a trainer hands back: the model file's bytes and its label count.
pub struct Trained {
    pub bytes: Vec<u8>,
    pub labels: usize,
}

/// Where the texts' embeddings come from, when a model learns from them.
pub struct EmbeddingSource<'a> {
    /// `--lexical`: words alone.
    pub lexical: bool,
    /// `--embedder DIR`, else the default folder.
    pub embedder: Option<&'a Path>,
    /// Tokens of each text the embedding reads, as the tool reads a ticket's.
    pub max_tokens: usize,
}

/// Embeds the examples (see [`training_embeddings`]), then runs `train` on
/// them with the tool's `defaults` and the flags of `args` (it reports each
/// optimizer iteration, at most `max_iterations`, to the progress bar), and
/// writes its model to `--out` with a summary on stdout: `seconds` of
/// training, and `embedding_seconds` when the texts were embedded.
pub fn train_command(
    args: &TrainArgs,
    source: EmbeddingSource<'_>,
    examples: &[Example],
    defaults: TrainOptions,
    train: impl FnOnce(Option<&[Vec<f32>]>, &TrainOptions, &dyn Fn(u32)) -> anyhow::Result<Trained>,
) -> ExitCode {
    let embedding_started = Instant::now();
    let vectors =
        match training_embeddings(source.lexical, source.embedder, examples, source.max_tokens) {
            Ok(v) => v,
            Err(e) => return support_cli::usage_error(format_args!("{e:#}")),
        };
    let embedding_seconds = embedding_started.elapsed().as_secs_f64();
    let options = args.options(defaults);
    let started = Instant::now();
    let progress = ProgressBar::new(u64::from(options.max_iterations)).with_style(
        ProgressStyle::with_template(
            "training {bar:40} iteration {pos} (at most {len}), {elapsed}",
        )
        .expect("a valid template"),
    );
    let trained = match train(vectors.as_deref(), &options, &|i| {
        progress.set_position(u64::from(i))
    }) {
        Ok(t) => t,
        Err(e) => return support_cli::usage_error(format_args!("{e:#}")),
    };
    progress.finish_and_clear();
    if let Err(code) = support_cli::write_output_file(&args.out, &trained.bytes) {
        return code;
    }
    let summary = serde_json::json!({
        "model": args.out.display().to_string(),
        "examples": examples.len(),
        "labels": trained.labels,
        "bytes": trained.bytes.len(),
        "seconds": milliseconds(started.elapsed().as_secs_f64()),
        // Reading the cache, and embedding the texts it lacks (all of them the first time).
        "embedding_seconds": vectors.is_some().then(|| milliseconds(embedding_seconds)),
    });
    println!("{summary}");
    ExitCode::SUCCESS
}

/// Seconds rounded to the millisecond.
fn milliseconds(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::parse_char_ngrams;

    #[test]
    fn char_ngrams_read_as_min_max_or_none() {
        assert_eq!(parse_char_ngrams("3-4"), Ok((3, 4)));
        assert_eq!(parse_char_ngrams("1-8"), Ok((1, 8)));
        assert_eq!(parse_char_ngrams("0"), Ok((0, 0)));
        for bad in ["4-3", "0-2", "2-9", "3", "a-b", "", "-"] {
            let error = parse_char_ngrams(bad).unwrap_err();
            assert!(error.contains("MIN-MAX"), "{bad}: {error}");
        }
    }
}
