//! The tokenizer built from the weights file against Hugging Face's
//! `tokenizers` reading the model's own tokenizer.json (both installed by
//! scripts/setup-models.sh): the same ids on the example tickets and on text
//! that exercises normalization (accents, full-width forms, ligatures, runs
//! of spaces, tabs, emoji).

use support_embed::{Embedder, Role};

fn example_texts() -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/tickets.jsonl");
    let mut texts = Vec::new();
    for line in std::fs::read_to_string(root).unwrap().lines() {
        let ticket: serde_json::Value = serde_json::from_str(line).unwrap();
        for field in ["subject", "description"] {
            if let Some(text) = ticket[field].as_str() {
                texts.push(text.to_string());
            }
        }
    }
    texts.extend(
        [
            "¿Cuándo llegará mi pedido?  Lo pedí hace   dos semanas…",
            "ＦＵＬＬ－ＷＩＤＴＨ ｃｈａｒａｃｔｅｒｓ and the ﬁ ligature, ½ and ™",
            "tabs\tand\nnew lines\r\nand emoji 😡🙏 and ñandú, pingüino, Ærøskøbing",
            "Y aterrizó Iberia. 🔥🚒🚑✈ (a run of characters no piece covers)",
            "",
            "   leading and trailing spaces   ",
            "MAYÚSCULAS Y minúsculas: ÁÉÍÓÚ áéíóú ÑÜ",
        ]
        .map(String::from),
    );
    texts
}

#[test]
fn token_ids_match_hugging_face_tokenizers() {
    let embedder = Embedder::open(None).unwrap_or_else(|e| panic!("{e}"));
    let path = embedder.dir().join("tokenizer.json");
    let reference = tokenizers::Tokenizer::from_file(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run scripts/setup-models.sh", path.display()));
    let texts = example_texts();
    assert!(texts.len() > 40);
    for text in &texts {
        let prefixed = format!("query: {text}");
        let expected = reference.encode(prefixed.as_str(), true).unwrap();
        let expected = expected.get_ids();
        assert_eq!(
            embedder.tokens(text, Role::Query, 512),
            expected,
            "{text:?}"
        );
        // Cut short, the first ids (segmented word by word, the rest of the
        // text never) and `</s>`.
        for max in [3, 4, 7, 12] {
            let cut = embedder.tokens(text, Role::Query, max);
            let kept = expected.len().min(max) - 1;
            assert_eq!(cut[..kept], expected[..kept], "{text:?} cut to {max}");
            assert_eq!(cut[kept..], [2], "{text:?} cut to {max}");
        }
    }
}
