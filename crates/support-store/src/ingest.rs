//! `support-store ingest`: triaged tickets (one object, an array or JSON
//! Lines, as every tool writes them) into the store.
//!
//! Each batch is one transaction: its rows are copied (binary COPY) into
//! temporary staging tables, then upserted by ticket id with a handful of
//! set-based statements. A batch that fails on the connection rolls back as a
//! whole, so running the same input again finishes the job without
//! duplicates. A ticket whose stored record is unchanged is not rewritten.
//!
//! Lines are read and parsed on a second thread while the previous batch is
//! written.

use jiff::Timestamp;
use std::collections::HashMap;
use std::io::{self, BufRead, Write};
use std::sync::mpsc::sync_channel;
use std::time::{Duration, SystemTime};

use backon::{BlockingRetryable, ExponentialBuilder};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use postgres::{Client, Transaction};
use serde::Serialize;
use support_core::error::ErrorRecord;
use support_core::json_text::top_level_id;
use support_core::{ErrorKind, Record, RecordError};
use support_runner::id_string;
use support_runner::input::Records;

use crate::row::TicketRow;
use crate::StoreError;

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Records per transaction.
    pub batch_size: usize,
    /// Larger records become `too_large` error records without being held in memory.
    pub max_record_bytes: usize,
}

/// What an ingest did (also when it stopped on a database error).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestSummary {
    /// Non-blank input lines read.
    pub records: u64,
    /// Records stored (inserted, updated, or already stored unchanged).
    pub stored: u64,
    /// Records reported as error records.
    pub failed: u64,
    /// Transactions committed.
    pub batches: u64,
    /// Every input line up to this one is stored or reported.
    pub done_through_line: u64,
}

/// Why an ingest stopped before the end of its input.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read input: {0}")]
    Input(io::Error),
    #[error("cannot write error records: {0}")]
    Output(io::Error),
    /// Before any batch: the schema is not current, or the staging tables failed.
    #[error("{0}")]
    Store(StoreError),
    /// The batch holding lines `first_line..=last_line` was rolled back.
    #[error(
        "{source}\nthe batch of lines {first_line}-{last_line} was rolled back; every line before it is stored or reported: \
         once the cause is dealt with, run the same command again (stored tickets are updated in place, never duplicated)"
    )]
    Database {
        source: StoreError,
        first_line: u64,
        last_line: u64,
    },
}

/// A batch as the reader hands it over: parsed rows, and the serialized
/// error records of the lines that failed.
struct ParsedBatch {
    first_line: u64,
    last_line: u64,
    rows: Vec<(u64, String, TicketRow)>,
    errors: Vec<Vec<u8>>,
}

/// Reads JSON Lines from `input` and stores every ticket; error records of bad
/// lines (and of records the server refused) go to `errors`.
pub fn ingest<R: BufRead + Send + 'static>(
    client: &mut Client,
    input: R,
    errors: &mut dyn Write,
    options: &IngestOptions,
    progress: &dyn Fn(&IngestSummary),
) -> Result<IngestSummary, IngestError> {
    crate::migrate::ensure_current(client).map_err(IngestError::Store)?;
    client
        .batch_execute(STAGING_TABLES)
        .map_err(|e| IngestError::Store(e.into()))?;

    // A detached reader: when the database fails, the error returns at once
    // instead of waiting for an idle producer to close the input.
    let (batches_tx, batches_rx) = sync_channel::<io::Result<ParsedBatch>>(1);
    let reader_options = options.clone();
    let reader = std::thread::spawn(move || read_batches(input, &reader_options, &batches_tx));
    let mut summary = IngestSummary::default();
    for batch in batches_rx {
        let batch = batch.map_err(IngestError::Input)?;
        summary.records += (batch.rows.len() + batch.errors.len()) as u64;
        write_lines(errors, &batch.errors)?;
        summary.failed += batch.errors.len() as u64;
        let refused = store_batch(client, &batch.rows).map_err(|source| IngestError::Database {
            source: source.into(),
            first_line: batch.first_line,
            last_line: batch.last_line,
        })?;
        write_lines(errors, &refused)?;
        errors.flush().map_err(IngestError::Output)?;
        summary.failed += refused.len() as u64;
        summary.stored += (batch.rows.len() - refused.len()) as u64;
        summary.batches += 1;
        summary.done_through_line = batch.last_line;
        progress(&summary);
    }
    reader
        .join()
        .map_err(|_| IngestError::Input(io::Error::other("the input reader failed")))?;
    Ok(summary)
}

fn write_lines(out: &mut dyn Write, lines: &[Vec<u8>]) -> Result<(), IngestError> {
    lines
        .iter()
        .try_for_each(|line| out.write_all(line).and_then(|()| out.write_all(b"\n")))
        .map_err(IngestError::Output)
}

/// The reader thread: batches of `batch_size` lines, parsed. Stops at the end
/// of the input, on a read error, or when the writer has gone away.
fn read_batches<R: BufRead>(
    input: R,
    options: &IngestOptions,
    out: &std::sync::mpsc::SyncSender<io::Result<ParsedBatch>>,
) {
    let mut records = match Records::new(input, options.max_record_bytes) {
        Ok(records) => records,
        Err(e) => {
            let _ = out.send(Err(e));
            return;
        }
    };
    let mut line_no = 0u64;
    loop {
        let mut batch = ParsedBatch {
            first_line: line_no + 1,
            last_line: line_no,
            rows: Vec::with_capacity(options.batch_size),
            errors: Vec::new(),
        };
        while batch.rows.len() + batch.errors.len() < options.batch_size {
            let line = match records.next_record() {
                Ok(Some(line)) => {
                    line_no = line.number;
                    line
                }
                Ok(None) => break,
                Err(e) => {
                    let _ = out.send(Err(e));
                    return;
                }
            };
            match parse_line(line.bytes()) {
                Ok((id, row)) => batch.rows.push((line.number, id, row)),
                Err(Unstored::Earlier(record)) => batch.errors.push(record),
                Err(Unstored::Error(error, id)) => {
                    batch
                        .errors
                        .push(ErrorRecord::json(&error, line.number, id))
                }
            }
        }
        batch.last_line = line_no;
        let empty = batch.rows.is_empty() && batch.errors.is_empty();
        if empty || out.send(Ok(batch)).is_err() {
            return;
        }
    }
}

/// Why a record is not stored.
enum Unstored {
    /// It cannot be read as a ticket: the error, and the ticket's id if known.
    Error(RecordError, Option<String>),
    /// It is an earlier tool's error record, passed on unchanged.
    Earlier(Vec<u8>),
}

fn parse_line(bytes: Result<&[u8], RecordError>) -> Result<(String, TicketRow), Unstored> {
    let bytes = bytes.map_err(|e| Unstored::Error(e, None))?;
    let record = Record::parse(bytes).map_err(|e| Unstored::Error(e, top_level_id(bytes)))?;
    if record.is_error_record() {
        return Err(Unstored::Earlier(record.to_json()));
    }
    // Record::parse has checked the UTF-8.
    let line = std::str::from_utf8(bytes).expect("a parsed record is UTF-8");
    let row =
        TicketRow::parse(line, &record).map_err(|e| Unstored::Error(e, id_string(&record)))?;
    Ok((row.columns.id.clone(), row))
}

/// Stores a batch in one transaction. When the server refuses the data itself
/// (a constraint or value check this crate did not foresee), stores the rows
/// one by one instead and returns error records for those refused.
fn store_batch(
    client: &mut Client,
    rows: &[(u64, String, TicketRow)],
) -> Result<Vec<Vec<u8>>, postgres::Error> {
    // Within a batch, a later line for the same id wins, as if applied in order.
    let mut last_of: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
    for (index, (_, id, _)) in rows.iter().enumerate() {
        last_of.insert(id.as_str(), index);
    }
    let mut unique: Vec<&TicketRow> = rows
        .iter()
        .enumerate()
        .filter(|(index, (_, id, _))| last_of[id.as_str()] == *index)
        .map(|(_, (_, _, row))| row)
        .collect();
    // Every run locks the same tickets in the same order: concurrent ingests
    // of the same tickets wait for each other instead of deadlocking.
    unique.sort_unstable_by(|a, b| a.columns.id.cmp(&b.columns.id));
    match write_rows(client, &unique) {
        Ok(()) => return Ok(Vec::new()),
        Err(e) if !is_data_error(&e) => return Err(e),
        Err(e) => tracing::warn!("batch refused ({e}); storing its records one by one"),
    }
    let mut refused = Vec::new();
    for (index, (line, id, row)) in rows.iter().enumerate() {
        if last_of[id.as_str()] != index {
            continue;
        }
        match write_rows(client, &[row]) {
            Ok(()) => {}
            Err(e) if is_data_error(&e) => {
                let message = format!("PostgreSQL refused the record: {}", crate::describe(&e));
                refused.push(ErrorRecord::json(
                    &RecordError::new(ErrorKind::Failed, message),
                    *line,
                    Some(id.clone()),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(refused)
}

/// SQLSTATE classes 22 (data exception) and 23 (integrity constraint): the
/// record's fault, not the connection's.
fn is_data_error(error: &postgres::Error) -> bool {
    error
        .code()
        .is_some_and(|code| matches!(&code.code()[..2], "22" | "23"))
}

/// Session-level staging tables, emptied at every commit.
const STAGING_TABLES: &str = "
-- Each batch's statements are cheap once planned right; compiling them costs more.
SET jit = off;
SET client_min_messages = warning;
CREATE TEMP TABLE IF NOT EXISTS ingest_tickets (
    id text, subject text, body text, channel text, language text,
    customer_id text, customer_email text, customer_name text, customer_tier text,
    status text, created_at timestamptz, first_response_at timestamptz, resolved_at timestamptz,
    closed_at timestamptz,
    resolved_by text, category text, subcategory text, priority text, queue text, assigned_to text,
    sla_first_response_due timestamptz, sla_resolution_due timestamptz, escalation_level text,
    sentiment_label text, sentiment_score float8, ticket text,
    tools text[]  -- the tool results the record holds
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_messages (
    ticket_id text, position int4, role text, content text, sent_at timestamptz
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_results (
    ticket_id text, tool text, label text, confidence float8
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_escalations (
    ticket_id text, level text, triggers text, actions text
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS ingest_changed (id text PRIMARY KEY, existed boolean)
    ON COMMIT DELETE ROWS;
-- Kept uncompressed: the record is read once, right after it is written.
ALTER TABLE ingest_tickets ALTER ticket SET STORAGE EXTERNAL;
RESET client_min_messages;
";

/// From the staging tables into the store. Only tickets whose record changed
/// (or is new) get their messages, results and escalations rewritten; a
/// human correction (`true_label`) survives a re-ingest.
const UPSERT: &str = "
WITH upserted AS (
    INSERT INTO tickets (id, subject, body, channel, language, customer_id, customer_email,
        customer_name, customer_tier, status, created_at, first_response_at, resolved_at, closed_at,
        resolved_by, category, subcategory, priority, queue, assigned_to, sla_first_response_due,
        sla_resolution_due, escalation_level, sentiment_label, sentiment_score, ticket)
    SELECT id, subject, body, channel, language, customer_id, customer_email,
        customer_name, customer_tier, status, created_at::timestamptz, first_response_at::timestamptz,
        resolved_at::timestamptz, closed_at::timestamptz, resolved_by, category, subcategory, priority,
        queue, assigned_to, sla_first_response_due::timestamptz, sla_resolution_due::timestamptz,
        escalation_level, sentiment_label, sentiment_score, ticket::jsonb
    FROM ingest_tickets
    -- Rows are locked in id order, in every table, by every run.
    ORDER BY id
    ON CONFLICT (id) DO UPDATE SET
        subject = EXCLUDED.subject, body = EXCLUDED.body, channel = EXCLUDED.channel,
        language = EXCLUDED.language, customer_id = EXCLUDED.customer_id,
        customer_email = EXCLUDED.customer_email, customer_name = EXCLUDED.customer_name,
        customer_tier = EXCLUDED.customer_tier, status = EXCLUDED.status,
        created_at = EXCLUDED.created_at, first_response_at = EXCLUDED.first_response_at,
        resolved_at = EXCLUDED.resolved_at, closed_at = EXCLUDED.closed_at,
        resolved_by = EXCLUDED.resolved_by, category = EXCLUDED.category,
        subcategory = EXCLUDED.subcategory, priority = EXCLUDED.priority, queue = EXCLUDED.queue,
        assigned_to = EXCLUDED.assigned_to, sla_first_response_due = EXCLUDED.sla_first_response_due,
        sla_resolution_due = EXCLUDED.sla_resolution_due, escalation_level = EXCLUDED.escalation_level,
        sentiment_label = EXCLUDED.sentiment_label, sentiment_score = EXCLUDED.sentiment_score,
        ticket = EXCLUDED.ticket, updated_at = now()
    WHERE tickets.ticket IS DISTINCT FROM EXCLUDED.ticket
    -- xmax is 0 on a row just inserted, set on one updated.
    RETURNING id, xmax <> 0
)
INSERT INTO ingest_changed SELECT * FROM upserted;

-- Temporary tables are never analyzed automatically; their sizes steer the joins below.
ANALYZE ingest_changed, ingest_messages, ingest_results, ingest_escalations;

-- The deletes reach the updated tickets' rows (often none) through the primary
-- keys. With the statistics of messages and triage_results missing or stale
-- (during a bulk load, or with autovacuum off) the planner would rather scan
-- those whole tables for every batch, so sequential scans are ruled out here.
SET LOCAL enable_seqscan = off;
DELETE FROM messages
WHERE ticket_id = ANY (ARRAY(SELECT id FROM ingest_changed WHERE existed));
DELETE FROM triage_results r USING ingest_tickets s
WHERE r.ticket_id = ANY (ARRAY(SELECT id FROM ingest_changed WHERE existed))
  AND s.id = r.ticket_id AND r.tool <> ALL (s.tools);
SET LOCAL enable_seqscan = on;

INSERT INTO messages (ticket_id, position, role, content, sent_at)
SELECT s.ticket_id, s.position, s.role, s.content, s.sent_at::timestamptz
FROM ingest_messages s JOIN ingest_changed c ON c.id = s.ticket_id
ORDER BY s.ticket_id, s.position;
-- Each result is taken from the ticket's jsonb, parsed once above.
INSERT INTO triage_results (ticket_id, tool, label, confidence, result)
SELECT s.ticket_id, s.tool, s.label, s.confidence, r.value
FROM ingest_changed c
JOIN tickets t ON t.id = c.id
CROSS JOIN LATERAL jsonb_each(t.ticket) r
JOIN ingest_results s ON s.ticket_id = c.id AND s.tool = r.key
ORDER BY s.ticket_id, s.tool
ON CONFLICT (ticket_id, tool) DO UPDATE SET
    label = EXCLUDED.label, confidence = EXCLUDED.confidence, result = EXCLUDED.result,
    decided_at = now();

INSERT INTO escalations (ticket_id, level, triggers, actions)
SELECT s.ticket_id, s.level, s.triggers::jsonb, s.actions::jsonb
FROM ingest_escalations s JOIN ingest_changed c ON c.id = s.ticket_id
ORDER BY s.ticket_id, s.level
ON CONFLICT (ticket_id, level) DO NOTHING;
";

/// A deadlock or serialization failure is another session's doing and goes
/// away on a second try: the batch is retried this many times, after
/// 50 ms, 100 ms, ... (with jitter), before it counts as the database's error.
const RETRIES: usize = 5;

/// Writes `rows` (sorted by id) in one transaction, retried on a deadlock or
/// serialization failure.
fn write_rows(client: &mut Client, rows: &[&TicketRow]) -> Result<(), postgres::Error> {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(50))
        .with_max_delay(Duration::from_secs(2))
        .with_max_times(RETRIES)
        .with_jitter();
    (|| write_rows_once(client, rows))
        .retry(backoff)
        .when(is_transient)
        .notify(|error, delay| {
            tracing::warn!(
                ?delay,
                "batch rolled back by the server, trying again: {error}"
            );
        })
        .call()
}

/// SQLSTATE 40P01 (deadlock detected) and 40001 (serialization failure).
fn is_transient(error: &postgres::Error) -> bool {
    error.code().is_some_and(|code| {
        *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
    })
}

fn write_rows_once(client: &mut Client, rows: &[&TicketRow]) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?;
    copy_tickets(&mut tx, rows)?;
    copy_messages(&mut tx, rows)?;
    copy_results(&mut tx, rows)?;
    copy_escalations(&mut tx, rows)?;
    tx.batch_execute(UPSERT)?;
    tx.commit()
}

fn copy_in(
    tx: &mut Transaction<'_>,
    table: &str,
    types: &[Type],
    write: impl FnOnce(&mut BinaryCopyInWriter<'_>) -> Result<(), postgres::Error>,
) -> Result<(), postgres::Error> {
    let sink = tx.copy_in(&format!("COPY {table} FROM STDIN (FORMAT binary)"))?;
    let mut writer = BinaryCopyInWriter::new(sink, types);
    write(&mut writer)?;
    writer.finish().map(drop)
}

/// A time as the driver sends `timestamptz`. jiff's range (years -9999 to
/// 9999) fits in a 64-bit `SystemTime`, so this cannot fail here.
fn system_time(time: Timestamp) -> SystemTime {
    SystemTime::try_from(time).expect("every jiff Timestamp fits a 64-bit SystemTime")
}

fn copy_tickets(tx: &mut Transaction<'_>, rows: &[&TicketRow]) -> Result<(), postgres::Error> {
    let mut types = vec![Type::TEXT; 27];
    for time in [10, 11, 12, 13, 20, 21] {
        types[time] = Type::TIMESTAMPTZ;
    }
    types[24] = Type::FLOAT8;
    types[26] = Type::TEXT_ARRAY;
    copy_in(tx, "ingest_tickets", &types, |writer| {
        for r in rows {
            let tools: Vec<&str> = r.results.iter().map(|t| t.tool).collect();
            let c = &r.columns;
            let [created_at, first_response_at, resolved_at, closed_at, first_response_due, resolution_due] =
                [
                    c.created_at,
                    c.first_response_at,
                    c.resolved_at,
                    c.closed_at,
                    c.sla_first_response_due,
                    c.sla_resolution_due,
                ]
                .map(|t| t.map(system_time));
            let values: [&(dyn ToSql + Sync); 27] = [
                &r.columns.id,
                &r.columns.subject,
                &r.columns.body,
                &r.columns.channel,
                &r.columns.language,
                &r.columns.customer_id,
                &r.columns.customer_email,
                &r.columns.customer_name,
                &r.columns.customer_tier,
                &r.columns.status,
                &created_at,
                &first_response_at,
                &resolved_at,
                &closed_at,
                &r.columns.resolved_by,
                &r.columns.category,
                &r.columns.subcategory,
                &r.columns.priority,
                &r.columns.queue,
                &r.columns.assigned_to,
                &first_response_due,
                &resolution_due,
                &r.columns.escalation_level,
                &r.columns.sentiment_label,
                &r.columns.sentiment_score,
                &r.ticket,
                &tools,
            ];
            writer.write(&values)?;
        }
        Ok(())
    })
}

fn copy_messages(tx: &mut Transaction<'_>, rows: &[&TicketRow]) -> Result<(), postgres::Error> {
    let types = [
        Type::TEXT,
        Type::INT4,
        Type::TEXT,
        Type::TEXT,
        Type::TIMESTAMPTZ,
    ];
    copy_in(tx, "ingest_messages", &types, |writer| {
        for r in rows {
            for m in &r.messages {
                let sent_at = m.sent_at.map(system_time);
                writer.write(&[&r.columns.id, &m.position, &m.role, &m.content, &sent_at])?;
            }
        }
        Ok(())
    })
}

fn copy_results(tx: &mut Transaction<'_>, rows: &[&TicketRow]) -> Result<(), postgres::Error> {
    let types = [Type::TEXT, Type::TEXT, Type::TEXT, Type::FLOAT8];
    copy_in(tx, "ingest_results", &types, |writer| {
        for r in rows {
            for t in &r.results {
                writer.write(&[&r.columns.id, &t.tool, &t.label, &t.confidence])?;
            }
        }
        Ok(())
    })
}

fn copy_escalations(tx: &mut Transaction<'_>, rows: &[&TicketRow]) -> Result<(), postgres::Error> {
    let types = [Type::TEXT, Type::TEXT, Type::TEXT, Type::TEXT];
    copy_in(tx, "ingest_escalations", &types, |writer| {
        for r in rows {
            if let Some(e) = &r.escalation {
                writer.write(&[&r.columns.id, &e.level, &e.triggers, &e.actions])?;
            }
        }
        Ok(())
    })
}
