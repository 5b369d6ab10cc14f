//! What people add after triage: corrections of a tool's decision
//! (`triage_results.true_label`) and customer feedback (`feedback`).

use postgres::Client;
use serde::{Deserialize, Serialize};
use support_core::ticket::TicketId;
use support_core::{ErrorKind, RecordError};

use crate::lines::Refusal;
use crate::row::PriorityLevel;

/// The tools whose decisions are stored, by their key in the ticket.
pub const TOOLS: [&str; 7] = [
    "sentiment",
    "category",
    "answer",
    "tags",
    "priority",
    "route",
    "escalation",
];

/// A human correction of one tool's decision on one ticket. As a JSON Lines
/// record: `{"ticket": "T-1", "tool": "category", "label": "refund", "by": "ana"}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    #[serde(alias = "id", alias = "ticket_id", deserialize_with = "ticket_id")]
    pub ticket: String,
    pub tool: String,
    /// The right label.
    #[serde(alias = "true_label")]
    pub label: String,
    /// Who corrected it.
    #[serde(default, alias = "corrected_by")]
    pub by: Option<String>,
}

impl crate::lines::Command for Correction {
    fn ticket(&self) -> &str {
        &self.ticket
    }
}

/// A correction as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Corrected {
    pub ticket: String,
    pub tool: String,
    /// The tool's label.
    pub label: Option<String>,
    pub true_label: String,
    /// Whether the tool had it right.
    pub correct: bool,
    /// The ticket is in the archive.
    pub archived: bool,
}

/// Records `correction` on the stored decision.
pub fn correct(client: &mut Client, correction: &Correction) -> Result<Corrected, Refusal> {
    let tool = correction.tool.trim();
    if !TOOLS.contains(&tool) {
        return Err(RecordError::invalid_field(
            "tool",
            format!("unknown tool `{tool}`: one of {}", TOOLS.join(", ")),
        )
        .into());
    }
    let label = valid_label(tool, correction.label.trim())?;
    let ticket = correction.ticket.clone();
    let by = correction
        .by
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty());
    for (table, archived) in [("triage_results", false), ("triage_results_archive", true)] {
        let updated = client.query_opt(
            &format!(
                "UPDATE {table} SET true_label = $3, corrected_by = $4, corrected_at = now()
                 WHERE ticket_id = $1 AND tool = $2 RETURNING label"
            ),
            &[&ticket, &tool, &label, &by],
        )?;
        if let Some(row) = updated {
            let tool_label: Option<String> = row.get(0);
            return Ok(Corrected {
                correct: tool_label.as_deref() == Some(label.as_str()),
                label: tool_label,
                ticket,
                tool: tool.to_owned(),
                true_label: label,
                archived,
            });
        }
    }
    Err(RecordError::invalid_field(
        "ticket",
        format!("no {tool} decision stored for ticket `{ticket}`: ingest the triaged ticket first"),
    )
    .into())
}

/// A ticket id, string or integer as in the ticket itself.
fn ticket_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    TicketId::deserialize(deserializer).map(|id| id.to_string())
}

/// The label, checked against the tool's fixed set where it has one.
fn valid_label(tool: &str, label: &str) -> Result<String, RecordError> {
    if label.is_empty() {
        return Err(RecordError::invalid_field("label", "the label is empty"));
    }
    let allowed: &[&str] = match tool {
        "sentiment" => &["negative", "neutral", "positive"],
        "escalation" => &["none", "L1", "L2", "manager"],
        "priority" => {
            return serde_json::from_value::<PriorityLevel>(label.into())
                .map(|level| level.as_str().to_owned())
                .map_err(|_| {
                    RecordError::invalid_field(
                        "label",
                        format!(
                        "`{label}` is not a priority: one of low, medium, high, urgent, critical"
                    ),
                    )
                })
        }
        _ => return Ok(label.to_owned()),
    };
    if allowed.contains(&label) {
        Ok(label.to_owned())
    } else {
        Err(RecordError::invalid_field(
            "label",
            format!(
                "`{label}` is not a {tool} label: one of {}",
                allowed.join(", ")
            ),
        ))
    }
}

/// Customer feedback on a ticket, or on one message of its transcript. As a
/// JSON Lines record: `{"ticket": "T-1", "rating": 4, "comment": "quick", "message": 2}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    #[serde(alias = "id", alias = "ticket_id", deserialize_with = "ticket_id")]
    pub ticket: String,
    /// 1 (worst) to 5 (best).
    pub rating: i64,
    #[serde(default)]
    pub comment: Option<String>,
    /// Position (from 0) of the message rated, in the ticket's `messages`.
    #[serde(default, alias = "message_position")]
    pub message: Option<i32>,
    /// When the customer gave the rating (RFC 3339); now when absent. Lets a
    /// team load the ratings it collected before the store existed.
    #[serde(default)]
    pub created_at: Option<jiff::Timestamp>,
}

impl crate::lines::Command for Feedback {
    fn ticket(&self) -> &str {
        &self.ticket
    }
}

/// Feedback as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackStored {
    pub feedback_id: i64,
    pub ticket: String,
    pub rating: i16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<i32>,
}

/// Stores `feedback` after checking the rating, the ticket and the message.
pub fn feedback(client: &mut Client, feedback: &Feedback) -> Result<FeedbackStored, Refusal> {
    let rating = i16::try_from(feedback.rating)
        .ok()
        .filter(|r| (1..=5).contains(r))
        .ok_or_else(|| {
            RecordError::invalid_field(
                "rating",
                format!(
                    "rating {} is out of range: give 1 (worst) to 5 (best)",
                    feedback.rating
                ),
            )
        })?;
    let ticket = feedback.ticket.clone();
    let messages = client.query_opt(
        "SELECT coalesce(jsonb_array_length(CASE WHEN jsonb_typeof(ticket->'messages') = 'array'
                                                THEN ticket->'messages' END), 0)
         FROM (SELECT ticket FROM tickets WHERE id = $1
               UNION ALL SELECT ticket FROM tickets_archive WHERE id = $1) found
         LIMIT 1",
        &[&ticket],
    )?;
    let Some(messages) = messages else {
        return Err(RecordError::invalid_field(
            "ticket",
            format!("no ticket `{ticket}` is stored: ingest it first"),
        )
        .into());
    };
    let messages: i32 = messages.get(0);
    if let Some(position) = feedback.message {
        if !(0..messages).contains(&position) {
            return Err(RecordError::invalid_field(
                "message",
                format!(
                    "ticket `{ticket}` has {messages} messages; `message` is a position from 0 to {}",
                    messages - 1
                ),
            )
            .into());
        }
    }
    let comment = feedback
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.contains('\0')) {
        return Err(
            RecordError::new(ErrorKind::InvalidField, "the comment holds a NUL character")
                .with_field("comment")
                .into(),
        );
    }
    let row = client.query_one(
        "INSERT INTO feedback (ticket_id, message_position, rating, comment, created_at)
         VALUES ($1, $2, $3, $4, coalesce($5::text::timestamptz, now())) RETURNING id",
        &[
            &ticket,
            &feedback.message,
            &rating,
            &comment,
            &feedback.created_at.map(|t| t.to_string()),
        ],
    )?;
    Ok(FeedbackStored {
        feedback_id: row.get(0),
        ticket,
        rating,
        message: feedback.message,
    })
}
