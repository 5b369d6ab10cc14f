//! `support-store maintain`: archive closed tickets, refresh statistics and
//! the daily summary, purge old operation metrics.

use jiff::Timestamp;
use postgres::Client;
use serde::Serialize;

use crate::StoreError;

/// What `maintain` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaintainReport {
    /// Resolved or closed tickets last touched before `archived_before`, moved to tickets_archive.
    pub archived: u64,
    /// Their tool decisions (with corrections), moved to triage_results_archive.
    pub archived_results: u64,
    pub archived_before: String,
    /// operation_metrics rows older than `metrics_before`, deleted.
    pub metrics_purged: u64,
    pub metrics_before: String,
    /// Tables whose planner statistics were refreshed.
    pub analyzed: Vec<&'static str>,
    /// Materialized views refreshed.
    pub refreshed: Vec<&'static str>,
}

/// Which closed tickets are old enough: by when they were closed, else
/// resolved, else last updated. The expression matches `tickets_closed_idx`.
const SELECT_OLD_CLOSED: &str = "
CREATE TEMP TABLE maintain_archive ON COMMIT DROP AS
SELECT id FROM tickets
WHERE status IN ('resolved', 'closed')
  AND coalesce(closed_at, resolved_at, updated_at) < $1::text::timestamptz
FOR UPDATE";

/// Moves rows in one transaction: results first (the tickets' delete
/// cascades to them), a re-archived ticket replaces its older copy. Messages
/// need no copy: the archived ticket's record holds its transcript.
const DROP_OLD_COPIES: &str = "
DELETE FROM triage_results_archive a USING maintain_archive m WHERE a.ticket_id = m.id;
DELETE FROM tickets_archive a USING maintain_archive m WHERE a.id = m.id;";
const MOVE_RESULTS: &str = "INSERT INTO triage_results_archive
SELECT r.* FROM triage_results r JOIN maintain_archive m ON m.id = r.ticket_id";
const MOVE_TICKETS: &str = "INSERT INTO tickets_archive
SELECT t.*, now() FROM tickets t JOIN maintain_archive m ON m.id = t.id";
const DELETE_MOVED: &str = "DELETE FROM tickets t USING maintain_archive m WHERE t.id = m.id";

const ANALYZED: [&str; 6] = [
    "tickets",
    "messages",
    "triage_results",
    "feedback",
    "escalations",
    "tickets_archive",
];

/// Archives closed tickets last touched before `archive_before`, deletes
/// operation metrics older than `metrics_before`, then analyzes the busy
/// tables and refreshes `mv_daily_summary` (concurrently: readers are never
/// blocked).
pub fn maintain(
    client: &mut Client,
    archive_before: Timestamp,
    metrics_before: Timestamp,
) -> Result<MaintainReport, StoreError> {
    crate::migrate::ensure_current(client)?;
    let archive_cutoff = archive_before.to_string();
    let metrics_cutoff = metrics_before.to_string();

    let mut tx = client.transaction()?;
    tx.execute(SELECT_OLD_CLOSED, &[&archive_cutoff])?;
    tx.batch_execute(DROP_OLD_COPIES)?;
    let archived_results = tx.execute(MOVE_RESULTS, &[])?;
    let archived = tx.execute(MOVE_TICKETS, &[])?;
    tx.execute(DELETE_MOVED, &[])?;
    tx.commit()?;

    let metrics_purged = client.execute(
        "DELETE FROM operation_metrics WHERE started_at < $1::text::timestamptz",
        &[&metrics_cutoff],
    )?;
    client.batch_execute(&format!("ANALYZE {}", ANALYZED.join(", ")))?;
    client.batch_execute("REFRESH MATERIALIZED VIEW CONCURRENTLY mv_daily_summary")?;
    Ok(MaintainReport {
        archived,
        archived_results,
        archived_before: archive_cutoff,
        metrics_purged,
        metrics_before: metrics_cutoff,
        analyzed: ANALYZED.to_vec(),
        refreshed: vec!["mv_daily_summary"],
    })
}
