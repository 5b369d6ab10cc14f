//! support-answer's input paths besides the stream of tickets: knowledge-base
//! articles as JSON Lines and as Markdown (`support-answer index --kb`), a
//! stored index (`--index DIR`: index.json and vectors.f32), which is then
//! searched, and answered tickets as `support-answer reply` reads them. A bad
//! file is an error naming its line or file, never a panic; `reply` puts every
//! record in exactly one place, as one line of JSON.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use support_answer::index::{Fusion, KbIndex};
use support_answer::kb;
use support_answer::reply::{self, ReplyOutputs};

/// Small, so the fuzzer also reaches `reply`'s `too_large` path: libFuzzer's
/// inputs stay under the largest seed's 5,676 bytes here, so a record over
/// 4,096 bytes was rare (3 of 3,856 reply inputs kept in 5 minutes).
const MAX_RECORD_BYTES: usize = 512;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, data)) = data.split_first() else {
        return;
    };
    match selector % 4 {
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
        3 => reply(data),
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

fn reply(data: &[u8]) {
    let (mut answered, mut rest, mut errors, mut mails) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let outputs = ReplyOutputs {
        answered: &mut answered,
        rest: &mut rest,
        errors: Some(&mut errors),
        mails: Some(&mut mails),
    };
    let now = "2026-11-24T09:00:00Z".parse().unwrap();
    let summary =
        reply::split(data, outputs, now, MAX_RECORD_BYTES).expect("in-memory input and output");
    assert_eq!(
        summary.records,
        summary.answered + summary.rest + summary.failed
    );
    for (out, count) in [
        (&answered, summary.answered),
        (&mails, summary.answered),
        (&rest, summary.rest),
        (&errors, summary.failed),
    ] {
        let lines: Vec<&[u8]> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(lines.len() as u64, count);
        for line in lines {
            serde_json::from_slice::<IgnoredAny>(line).expect("every output line is JSON");
        }
    }
}
