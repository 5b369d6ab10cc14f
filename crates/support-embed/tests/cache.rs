//! The per-text embedding cache that `train` and `evaluate` use: each text
//! is embedded once per model, role and length; a retrain embeds only new
//! texts; a torn or damaged cache is repaired, never trusted. Its own test
//! binary: it points `XDG_CACHE_HOME` at a temporary folder for the process.

use std::cell::Cell;
use std::path::PathBuf;

use support_embed::{Embedder, Role};

fn cache_file(root: &std::path::Path) -> PathBuf {
    let dir = root.join("support-suite").join("embeddings");
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "texts"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

#[test]
fn each_text_is_embedded_once_and_a_damaged_cache_is_repaired() {
    // Found first: the model's default folder is under the cache folder too.
    let embedder = Embedder::open(None).expect("the embedding model (scripts/setup-models.sh)");
    let root = tempfile::tempdir().unwrap();
    std::env::set_var("XDG_CACHE_HOME", root.path());
    let record = 32 + 4 * embedder.dim();
    let fresh = |texts: &[&str]| embedder.embed_truncated(texts, Role::Query, 64).unwrap();
    let cached = |texts: &[&str]| {
        let progress = Cell::new(0);
        let vectors = embedder
            .embed_each_cached(texts, Role::Query, 64, &|done| progress.set(done))
            .unwrap();
        assert_eq!(progress.get(), texts.len());
        vectors
    };

    let first = [
        "¿Dónde está mi reembolso?",
        "My card was charged twice",
        "¿Dónde está mi reembolso?",
    ];
    assert_eq!(cached(&first), fresh(&first));
    let file = cache_file(root.path());
    assert_eq!(
        std::fs::metadata(&file).unwrap().len() as usize,
        2 * record,
        "a repeated text is stored once"
    );

    let second = ["My card was charged twice", "I forgot my PIN"];
    assert_eq!(cached(&second), fresh(&second));
    assert_eq!(
        std::fs::metadata(&file).unwrap().len() as usize,
        3 * record,
        "only the new text was added"
    );

    // A run stopped mid-write leaves a torn record; a flipped value is not finite.
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[32..36].copy_from_slice(&f32::NAN.to_le_bytes());
    bytes.extend_from_slice(&[1, 2, 3, 4, 5]);
    std::fs::write(&file, &bytes).unwrap();
    let third = ["¿Dónde está mi reembolso?", "Cancel my order"];
    assert_eq!(cached(&third), fresh(&third));
    let len = std::fs::metadata(&file).unwrap().len() as usize;
    assert_eq!(len % record, 0, "the torn tail was cut off");
    assert_eq!(
        len,
        5 * record,
        "the damaged text was embedded again, and the new one added"
    );
}
