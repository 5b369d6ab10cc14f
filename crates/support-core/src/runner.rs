//! The stdin/stdout runner every tool shares.
//!
//! Input form is detected: one JSON object, a JSON array, or JSON Lines; the
//! output keeps the form. JSON Lines is read in bounded batches by one thread
//! and processed in parallel, in order, so memory stays flat on any stream.
//! Every record yields its output or an error record in its place.

use std::io::{self, BufRead, Cursor, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::sync_channel;

use jiff::Timestamp;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{ErrorDetail, ErrorKind, ErrorRecord, RecordError};
use crate::record::{nested_too_deep, Record};
use crate::ticket::Ticket;

/// What every decision may depend on besides the ticket: the fixed clock.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub now: Timestamp,
}

/// A tool: a plain function from a ticket to a result stored under `KEY`.
pub trait Tool: Sync {
    /// The one key this tool adds to the ticket.
    const KEY: &'static str;
    type Output: Serialize;
    /// Whether a ticket without customer text is a `no_text` error. Tools
    /// that decide from structured fields only (support-ml-predict) say no.
    const NEEDS_TEXT: bool = true;

    fn decide(&self, ticket: &Ticket<'_>, ctx: &Context) -> Result<Self::Output, RecordError>;
}

/// One step applied to a JSON record in place. Every `Tool` is a stage; a
/// pipeline of tools is one too.
pub trait Stage: Sync {
    fn apply(&self, record: &mut Record<'_>, ctx: &Context) -> Result<(), RecordError>;
}

impl<T: Tool> Stage for T {
    fn apply(&self, record: &mut Record<'_>, ctx: &Context) -> Result<(), RecordError> {
        let output = match Ticket::from_record(record) {
            Ok(ticket) => decide_checked(self, &ticket, ctx),
            // A key repeated inside `customer` or a message: the typed view
            // refuses it, and a parsed object keeps the last value, as the
            // tools have always read such tickets.
            Err(err) if err.message.starts_with("duplicate field") => {
                let map = record.to_map();
                decide_checked(self, &Ticket::from_map(&map)?, ctx)
            }
            Err(err) => Err(err),
        }?;
        let value = serde_json::value::to_raw_value(&output).map_err(|e| {
            RecordError::new(ErrorKind::Failed, format!("cannot encode result: {e}"))
        })?;
        record.insert(T::KEY, value);
        Ok(())
    }
}

fn decide_checked<T: Tool>(
    tool: &T,
    ticket: &Ticket<'_>,
    ctx: &Context,
) -> Result<T::Output, RecordError> {
    if T::NEEDS_TEXT {
        ticket.require_text()?;
    }
    tool.decide(ticket, ctx)
}

/// Stages applied in order to each record, as one stage: the whole chain in
/// one process. A record failing at any stage becomes one error record.
pub struct Pipeline {
    stages: Vec<Box<dyn Stage + Send>>,
}

impl Pipeline {
    pub fn new(stages: Vec<Box<dyn Stage + Send>>) -> Self {
        Pipeline { stages }
    }
}

impl Stage for Pipeline {
    fn apply(&self, record: &mut Record<'_>, ctx: &Context) -> Result<(), RecordError> {
        self.stages
            .iter()
            .try_for_each(|stage| stage.apply(record, ctx))
    }
}

/// How to run: limits and parallelism.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub ctx: Context,
    /// Larger records become `too_large` error records without being held in memory.
    pub max_record_bytes: usize,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
}

/// How many records went through and how many failed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub records: u64,
    pub failed: u64,
    /// The reader of our output went away (e.g. `| head -1`); we stopped early.
    pub output_closed: bool,
}

/// A failure of the run as a whole, not of one record.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot read input: {0}")]
    Input(String),
    #[error("cannot write output: {0}")]
    Output(io::Error),
}

const BATCH_RECORDS: usize = 1024;
const BATCH_BYTES: usize = 4 << 20;

/// Runs `stage` over everything `input` holds, writing to `output`; error
/// records go to `errors` when given, else in place in `output`.
pub fn run<'w, R: BufRead + Send>(
    stage: &dyn Stage,
    opts: &RunOptions,
    mut input: R,
    output: &'w mut dyn Write,
    errors: Option<&'w mut dyn Write>,
) -> Result<Summary, RunError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| RunError::Input(format!("cannot start worker threads: {e}")))?;
    let mut sink = Sink {
        output,
        errors,
        summary: Summary::default(),
    };
    let result = match first_byte(&mut input).map_err(|e| RunError::Input(e.to_string()))? {
        None => Ok(()),
        Some(b'[') => run_array(stage, opts, input, &mut sink),
        Some(_) => run_object_or_lines(stage, opts, input, &mut sink, &pool),
    };
    // A small output is first written by the final flush, so a reader that
    // has gone (`| head -1`) shows up there as often as in the loop.
    match result.and_then(|()| sink.flush()) {
        Err(RunError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            sink.summary.output_closed = true;
            Ok(())
        }
        other => other,
    }?;
    Ok(sink.summary)
}

/// Skips leading whitespace and a UTF-8 byte-order mark; peeks the first byte.
fn first_byte(input: &mut impl BufRead) -> io::Result<Option<u8>> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        let skip = if buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            buf.iter().take_while(|b| b.is_ascii_whitespace()).count()
        };
        if skip == 0 {
            return Ok(Some(buf[0]));
        }
        input.consume(skip);
    }
}

/// A single object may be pretty-printed over many lines; JSON Lines has one
/// complete value per line. The first line tells them apart: it is complete
/// in JSON Lines, and ends early ("EOF while parsing") in a pretty object.
fn run_object_or_lines<R: BufRead + Send>(
    stage: &dyn Stage,
    opts: &RunOptions,
    mut input: R,
    sink: &mut Sink<'_>,
    pool: &rayon::ThreadPool,
) -> Result<(), RunError> {
    let mut first = Vec::new();
    let first_line = read_line(&mut input, &mut first, opts.max_record_bytes)
        .map_err(|e| RunError::Input(e.to_string()))?;
    let first_line = match first_line {
        None => return Ok(()),
        Some(LineRead::TooLarge(len)) => RawLine {
            number: 1,
            content: Err(len),
        },
        Some(LineRead::Complete) => {
            let incomplete = serde_json::from_slice::<serde::de::IgnoredAny>(&first)
                .is_err_and(|e| e.classify() == serde_json::error::Category::Eof);
            if !incomplete {
                RawLine {
                    number: 1,
                    content: Ok(first),
                }
            } else {
                return run_document(stage, opts, first, input, sink, pool);
            }
        }
    };
    run_lines(stage, opts, Some(first_line), input, sink, pool)
}

/// Possibly one multi-line document: read it (bounded) and try it whole; if it
/// is not one document after all, treat it as lines so no record is lost.
fn run_document<R: BufRead + Send>(
    stage: &dyn Stage,
    opts: &RunOptions,
    mut text: Vec<u8>,
    mut input: R,
    sink: &mut Sink<'_>,
    pool: &rayon::ThreadPool,
) -> Result<(), RunError> {
    text.push(b'\n');
    let limit = opts.max_record_bytes.saturating_sub(text.len()) as u64 + 1;
    (&mut input)
        .take(limit)
        .read_to_end(&mut text)
        .map_err(|e| RunError::Input(e.to_string()))?;
    if text.len() <= opts.max_record_bytes && serde_json::from_slice::<Value>(&text).is_ok() {
        let outcome = process_record(stage, &opts.ctx, &text, 1);
        return sink.write_document(outcome);
    }
    run_lines(
        stage,
        opts,
        None,
        Cursor::new(text).chain(input),
        sink,
        pool,
    )
}

fn run_array(
    stage: &dyn Stage,
    opts: &RunOptions,
    mut input: impl BufRead,
    sink: &mut Sink<'_>,
) -> Result<(), RunError> {
    let mut text = Vec::new();
    input
        .read_to_end(&mut text)
        .map_err(|e| RunError::Input(e.to_string()))?;
    // Items stay JSON text until each is processed; a full parse only words
    // the error when the array does not parse (or nests too deep).
    let items: Vec<&RawValue> = (!nested_too_deep(&text, 0))
        .then(|| serde_json::from_slice(&text).ok())
        .flatten()
        .ok_or_else(|| {
            let error = serde_json::from_slice::<Vec<Value>>(&text)
                .err()
                .map_or_else(|| "invalid JSON".to_string(), |e| e.to_string());
            RunError::Input(format!(
                "input starts with `[` but is not a JSON array: {error}"
            ))
        })?;
    let outcomes: Vec<Outcome> = items
        .into_par_iter()
        .enumerate()
        .map(|(i, item)| process_record(stage, &opts.ctx, item.get().as_bytes(), i as u64 + 1))
        .collect();
    sink.write_array(outcomes)
}

fn run_lines<R: BufRead + Send>(
    stage: &dyn Stage,
    opts: &RunOptions,
    first: Option<RawLine>,
    mut input: R,
    sink: &mut Sink<'_>,
    pool: &rayon::ThreadPool,
) -> Result<(), RunError> {
    let (batches_tx, batches_rx) = sync_channel::<io::Result<Vec<RawLine>>>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut line_no = u64::from(first.is_some());
            let mut first = first;
            loop {
                let batch =
                    read_batch(&mut input, &mut line_no, opts.max_record_bytes).map(|mut batch| {
                        if let Some(first) = first.take() {
                            batch.insert(0, first);
                        }
                        batch
                    });
                let done = !matches!(&batch, Ok(b) if !b.is_empty());
                if batches_tx.send(batch).is_err() || done {
                    return;
                }
            }
        });
        for batch in batches_rx {
            let batch = batch.map_err(|e| RunError::Input(e.to_string()))?;
            if batch.is_empty() {
                break;
            }
            let outcomes: Vec<Outcome> = pool.install(|| {
                batch
                    .into_par_iter()
                    .map(|line| process_line(stage, &opts.ctx, line))
                    .collect()
            });
            for outcome in outcomes {
                sink.write_line(outcome)?;
            }
        }
        Ok(())
    })
}

/// One line of JSON Lines input, as [`read_batch`] gives it.
pub struct RawLine {
    /// 1-based line number in the input.
    pub number: u64,
    /// The line's bytes (without the newline), or its length when it was over the limit.
    pub content: Result<Vec<u8>, usize>,
}

impl RawLine {
    /// The line's bytes, or the `too_large` error of a line over the limit.
    pub fn bytes(&self) -> Result<&[u8], RecordError> {
        self.content.as_deref().map_err(|len| {
            RecordError::new(
                ErrorKind::TooLarge,
                format!(
                    "record is {len} bytes, over the limit; raise --max-record-bytes to accept it"
                ),
            )
        })
    }
}

enum LineRead {
    Complete,
    /// The line was longer than the limit; holds its full length.
    TooLarge(usize),
}

/// Reads one line into `buf` (without the newline), keeping at most `max`
/// bytes; the rest of an oversized line is skipped, never held.
fn read_line(
    input: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<LineRead>> {
    let mut total = 0usize;
    let mut seen_any = false;
    loop {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(seen_any.then(|| finish_line(buf, total, max)));
        }
        seen_any = true;
        let (chunk, found_newline) = match memchr::memchr(b'\n', available) {
            Some(i) => (&available[..i], true),
            None => (available, false),
        };
        let chunk_len = chunk.len();
        if total + chunk_len <= max {
            buf.extend_from_slice(chunk);
        } else {
            buf.clear();
        }
        total += chunk_len;
        input.consume(chunk_len + usize::from(found_newline));
        if found_newline {
            return Ok(Some(finish_line(buf, total, max)));
        }
    }
}

fn finish_line(buf: &mut Vec<u8>, total: usize, max: usize) -> LineRead {
    if total > max {
        buf.clear();
        LineRead::TooLarge(total)
    } else {
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        LineRead::Complete
    }
}

/// Reads the next batch of JSON Lines (up to 1,024 records or 4 MiB), skipping
/// blank lines; `line_no` counts the lines read so far. Lines over `max` bytes
/// are skipped unread and given as their length. An empty batch is the end.
/// `run` reads with it; so can a tool that consumes tickets rather than
/// transforming them (support-export).
pub fn read_batch(
    input: &mut impl BufRead,
    line_no: &mut u64,
    max: usize,
) -> io::Result<Vec<RawLine>> {
    let mut batch = Vec::new();
    let mut bytes = 0usize;
    while batch.len() < BATCH_RECORDS && bytes < BATCH_BYTES {
        let Some(line) = next_line(input, line_no, max)? else {
            break;
        };
        bytes += line.content.as_ref().map_or(0, Vec::len);
        batch.push(line);
    }
    Ok(batch)
}

/// Reads the next non-blank line, `None` at the end of the input; `line_no`
/// counts the lines read so far. A line over `max` bytes is skipped unread and
/// given as its length. For a consumer that batches by its own measure
/// (support-store commits every `--batch-size` records).
pub fn next_line(
    input: &mut impl BufRead,
    line_no: &mut u64,
    max: usize,
) -> io::Result<Option<RawLine>> {
    loop {
        let mut buf = Vec::new();
        let Some(read) = read_line(input, &mut buf, max)? else {
            return Ok(None);
        };
        *line_no += 1;
        let content = match read {
            LineRead::TooLarge(len) => Err(len),
            LineRead::Complete if buf.iter().all(u8::is_ascii_whitespace) => continue,
            LineRead::Complete => Ok(buf),
        };
        return Ok(Some(RawLine {
            number: *line_no,
            content,
        }));
    }
}

/// A processed record, serialized: either the output or the error record.
enum Outcome {
    Record(Vec<u8>),
    Error(Vec<u8>),
}

fn process_line(stage: &dyn Stage, ctx: &Context, line: RawLine) -> Outcome {
    match line.bytes() {
        Err(err) => error_outcome(&err, line.number, None),
        Ok(bytes) => process_record(stage, ctx, bytes, line.number),
    }
}

fn process_record(stage: &dyn Stage, ctx: &Context, json: &[u8], number: u64) -> Outcome {
    let mut record = match Record::parse(json) {
        Ok(record) => record,
        Err(err) => return error_outcome(&err, number, None),
    };
    let result = panic::catch_unwind(AssertUnwindSafe(|| stage.apply(&mut record, ctx)))
        .unwrap_or_else(|_| {
            Err(RecordError::new(
                ErrorKind::Failed,
                "internal error while processing this record",
            ))
        });
    match result {
        Ok(()) => Outcome::Record(record.to_json()),
        Err(err) => error_outcome(&err, number, id_string(&record)),
    }
}

fn error_outcome(err: &RecordError, line: u64, id: Option<String>) -> Outcome {
    tracing::warn!(line, kind = ?err.kind, field = err.field.as_deref(), "{}", err.message);
    let record = ErrorRecord {
        error: ErrorDetail {
            error: err,
            line,
            id,
        },
    };
    Outcome::Error(serde_json::to_vec(&record).expect("error records always serialize"))
}

/// The record's `id` for its error record, when it is a string or a number.
pub fn id_string(record: &Record<'_>) -> Option<String> {
    match serde_json::from_str(record.get("id")?.get()).ok()? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

struct Sink<'w> {
    output: &'w mut dyn Write,
    errors: Option<&'w mut dyn Write>,
    summary: Summary,
}

impl Sink<'_> {
    fn write_line(&mut self, outcome: Outcome) -> Result<(), RunError> {
        self.summary.records += 1;
        let (target, bytes): (&mut dyn Write, Vec<u8>) = match outcome {
            Outcome::Record(bytes) => (&mut *self.output, bytes),
            Outcome::Error(bytes) => {
                self.summary.failed += 1;
                match self.errors.as_deref_mut() {
                    Some(errors) => (errors, bytes),
                    None => (&mut *self.output, bytes),
                }
            }
        };
        target.write_all(&bytes).map_err(RunError::Output)?;
        target.write_all(b"\n").map_err(RunError::Output)
    }

    fn write_document(&mut self, outcome: Outcome) -> Result<(), RunError> {
        self.summary.records += 1;
        let bytes = match outcome {
            Outcome::Record(bytes) => bytes,
            Outcome::Error(bytes) => {
                self.summary.failed += 1;
                if let Some(errors) = self.errors.as_deref_mut() {
                    errors.write_all(&bytes).map_err(RunError::Output)?;
                    return errors.write_all(b"\n").map_err(RunError::Output);
                }
                bytes
            }
        };
        let value: Value = serde_json::from_slice(&bytes).expect("our own output is valid JSON");
        serde_json::to_writer_pretty(&mut *self.output, &value)
            .map_err(|e| RunError::Output(e.into()))?;
        self.output.write_all(b"\n").map_err(RunError::Output)
    }

    fn write_array(&mut self, outcomes: Vec<Outcome>) -> Result<(), RunError> {
        let mut items = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            self.summary.records += 1;
            let bytes = match outcome {
                Outcome::Record(bytes) => bytes,
                Outcome::Error(bytes) => {
                    self.summary.failed += 1;
                    if let Some(errors) = self.errors.as_deref_mut() {
                        errors.write_all(&bytes).map_err(RunError::Output)?;
                        errors.write_all(b"\n").map_err(RunError::Output)?;
                        continue;
                    }
                    bytes
                }
            };
            items.push(
                serde_json::from_slice::<Value>(&bytes).expect("our own output is valid JSON"),
            );
        }
        serde_json::to_writer_pretty(&mut *self.output, &items)
            .map_err(|e| RunError::Output(e.into()))?;
        self.output.write_all(b"\n").map_err(RunError::Output)
    }

    fn flush(&mut self) -> Result<(), RunError> {
        self.output.flush().map_err(RunError::Output)?;
        if let Some(errors) = self.errors.as_deref_mut() {
            errors.flush().map_err(RunError::Output)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Adds `{"echo": {"subject": ...}}`: enough to test the runner.
    struct Echo;
    impl Tool for Echo {
        const KEY: &'static str = "echo";
        type Output = Value;
        fn decide(&self, t: &Ticket<'_>, _: &Context) -> Result<Value, RecordError> {
            Ok(json!({ "subject": t.subject }))
        }
    }

    fn opts(max: usize) -> RunOptions {
        RunOptions {
            ctx: Context {
                now: Timestamp::UNIX_EPOCH,
            },
            max_record_bytes: max,
            threads: 2,
        }
    }

    fn run_str(input: &[u8], max: usize) -> (String, Summary) {
        let mut out = Vec::new();
        let summary = run(&Echo, &opts(max), input, &mut out, None).unwrap();
        (String::from_utf8(out).unwrap(), summary)
    }

    fn lines(s: &str) -> Vec<Value> {
        s.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Adds `second`, reading what `Echo` added before it.
    struct Second;
    impl Tool for Second {
        const KEY: &'static str = "second";
        type Output = Value;
        fn decide(&self, t: &Ticket<'_>, _: &Context) -> Result<Value, RecordError> {
            Ok(json!(t.prior::<Value>("echo").is_some()))
        }
    }

    #[test]
    fn a_pipeline_applies_its_stages_in_order() {
        let pipeline = Pipeline::new(vec![Box::new(Echo), Box::new(Second)]);
        let mut out = Vec::new();
        run(
            &pipeline,
            &opts(1 << 20),
            &b"{\"subject\":\"a\"}\n{}\n"[..],
            &mut out,
            None,
        )
        .unwrap();
        let out = lines(std::str::from_utf8(&out).unwrap());
        assert_eq!(out[0]["echo"]["subject"], "a");
        assert_eq!(out[0]["second"], true);
        assert_eq!(out[1]["error"]["kind"], "no_text");
    }

    #[test]
    fn json_lines_keep_order_and_unknown_fields() {
        let input: String = (0..5000)
            .map(|i| format!("{{\"id\":{i},\"subject\":\"s{i}\",\"zz\":[1,{{\"a\":null}}]}}\n"))
            .collect();
        let (out, summary) = run_str(input.as_bytes(), 1 << 20);
        let out = lines(&out);
        assert_eq!(out.len(), 5000);
        assert_eq!(
            summary,
            Summary {
                records: 5000,
                failed: 0,
                output_closed: false
            }
        );
        for (i, v) in out.iter().enumerate() {
            assert_eq!(v["id"], i);
            assert_eq!(v["echo"]["subject"], format!("s{i}"));
            assert_eq!(v["zz"], json!([1, {"a": null}]));
            let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["id", "subject", "zz", "echo"], "field order is kept");
        }
    }

    #[test]
    fn a_key_repeated_inside_a_known_field_reads_its_last_value() {
        let (out, summary) = run_str(
            br#"{"subject":"a","customer":{"tier":"x","tier":"vip"},"n":1e5}"#,
            1 << 20,
        );
        assert_eq!(summary.failed, 0, "{out}");
        assert_eq!(
            out,
            "{\"subject\":\"a\",\"customer\":{\"tier\":\"x\",\"tier\":\"vip\"},\"n\":1e5,\"echo\":{\"subject\":\"a\"}}\n",
            "the input passes through as written"
        );
    }

    #[test]
    fn bad_lines_become_error_records_in_place() {
        let input = b"{\"subject\":\"a\"}\nnot json\n\n[1]\n{\"subject\":\"\"}\n{\"id\":\"t5\",\"subject\":\"b\",\"created_at\":5}\n\xff\xfe\n{\"subject\":\"c\"}";
        let (out, summary) = run_str(input, 1 << 20);
        let out = lines(&out);
        let kinds: Vec<&str> = out
            .iter()
            .map(|v| v["error"]["kind"].as_str().unwrap_or("ok"))
            .collect();
        assert_eq!(
            kinds,
            [
                "ok",
                "invalid_json",
                "not_an_object",
                "no_text",
                "invalid_field",
                "invalid_utf8",
                "ok"
            ]
        );
        let error_lines: Vec<u64> = out
            .iter()
            .filter_map(|v| v["error"]["line"].as_u64())
            .collect();
        assert_eq!(
            error_lines,
            [2, 4, 5, 6, 7],
            "blank line 3 is skipped but counted"
        );
        assert_eq!(out[4]["error"]["field"], "created_at");
        assert_eq!(out[4]["error"]["id"], "t5");
        assert_eq!(summary.failed, 5);
    }

    #[test]
    fn oversized_line_is_reported_not_held() {
        let big = format!(
            "{{\"subject\":\"{}\"}}\n{{\"subject\":\"ok\"}}\n",
            "x".repeat(5000)
        );
        let (out, summary) = run_str(big.as_bytes(), 1000);
        let out = lines(&out);
        assert_eq!(out[0]["error"]["kind"], "too_large");
        assert_eq!(out[1]["echo"]["subject"], "ok");
        assert_eq!(summary.failed, 1);
    }

    #[test]
    fn deep_nesting_is_an_error_record() {
        let deep = format!(
            "{}1{}\n{{\"subject\":\"ok\"}}",
            "{\"a\":".repeat(10_000),
            "}".repeat(10_000)
        );
        let (out, _) = run_str(deep.as_bytes(), 1 << 20);
        let out = lines(&out);
        assert_eq!(out[0]["error"]["kind"], "too_deep");
        assert_eq!(out[1]["echo"]["subject"], "ok");
    }

    #[test]
    fn deep_array_is_a_clean_input_error() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let mut out = Vec::new();
        let err = run(&Echo, &opts(1 << 20), deep.as_bytes(), &mut out, None).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
    }

    #[test]
    fn pretty_object_in_gives_one_object_out() {
        let input = b"\xEF\xBB\xBF\n{\n  \"subject\": \"hola\",\n  \"x\": 1\n}\n";
        let (out, summary) = run_str(input, 1 << 20);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["echo"]["subject"], "hola");
        assert_eq!(summary.records, 1);
    }

    #[test]
    fn array_in_gives_array_out_with_errors_in_place() {
        let input = br#"[{"subject":"a"}, 3, {"subject":"b"}]"#;
        let (out, summary) = run_str(input, 1 << 20);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[0]["echo"]["subject"], "a");
        assert_eq!(v[1]["error"]["kind"], "not_an_object");
        assert_eq!(v[1]["error"]["line"], 2);
        assert_eq!(v[2]["echo"]["subject"], "b");
        assert_eq!(summary.failed, 1);
    }

    #[test]
    fn broken_array_is_an_input_error() {
        let mut out = Vec::new();
        let err = run(
            &Echo,
            &opts(1 << 20),
            &b"[{\"subject\": 1"[..],
            &mut out,
            None,
        )
        .unwrap_err();
        assert!(matches!(err, RunError::Input(_)));
    }

    #[test]
    fn truncated_first_line_does_not_lose_the_stream() {
        let input = b"{\"subject\": \"cut\n{\"subject\":\"b\"}\n";
        let (out, _) = run_str(input, 1 << 20);
        let out = lines(&out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["error"]["kind"], "invalid_json");
        assert_eq!(out[1]["echo"]["subject"], "b");
    }

    #[test]
    fn errors_can_go_to_their_own_writer() {
        let mut out = Vec::new();
        let mut errs = Vec::new();
        let input = &b"{\"subject\":\"a\"}\n{}\n"[..];
        let summary = run(&Echo, &opts(1 << 20), input, &mut out, Some(&mut errs)).unwrap();
        assert_eq!(lines(std::str::from_utf8(&out).unwrap()).len(), 1);
        assert_eq!(
            lines(std::str::from_utf8(&errs).unwrap())[0]["error"]["line"],
            2
        );
        assert_eq!(summary.failed, 1);
    }

    #[test]
    fn empty_input_gives_nothing() {
        let (out, summary) = run_str(b"  \n\n", 1 << 20);
        assert!(out.is_empty());
        assert_eq!(summary.records, 0);
    }

    #[test]
    fn closed_output_stops_quietly() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let input = "{\"subject\":\"a\"}\n".repeat(10_000);
        let summary = run(&Echo, &opts(1 << 20), input.as_bytes(), &mut Closed, None).unwrap();
        assert!(summary.output_closed);
    }

    /// A short output sits in stdout's buffer until the final flush, which
    /// is then where a closed reader shows.
    #[test]
    fn closed_output_found_by_the_last_flush_stops_quietly() {
        struct Buffered;
        impl Write for Buffered {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
        }
        let input = b"{\"subject\":\"a\"}\n{\"subject\":\"b\"}\n";
        let summary = run(&Echo, &opts(1 << 20), &input[..], &mut Buffered, None).unwrap();
        assert!(summary.output_closed);
    }
}
