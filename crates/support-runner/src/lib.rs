//! The stdin/stdout runner every tool shares.
//!
//! Input form is detected: one JSON object, a JSON array, or JSON Lines; the
//! output keeps the form. Records are read in bounded batches by one thread
//! ([`Records`]) and processed in parallel, in order, and written as they
//! come, so memory stays flat on any stream, arrays included. Every record
//! yields its output or an error record in its place; an error record
//! from an earlier tool passes through unchanged.

mod handoff;
pub mod input;

use std::collections::VecDeque;
use std::io::{self, BufRead, IoSlice, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use serde_json::Value;
use support_core::error::{ErrorRecord, RecordError};
use support_core::json_text::{top_level_id, write_pretty};
use support_core::{apply_to_record, apply_to_records, Context, Record, Stage};

use crate::handoff::{lock, CloseOnExit, Handoff, Taken};
use crate::input::{Form, RawRecord, Records};

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

/// Runs `stage` over everything `input` holds, writing to `output`; error
/// records go to `errors` when given, else in place in `output`.
pub fn run<'w, R: BufRead + Send>(
    stage: &dyn Stage,
    opts: &RunOptions,
    input: R,
    output: &'w mut dyn Write,
    errors: Option<&'w mut dyn Write>,
) -> Result<Summary, RunError> {
    // One per core when not given: counted here, not left to rayon, whose
    // count follows RAYON_NUM_THREADS (which tools embedding text set to 1
    // for the encoder's own pool: support_embed::one_thread_per_call).
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let records =
        Records::new(input, opts.max_record_bytes).map_err(|e| RunError::Input(e.to_string()))?;
    let mut sink = Sink {
        form: records.form(),
        output,
        errors,
        written: 0,
        lines: Vec::new(),
        lines_bytes: 0,
        summary: Summary::default(),
    };
    let result = run_records(stage, opts, threads, records, &mut sink).and_then(|()| sink.finish());
    // Flushed even when the run failed (the input broke off): the records
    // done before it, some still waiting in `sink`, are not lost. A small
    // output is first written here, so a reader that has gone (`| head -1`)
    // shows up here as often as in the loop.
    let flushed = sink.flush();
    match result.and(flushed) {
        Err(RunError::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => {
            sink.summary.output_closed = true;
            Ok(())
        }
        other => other,
    }?;
    Ok(sink.summary)
}

/// One thread reads records while the workers process them, in parallel,
/// and this thread writes the outcomes in input order as each batch is
/// done. The output is flushed whenever the workers wait for input, so a
/// slow stream sees each answer as its record is done. The worker pool
/// starts with the first batch of more than one group of records: a single
/// ticket is processed on this thread.
fn run_records<R: BufRead + Send>(
    stage: &dyn Stage,
    opts: &RunOptions,
    threads: usize,
    mut records: Records<R>,
    sink: &mut Sink<'_>,
) -> Result<(), RunError> {
    let handoff = Handoff::default();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let _closed = CloseOnExit(&handoff);
            loop {
                match records.next_record() {
                    Ok(Some(record)) => {
                        if !handoff.push(record) {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => return handoff.close(Err(e)),
                }
            }
        });
        let result = process_batches(stage, opts, threads, &handoff, sink);
        // Ended early (an output error): the reader must not wait for us.
        handoff.abandon();
        result
    })
}

fn process_batches(
    stage: &dyn Stage,
    opts: &RunOptions,
    threads: usize,
    handoff: &Handoff,
    sink: &mut Sink<'_>,
) -> Result<(), RunError> {
    let first_large = loop {
        match take_flushing(handoff, sink)? {
            Taken::Records(batch) if batch.len() <= GROUP_RECORDS => {
                sink.write_all(vec![process_group(stage, &opts.ctx, batch)])?;
            }
            Taken::Records(batch) => break batch,
            Taken::End(end) => return end.map_err(input_error),
        }
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| RunError::Input(format!("cannot start worker threads: {e}")))?;
    pool.in_place_scope(|scope| {
        let mut in_flight = InFlight::new(stage, &opts.ctx, scope);
        in_flight.start(first_large);
        loop {
            // Every batch that has arrived starts at once, up to the limit:
            // the workers go from one batch's groups to the next's without
            // waiting for this thread.
            while in_flight.has_room() {
                match handoff.try_take() {
                    Some(Taken::Records(batch)) => in_flight.start(batch),
                    Some(Taken::End(end)) => {
                        in_flight.drain(sink)?;
                        return end.map_err(input_error);
                    }
                    None => break,
                }
            }
            if !in_flight.is_empty() {
                in_flight.write_finished(sink)?;
                continue;
            }
            match take_flushing(handoff, sink)? {
                Taken::Records(batch) => in_flight.start(batch),
                Taken::End(end) => return end.map_err(input_error),
            }
        }
    })
}

/// The records that have arrived or, when none has, the next to arrive,
/// with the output flushed before waiting: a slow stream's answers go out
/// while its next record is on its way.
fn take_flushing(handoff: &Handoff, sink: &mut Sink<'_>) -> Result<Taken, RunError> {
    if let Some(taken) = handoff.try_take() {
        return Ok(taken);
    }
    sink.flush()?;
    Ok(handoff.take())
}

fn input_error(e: io::Error) -> RunError {
    RunError::Input(e.to_string())
}

/// Batches the workers have started: their groups are processed in any
/// order, and the batches written in input order as each is done.
struct InFlight<'a, 'scope> {
    stage: &'scope dyn Stage,
    ctx: &'scope Context,
    scope: &'a rayon::Scope<'scope>,
    /// The started batches, oldest first.
    batches: VecDeque<Arc<StartedBatch>>,
    /// A message each time a batch's last group is done.
    done: mpsc::Receiver<()>,
    send_done: mpsc::Sender<()>,
}

/// A batch's groups, filled in by the workers: the last to finish says the
/// batch is done, so this thread wakes once a batch, not once a group.
struct StartedBatch {
    groups: Mutex<Vec<Option<std::thread::Result<Vec<Outcome>>>>>,
    /// Groups not done yet.
    left: AtomicUsize,
}

impl StartedBatch {
    fn is_done(&self) -> bool {
        self.left.load(Ordering::Acquire) == 0
    }
}

/// Batches started at once: while the oldest finishes its last groups, the
/// next one keeps every worker busy; more would only hold more memory.
const BATCHES_IN_FLIGHT: usize = 2;

impl<'a, 'scope> InFlight<'a, 'scope> {
    fn new(
        stage: &'scope dyn Stage,
        ctx: &'scope Context,
        scope: &'a rayon::Scope<'scope>,
    ) -> Self {
        let (send_done, done) = mpsc::channel();
        InFlight {
            stage,
            ctx,
            scope,
            batches: VecDeque::with_capacity(BATCHES_IN_FLIGHT),
            done,
            send_done,
        }
    }

    fn has_room(&self) -> bool {
        self.batches.len() < BATCHES_IN_FLIGHT
    }

    fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// Gives the workers `batch`, a task per group.
    fn start(&mut self, batch: Vec<RawRecord>) {
        let groups = batch.len().div_ceil(GROUP_RECORDS);
        let started = Arc::new(StartedBatch {
            groups: Mutex::new((0..groups).map(|_| None).collect()),
            left: AtomicUsize::new(groups),
        });
        let mut records = batch.into_iter();
        for place in 0..groups {
            let group: Vec<RawRecord> = records.by_ref().take(GROUP_RECORDS).collect();
            let (stage, ctx) = (self.stage, self.ctx);
            let (started, send_done) = (Arc::clone(&started), self.send_done.clone());
            self.scope.spawn(move |_| {
                let outcomes =
                    panic::catch_unwind(AssertUnwindSafe(|| process_group(stage, ctx, group)));
                lock(&started.groups)[place] = Some(outcomes);
                if started.left.fetch_sub(1, Ordering::AcqRel) == 1 {
                    // Fails only when this thread has stopped early (an
                    // output error): nothing waits for the batch then.
                    let _ = send_done.send(());
                }
            });
        }
        self.batches.push_back(started);
    }

    /// Waits for a batch to be done, then writes every batch done at the
    /// front. Each batch sends one message, so the messages never run out
    /// before the batches do.
    fn write_finished(&mut self, sink: &mut Sink<'_>) -> Result<(), RunError> {
        self.done
            .recv()
            .expect("this struct holds a sender, so the channel stays open");
        while let Some(started) = self.batches.front().filter(|started| started.is_done()) {
            let groups = std::mem::take(&mut *lock(&started.groups));
            self.batches.pop_front();
            let mut outcomes = Vec::with_capacity(groups.len());
            for group in groups {
                let group = group.expect("a done batch has every group");
                outcomes.push(group.unwrap_or_else(|panic| panic::resume_unwind(panic)));
            }
            sink.write_all(outcomes)?;
        }
        Ok(())
    }

    /// Waits for every started batch and writes them.
    fn drain(&mut self, sink: &mut Sink<'_>) -> Result<(), RunError> {
        while !self.is_empty() {
            self.write_finished(sink)?;
        }
        Ok(())
    }
}

/// Records a worker takes through the stages together, stage by stage
/// (`apply_to_records`): enough for each stage's code to stay in the
/// processor's caches from one ticket to the next, few enough for the
/// tickets' own data to stay there too.
const GROUP_RECORDS: usize = 16;

/// The outcomes of `raws`, in order. Tickets go through the stages as one
/// group; should anything outside a stage panic, each record of the group is
/// processed again on its own, so one bad record costs only its own place.
fn process_group(stage: &dyn Stage, ctx: &Context, raws: Vec<RawRecord>) -> Vec<Outcome> {
    // Each record's outcome when reading it already decides one.
    let mut decided: Vec<Option<Outcome>> = Vec::with_capacity(raws.len());
    let mut records = Vec::with_capacity(raws.len());
    for raw in &raws {
        match readable(raw) {
            Ok(record) => {
                records.push(record);
                decided.push(None);
            }
            Err(outcome) => decided.push(Some(outcome)),
        }
    }
    let applied = panic::catch_unwind(AssertUnwindSafe(|| apply_to_records(stage, &records, ctx)));
    let Ok(results) = applied else {
        drop(records);
        return raws
            .into_iter()
            .map(|raw| process(stage, ctx, raw))
            .collect();
    };
    let mut processed = results.into_iter().zip(&records);
    decided
        .into_iter()
        .zip(&raws)
        .map(|(outcome, raw)| {
            outcome.unwrap_or_else(|| {
                let (result, record) = processed.next().expect("a result per record");
                outcome_of(result, record, raw.number)
            })
        })
        .collect()
}

/// A processed record, serialized compact: either the output or the error record.
enum Outcome {
    Record(Vec<u8>),
    Error(Vec<u8>),
}

fn process(stage: &dyn Stage, ctx: &Context, raw: RawRecord) -> Outcome {
    let record = match readable(&raw) {
        Ok(record) => record,
        Err(outcome) => return outcome,
    };
    let result = panic::catch_unwind(AssertUnwindSafe(|| apply_to_record(stage, &record, ctx)))
        .unwrap_or_else(|_| Err(RecordError::internal()));
    outcome_of(result, &record, raw.number)
}

/// The record `raw` holds, or the outcome it already has: its read error,
/// its parse error, or an earlier tool's error record passed through.
fn readable(raw: &RawRecord) -> Result<Record<'_>, Outcome> {
    let json = match &raw.content {
        Ok(json) => json,
        Err(err) => return Err(error_outcome(err, raw.number, None)),
    };
    match Record::parse(json) {
        Err(err) => Err(error_outcome(&err, raw.number, top_level_id(json))),
        Ok(record) if record.is_error_record() => Err(passed_error(&record, raw.number)),
        Ok(record) => Ok(record),
    }
}

/// The output line of a processed record, or its error record.
fn outcome_of(result: Result<Vec<u8>, RecordError>, record: &Record<'_>, number: u64) -> Outcome {
    match result {
        Ok(json) => Outcome::Record(json),
        Err(err) => error_outcome(&err, number, id_string(record)),
    }
}

/// An earlier tool's error record keeps its kind, message, field, line and
/// id: the first tool to fail says best what went wrong.
fn passed_error(record: &Record<'_>, number: u64) -> Outcome {
    tracing::debug!(line = number, "passing an earlier error record through");
    Outcome::Error(record.to_json())
}

fn error_outcome(err: &RecordError, line: u64, id: Option<String>) -> Outcome {
    Outcome::Error(ErrorRecord::json(err, line, id))
}

/// The record's `id` for its error record, when it is a string or a number.
pub fn id_string(record: &Record<'_>) -> Option<String> {
    match serde_json::from_str(record.get("id")?.get()).ok()? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Writes outcomes as they come, in the input's form: a line each, one
/// pretty document, or the elements of one pretty array.
struct Sink<'w> {
    form: Form,
    output: &'w mut dyn Write,
    errors: Option<&'w mut dyn Write>,
    /// Records written to `output` so far.
    written: u64,
    /// JSON Lines not yet handed to `output`, each with its line break:
    /// given to it together in one vectored write, not copied into its
    /// buffer line by line (a line is kilobytes; in support-triage the copy
    /// was two thirds of this thread's time).
    lines: Vec<Vec<u8>>,
    /// Bytes in `lines`.
    lines_bytes: usize,
    summary: Summary,
}

/// The size of the buffer a tool's output should have: `lines` are written
/// once they hold this many bytes, so such a write goes past the buffer
/// instead of being copied into it.
pub const OUTPUT_BUFFER_BYTES: usize = 256 << 10;
const LINES_BYTES: usize = OUTPUT_BUFFER_BYTES;
/// `lines` are written once there are this many: the most one `writev`
/// takes on Linux.
const LINES_AT_ONCE: usize = 1024;

impl Sink<'_> {
    /// Writes groups of outcomes, in order.
    fn write_all(&mut self, groups: Vec<Vec<Outcome>>) -> Result<(), RunError> {
        groups
            .into_iter()
            .flatten()
            .try_for_each(|outcome| self.write(outcome))
    }

    fn write(&mut self, outcome: Outcome) -> Result<(), RunError> {
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
        let text = match self.form {
            Form::Lines => return self.push_line(bytes),
            Form::Document => {
                let mut text = Vec::with_capacity(bytes.len() * 2);
                write_pretty(&bytes, 0, &mut text);
                text
            }
            Form::Array => {
                let mut text = Vec::with_capacity(bytes.len() * 2);
                text.extend_from_slice(if self.written == 0 {
                    b"[\n  "
                } else {
                    b",\n  "
                });
                write_pretty(&bytes, 1, &mut text);
                text
            }
        };
        self.written += 1;
        self.output.write_all(&text).map_err(RunError::Output)?;
        if self.form == Form::Array {
            return Ok(());
        }
        self.output.write_all(b"\n").map_err(RunError::Output)
    }

    fn push_line(&mut self, mut line: Vec<u8>) -> Result<(), RunError> {
        line.push(b'\n');
        self.written += 1;
        self.lines_bytes += line.len();
        self.lines.push(line);
        if self.lines_bytes >= LINES_BYTES || self.lines.len() >= LINES_AT_ONCE {
            self.write_lines()?;
        }
        Ok(())
    }

    /// Hands `lines` to the output, all of them, in order.
    fn write_lines(&mut self) -> Result<(), RunError> {
        let mut slices: Vec<IoSlice<'_>> = self.lines.iter().map(|l| IoSlice::new(l)).collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match self.output.write_vectored(rest) {
                Ok(0) => return Err(RunError::Output(io::ErrorKind::WriteZero.into())),
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(RunError::Output(e)),
            }
        }
        self.lines.clear();
        self.lines_bytes = 0;
        Ok(())
    }

    /// Closes an array (an empty one is `[]`).
    fn finish(&mut self) -> Result<(), RunError> {
        if self.form != Form::Array {
            return Ok(());
        }
        let end: &[u8] = if self.written == 0 { b"[]\n" } else { b"\n]\n" };
        self.output.write_all(end).map_err(RunError::Output)
    }

    fn flush(&mut self) -> Result<(), RunError> {
        self.write_lines()?;
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

    use jiff::Timestamp;
    use support_core::testing::{Echo, Echoed};
    use support_core::{Pipeline, Ticket, Tool, ToolResult};

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
    #[derive(Clone, serde::Serialize, serde::Deserialize)]
    struct SawEcho(bool);
    impl ToolResult for SawEcho {
        const KEY: &'static str = "second";
    }
    impl Tool for Second {
        type Output = SawEcho;
        fn decide(&self, t: &Ticket<'_>, _: &Context) -> Result<SawEcho, RecordError> {
            Ok(SawEcho(t.result::<Echoed>().is_some()))
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

    /// Panics on a ticket whose subject is "boom".
    struct Boom;
    impl Tool for Boom {
        type Output = SawEcho;
        fn decide(&self, t: &Ticket<'_>, _: &Context) -> Result<SawEcho, RecordError> {
            assert!(t.subject.as_deref() != Some("boom"), "boom");
            Ok(SawEcho(t.result::<Echoed>().is_some()))
        }
    }

    /// Applies `Echo` and `Second` record by record, but panics when asked
    /// to apply them to a group: a panic outside any one ticket's stage.
    struct GroupPanics(Pipeline);
    impl Stage for GroupPanics {
        fn apply(&self, ticket: &mut Ticket<'_>, ctx: &Context) -> Result<(), RecordError> {
            self.0.apply(ticket, ctx)
        }
        fn apply_each(&self, _: &mut [Result<Ticket<'_>, RecordError>], _: &Context) {
            panic!("group");
        }
    }

    fn subjects(count: usize, boom_every: usize) -> String {
        (0..count)
            .map(|i| match i % boom_every {
                0 => format!("{{\"id\":{i},\"subject\":\"boom\"}}\n"),
                1 => format!("{{\"id\":{i}}}\n"),
                _ => format!("{{\"id\":{i},\"subject\":\"s{i}\"}}\n"),
            })
            .collect()
    }

    /// Groups of records go through the stages together; a ticket that
    /// fails or panics in a stage is its own error record, and the tickets
    /// of its group, before and after it, still go through every stage.
    #[test]
    fn a_panic_in_a_stage_costs_only_its_ticket() {
        let pipeline = Pipeline::new(vec![Box::new(Echo), Box::new(Boom), Box::new(Second)]);
        for count in [1, 3, 100] {
            let mut out = Vec::new();
            let input = subjects(count, 7);
            let summary = run(&pipeline, &opts(1 << 20), input.as_bytes(), &mut out, None).unwrap();
            let out = lines(std::str::from_utf8(&out).unwrap());
            assert_eq!(out.len(), count);
            for (i, line) in out.iter().enumerate() {
                let id = line.get("id").unwrap_or(&line["error"]["id"]);
                assert_eq!(
                    id.to_string().trim_matches('"'),
                    i.to_string(),
                    "in order, in place"
                );
                match i % 7 {
                    0 => {
                        assert_eq!(
                            line["error"]["message"],
                            "internal error while processing this record"
                        );
                        assert_eq!(line["error"]["line"], i + 1);
                    }
                    1 => assert_eq!(line["error"]["kind"], "no_text"),
                    _ => assert_eq!(
                        (&line["echo"]["subject"], &line["second"]),
                        (&json!(format!("s{i}")), &json!(true))
                    ),
                }
            }
            assert_eq!(
                summary.failed as usize,
                out.iter().filter(|l| l.get("error").is_some()).count()
            );
        }
    }

    #[test]
    fn a_panic_outside_the_stages_processes_the_group_record_by_record() {
        let stage = GroupPanics(Pipeline::new(vec![Box::new(Echo), Box::new(Second)]));
        let input: String = (0..50)
            .map(|i| format!("{{\"id\":{i},\"subject\":\"s{i}\"}}\n"))
            .collect();
        let mut out = Vec::new();
        let summary = run(&stage, &opts(1 << 20), input.as_bytes(), &mut out, None).unwrap();
        assert_eq!(summary.failed, 0);
        let out = lines(std::str::from_utf8(&out).unwrap());
        assert_eq!(out.len(), 50);
        for (i, line) in out.iter().enumerate() {
            assert_eq!((&line["id"], &line["second"]), (&json!(i), &json!(true)));
        }
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

    /// Takes its time over the first group of each batch, so the groups
    /// after it, and the next batch, are done first.
    struct SlowFirstGroups;
    impl Tool for SlowFirstGroups {
        type Output = SawEcho;
        fn decide(&self, t: &Ticket<'_>, _: &Context) -> Result<SawEcho, RecordError> {
            let place: usize = t.subject.as_deref().unwrap().parse().unwrap();
            if place % crate::input::BATCH_RECORDS < GROUP_RECORDS {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Ok(SawEcho(false))
        }
    }

    #[test]
    fn groups_and_batches_done_out_of_order_are_written_in_order() {
        let count = crate::input::BATCH_RECORDS * 3 + 5;
        let input: String = (0..count)
            .map(|i| format!("{{\"id\":\"{i}\",\"subject\":\"{i}\"}}\n"))
            .collect();
        let mut out = Vec::new();
        let summary = run(
            &SlowFirstGroups,
            &opts(1 << 20),
            input.as_bytes(),
            &mut out,
            None,
        )
        .unwrap();
        assert_eq!((summary.records, summary.failed), (count as u64, 0));
        let ids: Vec<String> = lines(std::str::from_utf8(&out).unwrap())
            .iter()
            .map(|line| line["id"].as_str().unwrap().to_owned())
            .collect();
        let expected: Vec<String> = (0..count).map(|i| i.to_string()).collect();
        assert_eq!(ids, expected);
    }

    /// Takes at most `limit` bytes per call, across the slices of a
    /// vectored write: a pipe that is nearly full.
    struct Trickle {
        limit: usize,
        taken: Vec<u8>,
        vectored_calls: usize,
    }
    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = buf.len().min(self.limit);
            self.taken.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.vectored_calls += 1;
            let mut taken = 0;
            for buf in bufs {
                if taken == self.limit {
                    break;
                }
                let n = buf.len().min(self.limit - taken);
                self.taken.extend_from_slice(&buf[..n]);
                taken += n;
            }
            Ok(taken)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Lines given to the output together reach it whole and in order,
    /// past the bytes and the number of lines written at once, however
    /// little the output takes per call.
    #[test]
    fn lines_written_together_arrive_whole_and_in_order() {
        let count = LINES_AT_ONCE * 2 + 7;
        let subject = "x".repeat(300);
        let input: String = (0..count)
            .map(|i| format!("{{\"id\":\"{i}\",\"subject\":\"{subject}\"}}\n"))
            .collect();
        assert!(
            input.len() > 2 * LINES_BYTES,
            "more bytes than one write takes"
        );
        for limit in [7, 1000, usize::MAX] {
            let mut out = Trickle {
                limit,
                taken: Vec::new(),
                vectored_calls: 0,
            };
            let summary = run(&Echo, &opts(1 << 20), input.as_bytes(), &mut out, None).unwrap();
            assert_eq!(summary.records, count as u64);
            let text = String::from_utf8(out.taken).unwrap();
            let ids: Vec<String> = lines(&text)
                .iter()
                .map(|line| line["id"].as_str().unwrap().to_owned())
                .collect();
            let expected: Vec<String> = (0..count).map(|i| i.to_string()).collect();
            assert_eq!(ids, expected, "limit {limit}");
            assert!(text.ends_with('\n'));
            if limit == usize::MAX {
                assert!(
                    out.vectored_calls < count / 100,
                    "{} writes",
                    out.vectored_calls
                );
            }
        }
    }

    /// Gives `lines` of input, then fails: a stdin whose device errs part way.
    struct FailsAfter(io::Cursor<Vec<u8>>);
    impl io::Read for FailsAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(io::Error::other("the device failed")),
                n => Ok(n),
            }
        }
    }

    /// Records read before the input fails are all written, whether they
    /// were processed one by one or by the workers, and the run reports
    /// the failure.
    #[test]
    fn records_before_an_input_failure_are_written() {
        for count in [3, 100, LINES_AT_ONCE + 5] {
            let input: String = (0..count)
                .map(|i| format!("{{\"id\":\"{i}\",\"subject\":\"hola\"}}\n"))
                .collect();
            let reader = io::BufReader::new(FailsAfter(io::Cursor::new(input.into_bytes())));
            let mut out = Vec::new();
            let result = run(&Echo, &opts(1 << 20), reader, &mut out, None);
            assert!(matches!(result, Err(RunError::Input(_))), "{count} records");
            let ids: Vec<String> = lines(&String::from_utf8(out).unwrap())
                .iter()
                .map(|line| line["id"].as_str().unwrap().to_owned())
                .collect();
            let expected: Vec<String> = (0..count).map(|i| i.to_string()).collect();
            assert_eq!(ids, expected, "{count} records");
        }
    }

    /// Sends what it has been given at each flush: what a reader of the
    /// output would see.
    struct FlushedLines(std::sync::mpsc::Sender<usize>, Vec<u8>);
    impl Write for FlushedLines {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            let lines = self.1.iter().filter(|&&b| b == b'\n').count();
            let _ = self.0.send(lines);
            Ok(())
        }
    }

    /// A stream that starts with a large batch (the worker pool starts) and
    /// then slows down still gets each answer while its input stays open.
    #[test]
    fn a_stream_that_slows_down_after_a_large_batch_gets_each_answer() {
        let (reader, mut writer) = io::pipe().unwrap();
        let (flushed, seen) = std::sync::mpsc::channel();
        let feeder = std::thread::spawn(move || {
            let wait_for = |lines: usize| loop {
                let seen: usize = seen
                    .recv_timeout(std::time::Duration::from_secs(60))
                    .unwrap_or_else(|_| {
                        panic!("no answer to record {lines} while the input is open")
                    });
                if seen >= lines {
                    return;
                }
            };
            let first: String = (0..100)
                .map(|i| format!("{{\"id\":{i},\"subject\":\"s\"}}\n"))
                .collect();
            writer.write_all(first.as_bytes()).unwrap();
            wait_for(100);
            for i in 100..103 {
                writeln!(writer, "{{\"id\":{i},\"subject\":\"s\"}}").unwrap();
                wait_for(i + 1);
            }
        });
        let mut out = FlushedLines(flushed, Vec::new());
        let summary = run(
            &Echo,
            &opts(1 << 20),
            io::BufReader::new(reader),
            &mut out,
            None,
        )
        .unwrap();
        feeder.join().unwrap();
        assert_eq!(summary.records, 103);
        let ids: Vec<Value> = lines(std::str::from_utf8(&out.1).unwrap())
            .into_iter()
            .map(|line| line["id"].clone())
            .collect();
        assert_eq!(ids, (0..103).map(|i| json!(i)).collect::<Vec<_>>());
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
    fn deep_array_elements_are_error_records() {
        let deep = format!(
            "[{}{}, {{\"subject\":\"ok\"}}]",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let (out, summary) = run_str(deep.as_bytes(), 1 << 20);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[0]["error"]["kind"], "too_deep");
        assert_eq!(v[1]["echo"]["subject"], "ok");
        assert_eq!(summary.failed, 1);
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
    fn a_broken_array_keeps_the_elements_before_the_break() {
        let (out, summary) = run_str(br#"[{"subject":"a"}, {"subject": 1"#, 1 << 20);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v[0]["echo"]["subject"], "a");
        assert_eq!(v[1]["error"]["kind"], "invalid_json");
        assert_eq!(v[1]["error"]["line"], 2);
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert_eq!(summary.failed, 1);
    }

    #[test]
    fn values_a_parse_refuses_pass_through_every_form() {
        let ticket = r#"{"id":"1","subject":"hola","meta":"\ud800","n":1e999}"#;
        for input in [
            format!("{ticket}\n{{\"id\":\"2\",\"subject\":\"ok\"}}\n"),
            format!("[{ticket},{{\"id\":\"2\",\"subject\":\"ok\"}}]"),
            format!("{{\n{}", &ticket[1..]),
        ] {
            let (out, summary) = run_str(input.as_bytes(), 1 << 20);
            assert_eq!(summary.failed, 0, "{out}");
            assert!(
                out.contains(r#""\ud800""#) && out.contains("1e999"),
                "{out}"
            );
            assert!(out.contains(r#""subject": "hola""#) || out.contains(r#""subject":"hola""#));
        }
    }

    #[test]
    fn a_repeated_key_with_a_number_a_parse_refuses_is_still_read() {
        let (out, summary) = run_str(
            br#"{"subject":"a","customer":{"tier":"x","tier":"vip"},"n":1e999}"#,
            1 << 20,
        );
        assert_eq!(summary.failed, 0, "{out}");
        assert!(
            out.ends_with("\"n\":1e999,\"echo\":{\"subject\":\"a\"}}\n"),
            "{out}"
        );
    }

    #[test]
    fn an_earlier_error_record_passes_through_unchanged() {
        let earlier = r#"{"error":{"kind":"invalid_json","message":"EOF while parsing","field":"subject","line":7,"id":"X"}}"#;
        let input = format!("{earlier}\n{{\"subject\":\"b\"}}\n");
        let (out, summary) = run_str(input.as_bytes(), 1 << 20);
        let out: Vec<&str> = out.lines().collect();
        assert_eq!(out[0], earlier);
        assert!(out[1].contains("echo"));
        assert_eq!(summary.failed, 1);
    }

    #[test]
    fn line_numbers_count_blank_lines_before_the_first_record() {
        let (out, _) = run_str(b"\n\n{\"subject\":1}\n", 1 << 20);
        assert_eq!(lines(&out)[0]["error"]["line"], 3);
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
