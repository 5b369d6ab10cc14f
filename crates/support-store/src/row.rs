//! A triaged ticket (one JSON Lines record) as the rows it becomes: the
//! `tickets` row, its `messages`, one `triage_results` row per tool result,
//! and an `escalations` row when the escalation says to escalate.
//!
//! Everything PostgreSQL would refuse is refused here, per record, so a batch
//! only fails for reasons outside the data (the connection, the server).

use std::borrow::Cow;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use support_core::results::answer::EarlierAnswer;
use support_core::status::BOT;
use support_core::ticket::{message_without_position, Ticket};
use support_core::{status, Record, RecordError, Role};

/// The columns of the `tickets` table, in its order: what `ingest` stores and
/// `support-export tickets` writes, one type for both.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(
    title = "ExportedTicket",
    description = "A ticket as `support-export tickets --format jsonl|json` writes it: the columns of the `tickets` table."
)]
pub struct TicketColumns {
    pub id: String,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub channel: Option<String>,
    pub language: Option<String>,
    pub customer_id: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub customer_tier: Option<String>,
    pub status: String,
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub created_at: Option<Timestamp>,
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub first_response_at: Option<Timestamp>,
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub resolved_at: Option<Timestamp>,
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub closed_at: Option<Timestamp>,
    /// `bot` or an agent id.
    pub resolved_by: Option<String>,
    /// Resolved by the bot (`resolved_by` is `bot`); the table generates it.
    pub bot_resolved: bool,
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub priority: Option<String>,
    pub queue: Option<String>,
    pub assigned_to: Option<String>,
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub sla_first_response_due: Option<Timestamp>,
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub sla_resolution_due: Option<Timestamp>,
    pub escalation_level: Option<String>,
    pub sentiment_label: Option<String>,
    pub sentiment_score: Option<f64>,
}

/// The `tickets` row and everything stored with it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub columns: TicketColumns,
    /// The whole record, stored as `jsonb`.
    pub ticket: String,
    pub messages: Vec<MessageRow>,
    pub results: Vec<ResultRow>,
    pub escalation: Option<EscalationRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    pub position: i32,
    pub role: &'static str,
    pub content: String,
    pub sent_at: Option<Timestamp>,
}

/// One tool's decision: its key in the ticket, the label it chose, how sure.
/// The whole result is stored too, taken from the ticket's `jsonb`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    pub tool: &'static str,
    pub label: Option<String>,
    pub confidence: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EscalationRow {
    pub level: String,
    pub triggers: String,
    pub actions: String,
}

#[derive(Deserialize)]
struct SentimentResult {
    label: Option<String>,
    score: Option<f64>,
    confidence: Option<f64>,
    language: Option<String>,
}

#[derive(Deserialize)]
struct CategoryResult {
    name: Option<String>,
    subcategory: Option<String>,
    confidence: Option<f64>,
}

#[derive(Deserialize)]
struct TagsResult {
    #[serde(default)]
    tags: Vec<TagResult>,
    confidence: Option<f64>,
}

#[derive(Deserialize)]
struct TagResult {
    name: String,
}

#[derive(Deserialize)]
struct PriorityResult {
    level: Option<PriorityLevel>,
    confidence: Option<f64>,
    sla: Option<SlaResult>,
}

/// The levels the `tickets.priority` check accepts.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PriorityLevel {
    Low,
    Medium,
    High,
    Urgent,
    Critical,
}

impl PriorityLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            PriorityLevel::Low => "low",
            PriorityLevel::Medium => "medium",
            PriorityLevel::High => "high",
            PriorityLevel::Urgent => "urgent",
            PriorityLevel::Critical => "critical",
        }
    }
}

#[derive(Deserialize)]
struct SlaResult {
    first_response: Option<SlaClock>,
    resolution: Option<SlaClock>,
}

#[derive(Deserialize)]
struct SlaClock {
    due: Option<Timestamp>,
}

#[derive(Deserialize)]
struct RouteResult {
    queue: Option<String>,
    agent: Option<String>,
    confidence: Option<f64>,
}

#[derive(Deserialize)]
struct EscalationResult {
    #[serde(default)]
    escalate: bool,
    level: Option<String>,
    triggers: Option<Box<RawValue>>,
    actions: Option<Box<RawValue>>,
    confidence: Option<f64>,
}

impl TicketRow {
    /// Reads one JSON Lines record (`record` is `line` parsed) as
    /// `support-triage` accepts it, so that whatever triage passed on is
    /// stored: `\u0000`, which PostgreSQL cannot hold in text or jsonb,
    /// becomes U+FFFD (with a warning naming the ticket), and a key repeated
    /// inside an object keeps its first place and its last value, as the
    /// runner reads it. The error names the field at fault; the ticket's id,
    /// when readable, goes into the error record by the caller.
    pub fn parse(line: &str, record: &Record<'_>) -> Result<TicketRow, RecordError> {
        if let Cow::Owned(replaced) = replace_nul_escapes(line.as_bytes()) {
            let replaced = String::from_utf8(replaced).expect("ASCII replaced by ASCII");
            let record = Record::parse(replaced.as_bytes())?;
            let row = TicketRow::parse(&replaced, &record)?;
            tracing::warn!(
                id = %row.columns.id,
                "\\u0000 replaced by U+FFFD: PostgreSQL cannot store NUL in text or jsonb"
            );
            return Ok(row);
        }
        Ticket::with_record(record, |ticket| TicketRow::read(line, record, ticket))
    }

    fn read(
        line: &str,
        record: &Record<'_>,
        ticket: &Ticket<'_>,
    ) -> Result<TicketRow, RecordError> {
        let id = match &ticket.id {
            Some(id) => id.to_string(),
            None => {
                return Err(RecordError::invalid_field(
                    "id",
                    "missing `id`: the store keys tickets by id",
                ))
            }
        };
        if id.trim().is_empty() {
            return Err(RecordError::invalid_field("id", "`id` is empty"));
        }
        let closed_at: Option<Timestamp> = read(record, "closed_at")?;
        let explicit_resolved_by: Option<String> = read(record, "resolved_by")?;
        let explicit_assigned_to: Option<String> = read(record, "assigned_to")?;
        let sentiment: Option<SentimentResult> = read(record, "sentiment")?;
        let category: Option<CategoryResult> = read(record, "category")?;
        let tags: Option<TagsResult> = read(record, "tags")?;
        let priority: Option<PriorityResult> = read(record, "priority")?;
        let route: Option<RouteResult> = read(record, "route")?;
        let escalation: Option<EscalationResult> = read(record, "escalation")?;
        let answer: Option<EarlierAnswer> = read(record, "answer")?;

        let messages: Vec<MessageRow> = ticket
            .messages
            .iter()
            .enumerate()
            .map(|(position, message)| MessageRow {
                position: i32::try_from(position).unwrap_or(i32::MAX),
                role: role_name(message.role),
                content: message.content.to_string(),
                sent_at: message.timestamp,
            })
            .collect();

        // A finished status in the ticket's words (`cerrado`, `solved`) is
        // filed under the one the views count; the stored ticket keeps the word.
        let status = match ticket.status.as_deref().map(str::trim) {
            Some(status) if !status.is_empty() => match status::finished(status) {
                Some(finished) => finished.name().to_owned(),
                None => status.to_lowercase(),
            },
            _ if closed_at.is_some() => "closed".to_owned(),
            _ if ticket.resolved_at.is_some() => "resolved".to_owned(),
            _ => "open".to_owned(),
        };
        let assigned_to =
            explicit_assigned_to.or_else(|| route.as_ref().and_then(|r| r.agent.clone()));
        let finished = status::finished(&status).is_some() || ticket.resolved_at.is_some();
        let resolved_by = explicit_resolved_by.or_else(|| {
            finished
                .then(|| resolver(&messages, assigned_to.as_deref()))
                .flatten()
        });

        let mut results = Vec::new();
        let mut push = |tool: &'static str, label: Option<String>, confidence: Option<f64>| {
            results.push(ResultRow {
                tool,
                label,
                confidence,
            });
        };
        if let Some(s) = &sentiment {
            push("sentiment", s.label.clone(), s.confidence);
        }
        if let Some(c) = &category {
            push("category", c.name.clone(), c.confidence);
        }
        if let Some(t) = &tags {
            let names: Vec<&str> = t.tags.iter().map(|tag| tag.name.as_str()).collect();
            push("tags", Some(names.join(",")), t.confidence);
        }
        if let Some(p) = &priority {
            push(
                "priority",
                p.level.map(|l| l.as_str().to_owned()),
                p.confidence,
            );
        }
        if let Some(r) = &route {
            push("route", r.queue.clone(), r.confidence);
        }
        if let Some(e) = &escalation {
            push("escalation", e.level.clone(), e.confidence);
        }
        if let Some(a) = &answer {
            push("answer", a.article().map(str::to_owned), a.confidence);
        }

        let sla = priority.as_ref().and_then(|p| p.sla.as_ref());
        let due = |clock: Option<&SlaClock>| clock.and_then(|c| c.due);
        let columns = TicketColumns {
            bot_resolved: resolved_by.as_deref() == Some(BOT),
            subject: ticket.subject.as_deref().map(str::to_owned),
            body: ticket
                .description
                .as_deref()
                .or(ticket.body.as_deref())
                .map(str::to_owned),
            channel: ticket.channel().map(Cow::into_owned),
            language: ticket
                .language
                .as_deref()
                .map(str::to_owned)
                .or_else(|| sentiment.as_ref().and_then(|s| s.language.clone())),
            customer_id: ticket
                .customer
                .as_ref()
                .and_then(|c| c.id.as_ref())
                .map(ToString::to_string),
            customer_email: customer_text(ticket, |c| c.email.as_deref()),
            customer_name: customer_text(ticket, |c| c.name.as_deref()),
            customer_tier: ticket.tier().map(Cow::into_owned),
            status,
            created_at: ticket.created_at,
            first_response_at: ticket.first_response_at,
            resolved_at: ticket.resolved_at,
            closed_at,
            resolved_by,
            category: category.as_ref().and_then(|c| c.name.clone()),
            subcategory: category.as_ref().and_then(|c| c.subcategory.clone()),
            priority: priority
                .as_ref()
                .and_then(|p| p.level)
                .map(|l| l.as_str().to_owned()),
            queue: route.as_ref().and_then(|r| r.queue.clone()),
            assigned_to,
            sla_first_response_due: due(sla.and_then(|s| s.first_response.as_ref())),
            sla_resolution_due: due(sla.and_then(|s| s.resolution.as_ref())),
            escalation_level: escalation.as_ref().and_then(|e| e.level.clone()),
            sentiment_label: sentiment.as_ref().and_then(|s| s.label.clone()),
            sentiment_score: sentiment.as_ref().and_then(|s| s.score),
            id,
        };
        Ok(TicketRow {
            columns,
            escalation: escalation.filter(|e| e.escalate).map(|e| EscalationRow {
                level: e.level.unwrap_or_else(|| "L1".to_owned()),
                triggers: raw_or_empty(e.triggers),
                actions: raw_or_empty(e.actions),
            }),
            ticket: line.to_owned(),
            messages,
            results,
        })
    }
}

fn customer_text<'t>(
    ticket: &'t Ticket<'_>,
    field: impl Fn(&'t support_core::ticket::Customer<'_>) -> Option<&'t str>,
) -> Option<String> {
    ticket.customer.as_ref().and_then(field).map(str::to_owned)
}

fn raw_or_empty(raw: Option<Box<RawValue>>) -> String {
    raw.map_or_else(|| "[]".to_owned(), |raw| raw.get().to_owned())
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Agent => "agent",
        Role::Bot => "bot",
        Role::System => "system",
    }
}

/// Who resolved a finished ticket when the record does not say: the bot when
/// it answered and no agent did, else the assigned agent.
fn resolver(messages: &[MessageRow], assigned_to: Option<&str>) -> Option<String> {
    let answered_by = |role| messages.iter().any(|m| m.role == role);
    if answered_by("agent") {
        assigned_to.map(str::to_owned)
    } else if answered_by(BOT) {
        Some(BOT.to_owned())
    } else {
        None
    }
}

/// Reads the top-level `key` as `T` (absent or null: `None`); a bad value is an
/// `invalid_field` error naming its path, e.g. `priority.sla.resolution.due`.
pub fn read<T: DeserializeOwned>(record: &Record<'_>, key: &str) -> Result<Option<T>, RecordError> {
    let Some(raw) = record.get(key) else {
        return Ok(None);
    };
    let mut deserializer = serde_json::Deserializer::from_str(raw.get());
    serde_path_to_error::deserialize::<_, Option<T>>(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path == "?" {
            key.to_owned()
        } else {
            format!("{key}.{path}")
        };
        RecordError::invalid_field(&field, message_without_position(e.into_inner()))
    })
}

/// The JSON text with every escape `\u0000` (not an escaped backslash
/// followed by `u0000`) spelled `\uFFFD`, the replacement character: the
/// same length, so nothing else moves. Borrowed when there is none.
fn replace_nul_escapes(json: &[u8]) -> Cow<'_, [u8]> {
    let escapes: Vec<usize> = memchr::memmem::find_iter(json, b"\\u0000")
        .filter(|&at| {
            let backslashes_before = json[..at].iter().rev().take_while(|&&b| b == b'\\').count();
            backslashes_before % 2 == 0
        })
        .collect();
    if escapes.is_empty() {
        return Cow::Borrowed(json);
    }
    let mut replaced = json.to_vec();
    for at in escapes {
        replaced[at + 2..at + 6].copy_from_slice(b"FFFD");
    }
    Cow::Owned(replaced)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<TicketRow, RecordError> {
        let record = Record::parse(line.as_bytes()).expect("valid JSON");
        TicketRow::parse(line, &record)
    }

    #[test]
    fn a_triaged_ticket_gives_its_columns_and_one_result_per_tool() {
        let row = parse(
            r#"{"id":"T-1","subject":"Caída","description":"No va","channel":"Email",
            "customer":{"id":7,"email":"a@b.c","name":"Ana","tier":"VIP"},"created_at":"2026-01-01T10:00:00Z",
            "status":"Open","messages":[{"role":"customer","content":"hola","timestamp":"2026-01-01T10:00:00Z"},{"role":"bot","content":"hi"}],
            "sentiment":{"label":"negative","score":-0.5,"confidence":0.8,"language":"es"},
            "category":{"name":"account","subcategory":"recover_password","confidence":0.7},
            "tags":{"tags":[{"name":"vip"},{"name":"outage"}],"confidence":0.9},
            "priority":{"level":"critical","score":99,"confidence":0.95,"sla":{"first_response":{"target_minutes":15,"due":"2026-01-01T10:15:00Z"},"resolution":{"due":"2026-01-01T14:00:00Z"}}},
            "route":{"queue":"vip","agent":"sofia","confidence":0.6},
            "escalation":{"escalate":true,"level":"L2","triggers":[{"kind":"vip"}],"actions":[],"confidence":0.9}}"#,
        )
        .unwrap();
        assert_eq!(row.columns.id, "T-1");
        assert_eq!(row.columns.status, "open");
        assert_eq!(row.columns.channel.as_deref(), Some("email"));
        assert_eq!(row.columns.customer_id.as_deref(), Some("7"));
        assert_eq!(row.columns.customer_tier.as_deref(), Some("vip"));
        assert_eq!(row.columns.language.as_deref(), Some("es"));
        assert_eq!(row.columns.priority.as_deref(), Some("critical"));
        assert_eq!(row.columns.assigned_to.as_deref(), Some("sofia"));
        assert_eq!(
            row.columns.sla_first_response_due,
            Some("2026-01-01T10:15:00Z".parse().unwrap())
        );
        assert_eq!(
            row.columns.resolved_by, None,
            "an open ticket is resolved by nobody"
        );
        assert_eq!(row.messages.len(), 2);
        assert_eq!(row.messages[0].role, "user");
        let tools: Vec<_> = row
            .results
            .iter()
            .map(|r| (r.tool, r.label.as_deref()))
            .collect();
        assert_eq!(
            tools,
            [
                ("sentiment", Some("negative")),
                ("category", Some("account")),
                ("tags", Some("vip,outage")),
                ("priority", Some("critical")),
                ("route", Some("vip")),
                ("escalation", Some("L2")),
            ]
        );
        let escalation = row.escalation.unwrap();
        assert_eq!(escalation.level, "L2");
        assert_eq!(escalation.triggers, r#"[{"kind":"vip"}]"#);
    }

    #[test]
    fn a_resolved_transcript_answered_only_by_the_bot_is_bot_resolved() {
        let row = parse(
            r#"{"id":1,"subject":"x","status":"resolved","messages":[{"role":"user","content":"a"},{"role":"bot","content":"b"}]}"#,
        )
        .unwrap();
        assert_eq!(row.columns.resolved_by.as_deref(), Some("bot"));
        let row = parse(
            r#"{"id":1,"subject":"x","status":"resolved","assigned_to":"ana","messages":[{"role":"bot","content":"b"},{"role":"agent","content":"c"}]}"#,
        )
        .unwrap();
        assert_eq!(row.columns.resolved_by.as_deref(), Some("ana"));
        let row = parse(r#"{"id":1,"subject":"x","resolved_at":"2026-01-01T00:00:00Z"}"#).unwrap();
        assert_eq!(row.columns.status, "resolved");
    }

    #[test]
    fn a_finished_status_in_spanish_is_filed_as_the_views_count_it() {
        let row = parse(
            r#"{"id":1,"subject":"x","status":"Cerrado","messages":[{"role":"user","content":"a"},{"role":"bot","content":"b"}]}"#,
        )
        .unwrap();
        assert_eq!(row.columns.status, "closed");
        assert_eq!(
            row.columns.resolved_by.as_deref(),
            Some("bot"),
            "finished, so resolved by someone"
        );
        assert_eq!(
            parse(r#"{"id":1,"subject":"x","status":"solucionado"}"#)
                .unwrap()
                .columns
                .status,
            "resolved"
        );
        assert_eq!(
            parse(r#"{"id":1,"subject":"x","status":"Pendiente"}"#)
                .unwrap()
                .columns
                .status,
            "pendiente"
        );
    }

    #[test]
    fn an_escalation_not_called_for_stores_no_escalation_row() {
        let row = parse(r#"{"id":"A","escalation":{"escalate":false,"level":"none"}}"#).unwrap();
        assert_eq!(row.escalation, None);
        assert_eq!(row.columns.escalation_level.as_deref(), Some("none"));
    }

    #[test]
    fn bad_fields_are_named() {
        let err = parse(r#"{"subject":"x"}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("id"));
        let err = parse(r#"{"id":"A","priority":{"level":"extreme"}}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("priority.level"));
        let err =
            parse(r#"{"id":"A","priority":{"level":"low","sla":{"resolution":{"due":"soon"}}}}"#)
                .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("priority.sla.resolution.due"));
        assert!(!err.message.contains("column"), "{}", err.message);
        let err = parse(r#"{"id":"A","created_at":"yesterday"}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("created_at"));
        let err = parse(r#"{"id":"A","closed_at":5}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("closed_at"));
    }

    fn accepted(line: &str) -> TicketRow {
        parse(line).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn a_nul_escape_becomes_the_replacement_character_but_an_escaped_backslash_stays() {
        let row = accepted(
            r#"{"id":"A","subject":"a\u0000b","messages":[{"role":"user","content":"\u0000"}]}"#,
        );
        assert_eq!(row.columns.subject.as_deref(), Some("a\u{FFFD}b"));
        assert_eq!(row.messages[0].content, "\u{FFFD}");
        assert!(!row.ticket.contains("\\u0000"), "{}", row.ticket);
        let row = accepted(r#"{"id":"A","subject":"a\\u0000b"}"#);
        assert_eq!(row.columns.subject.as_deref(), Some(r"a\u0000b"));
        let row = accepted(r#"{"id":"A","subject":"a\\\u0000b"}"#);
        assert_eq!(row.columns.subject.as_deref(), Some("a\\\u{FFFD}b"));
    }

    #[test]
    fn a_key_repeated_inside_customer_keeps_its_last_value_as_the_runner_reads_it() {
        let row = accepted(
            r#"{"id":"A","customer":{"email":"old@x.es","name":"Ana","email":"new@x.es"},"id":"B"}"#,
        );
        assert_eq!(row.columns.id, "B");
        assert_eq!(row.columns.customer_email.as_deref(), Some("new@x.es"));
        assert_eq!(row.columns.customer_name.as_deref(), Some("Ana"));
        let stored: serde_json::Value = serde_json::from_str(&row.ticket).unwrap();
        assert_eq!(stored["customer"]["email"], "new@x.es");
    }
}
