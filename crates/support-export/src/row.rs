//! The ticket row both sources produce: the columns of the `tickets` table
//! (sql/migrations), plus the transcript and feedback figures the metrics
//! read. Exports write the columns; the metrics are functions over rows, so
//! a figure is computed the same way whichever source the rows came from.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use support_store::row::{TicketColumns, TicketRow as StoredRow};

/// A status that closes a ticket (see [`support_core::status`]); anything
/// else is open. The views say the same.
pub fn is_closed_status(status: &str) -> bool {
    support_core::status::finished(status).is_some()
}

/// The exported columns: the `tickets` table's, in its order, and the
/// [`TicketColumns`] fields' (a test checks they stay the same).
pub const COLUMNS: [&str; 26] = [
    "id",
    "subject",
    "body",
    "channel",
    "language",
    "customer_id",
    "customer_email",
    "customer_name",
    "customer_tier",
    "status",
    "created_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "resolved_by",
    "bot_resolved",
    "category",
    "subcategory",
    "priority",
    "queue",
    "assigned_to",
    "sla_first_response_due",
    "sla_resolution_due",
    "escalation_level",
    "sentiment_label",
    "sentiment_score",
];

/// One ticket: the stored columns (what exports write) and what the metrics
/// read besides them.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub columns: TicketColumns,
    /// Transcript and feedback: read only when a command needs them.
    pub activity: Activity,
}

/// What happened around a ticket besides its own fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Activity {
    /// The transcript's figures; `None` without messages.
    pub conversation: Option<Conversation>,
    pub feedback: Vec<Feedback>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conversation {
    /// Messages in the transcript.
    pub turns: u32,
    /// First and last message times, when the messages carry them.
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

/// A customer rating, as the `feedback` table and `--feedback FILE` hold it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    pub ticket_id: String,
    /// The rated message of the transcript, when the rating is for one answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_position: Option<i32>,
    /// 1 to 5.
    pub rating: u8,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub created_at: Option<Timestamp>,
}

impl TicketRow {
    /// Open means not resolved or closed, as in the views.
    pub fn is_open(&self) -> bool {
        !is_closed_status(&self.columns.status)
    }

    /// Resolved: a closing status or a resolution time.
    pub fn is_resolved(&self) -> bool {
        !self.is_open() || self.columns.resolved_at.is_some()
    }

    pub fn first_response_minutes(&self) -> Option<f64> {
        minutes_between(self.columns.created_at?, self.columns.first_response_at?)
    }

    pub fn resolution_minutes(&self) -> Option<f64> {
        minutes_between(self.columns.created_at?, self.columns.resolved_at?)
    }

    /// The row `support-store ingest` would store for a ticket, so that a
    /// figure from the files is the figure the database would give.
    pub fn from_stored(row: StoredRow) -> TicketRow {
        let times = row.messages.iter().filter_map(|m| m.sent_at);
        let conversation = (!row.messages.is_empty()).then(|| Conversation {
            turns: u32::try_from(row.messages.len()).unwrap_or(u32::MAX),
            started_at: times.clone().min(),
            ended_at: times.max(),
        });
        TicketRow {
            columns: row.columns,
            activity: Activity {
                conversation,
                feedback: Vec::new(),
            },
        }
    }
}

fn minutes_between(from: Timestamp, to: Timestamp) -> Option<f64> {
    Some(to.duration_since(from).as_secs_f64() / 60.0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;
    use support_core::{Record, RecordError};

    /// The row of one ticket, read as the file source reads it.
    pub(crate) fn row_from(value: serde_json::Value) -> Result<TicketRow, RecordError> {
        let text = value.to_string();
        let record = Record::parse(text.as_bytes())?;
        StoredRow::parse(&text, &record).map(TicketRow::from_stored)
    }

    #[test]
    fn the_stored_columns_become_typed_fields() {
        let row = row_from(json!({
            "id": 7, "subject": "Caída", "body": "No funciona", "channel": "Phone",
            "customer": {"id": "C-1", "tier": "VIP"}, "created_at": "2026-11-24T08:00:00Z",
            "first_response_at": "2026-11-24T08:12:30Z", "status": "pending", "assigned_to": "ana",
            "sentiment": {"label": "negative", "score": -0.8, "language": "es"},
            "category": {"name": "account", "subcategory": "recover_password"},
            "priority": {"level": "critical", "sla": {"first_response": {"due": "2026-11-24T08:15:00Z"},
                         "resolution": {"due": "2026-11-24T12:00:00Z"}}},
            "route": {"queue": "vip", "agent": "sofia"}, "escalation": {"level": "L2"}
        }))
        .unwrap();
        assert_eq!(row.columns.id, "7");
        assert_eq!(
            (
                row.columns.channel.as_deref(),
                row.columns.customer_tier.as_deref()
            ),
            (Some("phone"), Some("vip"))
        );
        assert_eq!(row.columns.body.as_deref(), Some("No funciona"));
        assert_eq!(
            row.columns.language.as_deref(),
            Some("es"),
            "from the sentiment result"
        );
        assert_eq!(row.columns.priority.as_deref(), Some("critical"));
        assert_eq!(row.columns.assigned_to.as_deref(), Some("ana"));
        assert_eq!(
            row.columns.sla_first_response_due,
            Some("2026-11-24T08:15:00Z".parse().unwrap())
        );
        assert_eq!(row.first_response_minutes(), Some(12.5));
        assert!(row.is_open() && !row.is_resolved() && !row.columns.bot_resolved);
        assert_eq!(row.activity.conversation, None);
    }

    #[test]
    fn a_transcript_gives_turns_and_times() {
        let row = row_from(json!({"id": "A", "status": "resolved", "messages": [
            {"role": "user", "content": "¿Dónde está mi pedido?", "timestamp": "2026-11-24T08:00:00Z"},
            {"role": "bot", "content": "Llega mañana."},
            {"role": "bot", "content": "¿Algo más?", "timestamp": "2026-11-24T08:03:00Z"}
        ]}))
        .unwrap();
        assert!(
            row.columns.bot_resolved,
            "resolved by the bot alone, as the store infers"
        );
        assert!(row.is_resolved() && !row.is_open());
        let conversation = row.activity.conversation.unwrap();
        assert_eq!(conversation.turns, 3);
        assert_eq!(
            conversation
                .ended_at
                .unwrap()
                .duration_since(conversation.started_at.unwrap()),
            jiff::SignedDuration::from_mins(3)
        );
    }

    #[test]
    fn the_serialized_fields_are_the_columns() {
        let row = row_from(json!({"id": "A"})).unwrap();
        let value = serde_json::to_value(&row.columns).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, COLUMNS);
    }
}
