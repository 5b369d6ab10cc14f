//! `runner::run` with a real stage (support-sentiment's analyzer) over
//! arbitrary bytes as stdin, in all three forms: never panics (a panic in a
//! stage is caught by the runner, but libFuzzer aborts on any panic, so a
//! caught one is found too), and:
//! - JSON Lines: one output line per non-blank input line, in order: the
//!   error record of a line that fails names that line;
//! - a JSON array: an array back, as long as the input's when it is valid JSON.
//!
//! The first byte picks how the rest is fed: 0 as it is; 1 its lines as the
//! items of a JSON array; 2 behind a byte-order mark and blank lines; 3 its
//! lines with CRLF endings (its two low bits). Its next bit picks one worker
//! or two: with two, groups and batches finish out of order, and the output
//! must still come in the input's order.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use support_core::Context;
use support_runner::{run, RunOptions};
use support_sentiment::Analyzer;

/// Small, so the fuzzer also reaches the `too_large` paths: libFuzzer's
/// inputs stay under 4,096 bytes here.
const MAX_RECORD_BYTES: usize = 512;

fn analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(Analyzer::default)
}

fn feed(mode: u8, rest: &[u8]) -> Vec<u8> {
    match mode % 4 {
        1 => {
            let mut out = b"[".to_vec();
            for (i, line) in rest
                .split(|&b| b == b'\n')
                .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                .enumerate()
            {
                if i > 0 {
                    out.extend_from_slice(b",\n");
                }
                out.extend_from_slice(line);
            }
            out.push(b']');
            out
        }
        2 => [&b"\xEF\xBB\xBF\n  \n\r\n"[..], rest].concat(),
        3 => rest
            .split(|&b| b == b'\n')
            .flat_map(|l| [l, b"\r\n"].concat())
            .collect(),
        _ => rest.to_vec(),
    }
}

/// What `run` reads past: a UTF-8 byte-order mark at the very start, then
/// blank space.
fn skip_prefix(input: &[u8]) -> &[u8] {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let blank = input.iter().take_while(|b| b.is_ascii_whitespace()).count();
    &input[blank..]
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let input = feed(mode, rest);
    let opts = RunOptions {
        ctx: Context {
            now: "2026-11-24T09:00:00Z".parse().unwrap(),
        },
        max_record_bytes: MAX_RECORD_BYTES,
        threads: if mode & 4 == 0 { 1 } else { 2 },
    };
    let mut output = Vec::new();
    let Ok(summary) = run(analyzer(), &opts, &input[..], &mut output, None) else {
        return; // a failure of the run as a whole: no output promised
    };
    assert!(summary.failed <= summary.records);

    let body = skip_prefix(&input);
    match body.first() {
        None => assert!(output.is_empty(), "output for an empty input"),
        Some(b'[') => {
            // A valid array gives an array of as many items; a broken one
            // gives the items read and an error record where it broke.
            let items_out = serde_json::from_slice::<Vec<IgnoredAny>>(&output)
                .unwrap_or_else(|e| {
                    panic!(
                        "array in, no array out ({e}): {}",
                        String::from_utf8_lossy(&output)
                    )
                })
                .len();
            if let Ok(items_in) = serde_json::from_slice::<Vec<&RawValue>>(body) {
                assert_eq!(items_in.len(), items_out, "array length changed");
                assert_eq!(summary.records, items_in.len() as u64);
            }
        }
        Some(_) => {
            // JSON Lines unless the first line is the start of one
            // pretty-printed document (it ends early: an EOF error), which
            // the runner then reads as a whole.
            let raw_first = body.split(|&b| b == b'\n').next().unwrap_or_default();
            let first = raw_first.strip_suffix(b"\r").unwrap_or(raw_first);
            let complete_first_line = raw_first.len() > MAX_RECORD_BYTES
                || !serde_json::from_slice::<IgnoredAny>(first)
                    .is_err_and(|e| e.classify() == serde_json::error::Category::Eof);
            if complete_first_line {
                let records = numbered_records(&input);
                let lines: Vec<&[u8]> = output
                    .split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .collect();
                assert_eq!(
                    lines.len(),
                    records.len(),
                    "{} non-blank input lines gave {} output lines",
                    records.len(),
                    lines.len()
                );
                assert_eq!(summary.records, records.len() as u64);
                assert_errors_in_place(&records, &lines);
            }
        }
    }
});

/// The non-blank lines of JSON Lines input with their 1-based numbers, as
/// the runner numbers records (a byte-order mark at the start is not text).
fn numbered_records(input: &[u8]) -> Vec<(u64, &[u8])> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    (1u64..)
        .zip(input.split(|&b| b == b'\n'))
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .collect()
}

/// Each error record the runner wrote names the line it stands for: the
/// n-th output line, if an error, names the n-th record's line. A record
/// that may be an error record of its own (its text has `"error"`, or a
/// `\u` escape that could spell it) passes through with the line it
/// names, so it is not checked.
fn assert_errors_in_place(records: &[(u64, &[u8])], lines: &[&[u8]]) {
    #[derive(Deserialize)]
    struct Written {
        error: Option<Named>,
    }
    #[derive(Deserialize)]
    struct Named {
        line: Option<u64>,
    }
    let contains = |text: &[u8], part: &[u8]| text.windows(part.len()).any(|w| w == part);
    for (&(number, record), line) in records.iter().zip(lines) {
        if contains(record, b"\"error\"") || contains(record, b"\\u") {
            continue;
        }
        let named = serde_json::from_slice::<Written>(line)
            .ok()
            .and_then(|written| written.error?.line);
        if let Some(named) = named {
            assert_eq!(
                named,
                number,
                "the error record for input line {number} names line {named}: {}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
