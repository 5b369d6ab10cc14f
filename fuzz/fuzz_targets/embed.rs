//! The embedding layer's two parsers: the E5S1 weights file (any bytes given
//! to `Embedder::from_bytes` are a model or an error, never a panic) and the
//! tokenizer on any ticket text, with the model scripts/setup-models.sh
//! installed (ids within the vocabulary, `<s>` first, `</s>` last, at most
//! the model's 512 positions).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use support_embed::{Embedder, Role};

fn embedder() -> &'static Embedder {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| Embedder::open(None).unwrap_or_else(|e| panic!("{e}")))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, data)) = data.split_first() else {
        return;
    };
    if selector & 1 == 0 {
        let mut weights = b"E5S1".to_vec();
        weights.extend_from_slice(data);
        let _ = Embedder::from_bytes(&weights, Path::new("fuzz"));
        return;
    }
    let text = String::from_utf8_lossy(data);
    let ids = embedder().tokens(&text, Role::Query, 512);
    assert!(ids.len() >= 3 && ids.len() <= 512, "{} ids", ids.len());
    assert_eq!((ids[0], ids[ids.len() - 1]), (0, 2));
    assert!(ids.iter().all(|&id| id < 250_002), "{ids:?}");
    // Cut short, a text the cut does not shorten keeps the first ids.
    let max = 3 + usize::from(selector >> 1) % 64;
    if text.len() < (max - 2) * 16 {
        let cut = embedder().tokens(&text, Role::Query, max);
        let kept = cut.len() - 1;
        assert_eq!(cut[..kept], ids[..kept], "cut to {max}");
        assert_eq!(cut.len(), ids.len().min(max));
    }
});
