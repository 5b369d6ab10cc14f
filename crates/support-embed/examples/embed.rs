//! Embeds stdin, one text per line, for the encoder benchmark
//! (scripts/bench/bench-answer.sh), as the tools that embed many texts do:
//!   embed query|passage vectors|time < texts
use std::io::{BufRead, Write};
use std::time::Instant;
use support_embed::{Embedder, Role};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    support_embed::one_thread_per_batch();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let role = match args.first().map(String::as_str) {
        Some("passage") => Role::Passage,
        _ => Role::Query,
    };
    let texts: Vec<String> = std::io::stdin().lock().lines().collect::<Result<_, _>>()?;
    let embedder = Embedder::open(None)?;
    let start = Instant::now();
    let vectors = embedder.embed(&texts, role)?;
    let secs = start.elapsed().as_secs_f64();
    if args.get(1).map(String::as_str) == Some("time") {
        eprintln!(
            "{{\"engine\": \"support-embed (candle)\", \"texts\": {}, \"seconds\": {secs:.3}, \"texts_per_s\": {:.1}}}",
            texts.len(),
            texts.len() as f64 / secs
        );
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    for vector in vectors {
        serde_json::to_writer(&mut out, &vector)?;
        writeln!(out)?;
    }
    Ok(())
}
