//! `support-store due`: open tickets whose SLA is breached or due soon, as
//! JSON Lines in the ticket format, ready for `support-escalate`.

use std::io::Write;

use jiff::Timestamp;
use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;

use crate::lines::LinesError;

/// Open tickets (status not resolved or closed) with a running SLA clock due
/// by a cutoff (now plus `--within`): an unanswered ticket's first response, or an unresolved
/// ticket's resolution. Soonest due first. Uses the partial indexes on open
/// tickets' due times.
const DUE: &str = "
SELECT (ticket || jsonb_build_object('status', status))::text
FROM tickets
WHERE status NOT IN ('resolved', 'closed')
  AND ((first_response_at IS NULL AND sla_first_response_due <= $1::text::timestamptz)
    OR (resolved_at IS NULL AND sla_resolution_due <= $1::text::timestamptz))
ORDER BY least(CASE WHEN first_response_at IS NULL THEN sla_first_response_due END,
               CASE WHEN resolved_at IS NULL THEN sla_resolution_due END), id";

/// Writes the stored record (with its current status) of every open ticket
/// with an SLA clock due by `by` (e.g. now plus 30 minutes), one per line,
/// streaming; returns how many.
pub fn due(client: &mut Client, by: Timestamp, output: &mut dyn Write) -> Result<u64, LinesError> {
    crate::migrate::ensure_current(client).map_err(LinesError::Store)?;
    let cutoff = by.to_string();
    let store = |e: postgres::Error| LinesError::Store(e.into());
    let mut rows = client
        .query_raw(DUE, [&cutoff as &(dyn postgres::types::ToSql + Sync)])
        .map_err(store)?;
    let mut count = 0;
    while let Some(row) = rows.next().map_err(store)? {
        let ticket: &str = row.get(0);
        output
            .write_all(ticket.as_bytes())
            .and_then(|()| output.write_all(b"\n"))
            .map_err(LinesError::Output)?;
        count += 1;
    }
    output.flush().map_err(LinesError::Output)?;
    Ok(count)
}
