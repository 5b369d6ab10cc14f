//! PostgreSQL (the tables of sql/migrations): rows stream out of one binary
//! `COPY (SELECT ...) TO STDOUT`, decoded one at a time, so memory stays flat
//! however many tickets match. Binary rather than CSV so that values are
//! formatted by the same Rust code as the file source's.

use std::time::SystemTime;

use jiff::Timestamp;
use postgres::binary_copy::{BinaryCopyOutIter, BinaryCopyOutRow};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, Type};
use postgres::Client;

use super::{progress_bar, ReadOptions, ReadSummary, Unit};
use crate::error::ExportError;
use crate::filter::Filter;
use crate::knowledge::FailedArticle;
use crate::metrics::AgentNames;
use crate::row::{Activity, Conversation, Feedback, TicketRow, COLUMNS};
use crate::CorrectedTool;
use support_store::row::TicketColumns;
use support_store::Timeouts;

pub struct PgSource {
    url: String,
    timeouts: Timeouts,
    client: Option<Client>,
}

/// Columns left empty when only the metrics are wanted.
const TEXT_COLUMNS: [&str; 4] = ["subject", "body", "customer_email", "customer_name"];

impl PgSource {
    /// Connects on first use (`support_store::connect`: a clear error when the server is down).
    pub fn new(url: impl Into<String>) -> PgSource {
        PgSource {
            url: url.into(),
            timeouts: Timeouts::default(),
            client: None,
        }
    }

    /// How long to wait for the server (default: [`Timeouts::default`]).
    pub fn with_timeouts(self, timeouts: Timeouts) -> PgSource {
        PgSource { timeouts, ..self }
    }

    /// Connects on first use, and checks the schema is the one this build reads.
    fn client(&mut self) -> Result<&mut Client, ExportError> {
        if self.client.is_none() {
            self.client = Some(support_store::connect_current(&self.url, self.timeouts)?);
        }
        Ok(self.client.as_mut().expect("connected above"))
    }

    pub(super) fn read(
        &mut self,
        options: ReadOptions<'_>,
        each: &mut dyn FnMut(TicketRow) -> Result<(), ExportError>,
    ) -> Result<ReadSummary, ExportError> {
        let conditions = where_clause(options.filter);
        let client = self.client()?;
        let bar = progress_bar(options.progress, None, Unit::Tickets);
        if !bar.is_hidden() {
            let count: i64 = client
                .query_one(&format!("SELECT count(*) FROM tickets t{conditions}"), &[])?
                .get(0);
            bar.set_length(count.max(0) as u64);
        }
        let query = format!(
            "COPY ({}) TO STDOUT (FORMAT binary)",
            select(options, &conditions)
        );
        tracing::debug!(%query, "export query");
        let reader = client.copy_out(&query)?;
        let mut rows = BinaryCopyOutIter::new(reader, &column_types(options.activity));
        let mut summary = ReadSummary::default();
        while let Some(row) = rows.next()? {
            summary.rows += 1;
            bar.inc(1);
            each(decode(&row, options.activity)?)?;
        }
        bar.finish_and_clear();
        Ok(summary)
    }

    pub(super) fn agent_names(&mut self) -> Result<AgentNames, ExportError> {
        let rows = self
            .client()?
            .query("SELECT id, name FROM agents WHERE name IS NOT NULL", &[])?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub(super) fn failed_articles(&mut self) -> Result<Vec<FailedArticle>, ExportError> {
        let rows = self.client()?.query(
            "SELECT article_id, answered, failed, low_ratings, corrected, failure_rate,
                    failed_tickets, failed_queries
             FROM v_kb_failed_articles ORDER BY failed DESC, failure_rate DESC, article_id",
            &[],
        )?;
        Ok(rows
            .iter()
            .map(|r| FailedArticle {
                article_id: r.get(0),
                answered: r.get(1),
                failed: r.get(2),
                low_ratings: r.get(3),
                corrected: r.get(4),
                failure_rate: r.get(5),
                failed_tickets: r.get(6),
                failed_queries: r.get(7),
            })
            .collect())
    }

    /// Every stored decision of `tool` a person corrected, as the text and
    /// the label the person gave, oldest ticket first, of the tickets that
    /// pass `filter`.
    pub(super) fn corrections(
        &mut self,
        tool: CorrectedTool,
        filter: &Filter,
    ) -> Result<Vec<(String, String)>, ExportError> {
        let mut conditions = filter_conditions(filter);
        conditions.extend([
            format!("r.tool = '{}'", tool.key()),
            "r.true_label IS NOT NULL".into(),
        ]);
        let query = format!(
            "SELECT concat_ws(' ', t.subject, t.body), r.true_label
             FROM triage_results r JOIN tickets t ON t.id = r.ticket_id
             WHERE {} ORDER BY r.ticket_id",
            conditions.join(" AND ")
        );
        let rows = self.client()?.query(&query, &[])?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub(super) fn describe(&self) -> String {
        format!("PostgreSQL {}", support_store::redact(&self.url))
    }
}

/// The transcript's figures and the ticket's ratings (as JSON), per ticket.
const ACTIVITY_COLUMNS: &str = ", m.turns, m.started_at, m.ended_at, f.feedback";
const ACTIVITY_JOINS: &str = " \
    LEFT JOIN LATERAL (SELECT count(*)::int4 AS turns, min(sent_at) AS started_at, \
        max(sent_at) AS ended_at FROM messages WHERE ticket_id = t.id) m ON true \
    LEFT JOIN LATERAL (SELECT json_agg(json_build_object('ticket_id', ticket_id, \
        'message_position', message_position, 'rating', rating, 'comment', comment, \
        'created_at', created_at) ORDER BY id)::text AS feedback \
        FROM feedback WHERE ticket_id = t.id) f ON true";

/// The rows' query: the `tickets` columns in [`COLUMNS`] order, then (with
/// activity) the transcript's figures and the ticket's feedback.
fn select(options: ReadOptions<'_>, conditions: &str) -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|column| {
            if options.metrics_only && TEXT_COLUMNS.contains(column) {
                format!("NULL::text AS {column}")
            } else {
                format!("t.{column}")
            }
        })
        .collect();
    let mut query = format!("SELECT {}", columns.join(", "));
    if options.activity {
        query.push_str(ACTIVITY_COLUMNS);
    }
    query.push_str(" FROM tickets t");
    if options.activity {
        query.push_str(ACTIVITY_JOINS);
    }
    query.push_str(conditions);
    if !options.metrics_only {
        // An export: in a stable order. The metrics do not depend on order.
        query.push_str(" ORDER BY t.created_at, t.id");
    }
    query
}

/// ` WHERE ...` for the filter (empty when it accepts everything).
fn where_clause(filter: &Filter) -> String {
    let conditions = filter_conditions(filter);
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// The filter's conditions on the tickets `t`. COPY takes no parameters,
/// so values go in as quoted literals.
fn filter_conditions(filter: &Filter) -> Vec<String> {
    let mut conditions = Vec::new();
    if let Some(window) = filter.window {
        if window.since != Timestamp::MIN {
            conditions.push(format!("t.created_at >= '{}'::timestamptz", window.since));
        }
        conditions.push(format!("t.created_at < '{}'::timestamptz", window.until));
    }
    for (column, values) in [
        ("status", &filter.statuses),
        ("category", &filter.categories),
        ("priority", &filter.priorities),
    ] {
        if !values.is_empty() {
            let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
            conditions.push(format!("t.{column} IN ({})", list.join(", ")));
        }
    }
    conditions
}

/// A string literal, safe whatever `standard_conforming_strings` is (as
/// PostgreSQL's own `quote_literal` writes it).
fn literal(text: &str) -> String {
    let quoted = text.replace('\'', "''");
    if quoted.contains('\\') {
        format!("E'{}'", quoted.replace('\\', "\\\\"))
    } else {
        format!("'{quoted}'")
    }
}

fn column_types(activity: bool) -> Vec<Type> {
    let mut types: Vec<Type> = COLUMNS
        .iter()
        .map(|column| match *column {
            "created_at"
            | "first_response_at"
            | "resolved_at"
            | "closed_at"
            | "sla_first_response_due"
            | "sla_resolution_due" => Type::TIMESTAMPTZ,
            "bot_resolved" => Type::BOOL,
            "sentiment_score" => Type::FLOAT8,
            _ => Type::TEXT,
        })
        .collect();
    if activity {
        types.extend([Type::INT4, Type::TIMESTAMPTZ, Type::TIMESTAMPTZ, Type::TEXT]);
    }
    types
}

/// Reads the columns in order.
struct Columns<'r> {
    row: &'r BinaryCopyOutRow,
    next: usize,
}

impl<'r> Columns<'r> {
    fn get<T: FromSql<'r>>(&mut self) -> Result<T, ExportError> {
        self.next += 1;
        Ok(self.row.try_get(self.next - 1)?)
    }

    fn time(&mut self) -> Result<Option<Timestamp>, ExportError> {
        self.get::<Option<SystemTime>>()?
            .map(|time| {
                Timestamp::try_from(time).map_err(|e| {
                    ExportError::Usage(format!("a time in the database is out of range: {e}"))
                })
            })
            .transpose()
    }
}

fn decode(row: &BinaryCopyOutRow, activity: bool) -> Result<TicketRow, ExportError> {
    let mut c = Columns { row, next: 0 };
    // Field by field in COLUMNS order: struct fields are evaluated as written.
    let columns = TicketColumns {
        id: c.get()?,
        subject: c.get()?,
        body: c.get()?,
        channel: c.get()?,
        language: c.get()?,
        customer_id: c.get()?,
        customer_email: c.get()?,
        customer_name: c.get()?,
        customer_tier: c.get()?,
        status: c.get()?,
        created_at: c.time()?,
        first_response_at: c.time()?,
        resolved_at: c.time()?,
        closed_at: c.time()?,
        resolved_by: c.get()?,
        bot_resolved: c.get()?,
        category: c.get()?,
        subcategory: c.get()?,
        priority: c.get()?,
        queue: c.get()?,
        assigned_to: c.get()?,
        sla_first_response_due: c.time()?,
        sla_resolution_due: c.time()?,
        escalation_level: c.get()?,
        sentiment_label: c.get()?,
        sentiment_score: c.get()?,
    };
    let mut ticket = TicketRow {
        columns,
        activity: Activity::default(),
    };
    if activity {
        let turns: i32 = c.get()?;
        let (started_at, ended_at) = (c.time()?, c.time()?);
        let feedback: Option<String> = c.get()?;
        ticket.activity = Activity {
            conversation: (turns > 0).then_some(Conversation {
                turns: turns as u32,
                started_at,
                ended_at,
            }),
            feedback: match feedback {
                Some(json) => serde_json::from_str::<Vec<Feedback>>(&json).map_err(|e| {
                    ExportError::Usage(format!(
                        "feedback of ticket {} in the database does not read: {e}",
                        ticket.columns.id
                    ))
                })?,
                None => Vec::new(),
            },
        };
    }
    Ok(ticket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Window;

    #[test]
    fn literals_are_quoted() {
        assert_eq!(literal("open"), "'open'");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal(r"a\'b"), r"E'a\\''b'");
    }

    #[test]
    fn the_filter_becomes_a_where_clause() {
        assert_eq!(where_clause(&Filter::default()), "");
        let filter = Filter {
            window: Some(Window {
                since: Timestamp::MIN,
                until: "2026-11-24T09:00:00Z".parse().unwrap(),
            }),
            statuses: vec!["open".into(), "pending".into()],
            categories: vec![],
            priorities: vec!["critical".into()],
        };
        assert_eq!(
            where_clause(&filter),
            " WHERE t.created_at < '2026-11-24T09:00:00Z'::timestamptz \
             AND t.status IN ('open', 'pending') AND t.priority IN ('critical')"
        );
    }

    #[test]
    fn every_column_has_a_type() {
        assert_eq!(column_types(false).len(), COLUMNS.len());
        assert_eq!(column_types(true).len(), COLUMNS.len() + 4);
    }
}
