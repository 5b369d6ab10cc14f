//! support-answer's input paths besides tickets: knowledge-base articles as
//! JSON Lines and as Markdown (`support-answer index --kb`), and a stored
//! index (`--index DIR`: index.json and vectors.f32), which is then
//! searched. A bad file is an error naming its line or file, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use support_answer::index::{Fusion, KbIndex};
use support_answer::kb;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, data)) = data.split_first() else {
        return;
    };
    match selector % 3 {
        0 => {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = kb::parse_jsonl(Path::new("kb.jsonl"), text);
            }
        }
        1 => {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = kb::parse_markdown(Path::new("article.md"), text);
            }
        }
        _ => {
            // The first two bytes say where index.json ends and vectors.f32 starts.
            let Some((split, files)) = data.split_first_chunk::<2>() else {
                return;
            };
            let at = (u16::from_le_bytes(*split) as usize).min(files.len());
            let (index, vectors) = files.split_at(at);
            if let Ok(index) = KbIndex::from_bytes(index, vectors) {
                let query = vec![0.05; index.dim()];
                let fusion = Fusion {
                    neighbours: 10,
                    temperature: 0.02,
                    lexical_weight: 0.1,
                };
                let hits = index.search("¿dónde está mi reembolso? refund", &query, fusion);
                assert_eq!(hits.len(), index.articles.len());
            }
        }
    }
});
