//! The figures behind the tokenizer's design, on texts from stdin (one per
//! line): start-up time of this crate's tokenizer (built from the weights
//! file) against Hugging Face `tokenizers` reading the model's
//! tokenizer.json, and how many texts the two split differently.
//!
//!   cargo run --release -p support-embed --example tokenizer-check < texts
use std::io::BufRead;
use std::time::Instant;
use support_embed::{Embedder, Role};

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let texts: Vec<String> = std::io::stdin().lock().lines().collect::<Result<_, _>>()?;
    let start = Instant::now();
    let embedder = Embedder::open(None)?;
    let ours = start.elapsed();
    let start = Instant::now();
    let reference = tokenizers::Tokenizer::from_file(embedder.dir().join("tokenizer.json"))?;
    let theirs = start.elapsed();
    let mut differ = 0;
    for text in &texts {
        let mut expected = reference
            .encode(format!("query: {text}").as_str(), true)?
            .get_ids()
            .to_vec();
        if expected.len() > 512 {
            expected.truncate(511);
            expected.push(2);
        }
        if embedder.tokens(text, Role::Query, 512) != expected {
            differ += 1;
        }
    }
    println!(
        "{{\"texts\": {}, \"differ\": {differ}, \"load_model_and_tokenizer_ms\": {}, \"load_hf_tokenizer_ms\": {}}}",
        texts.len(),
        ours.as_millis(),
        theirs.as_millis()
    );
    Ok(())
}
