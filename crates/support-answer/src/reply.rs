//! The bot's replies: which answered tickets the bot may send its reply to
//! unreviewed, and those tickets marked answered by the bot.
//!
//! The engines send the reply (`answer.reply.text`, to `customer.email`) with
//! their own mail or HTTP node and then store the marked ticket; every other
//! ticket goes on to routing unchanged. The decision is made here, once, so
//! no flow has to read ticket JSON with text tools.

use std::io::{self, BufRead, Write};

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use support_core::error::ErrorRecord;
use support_core::results::escalation::Escalation;
use support_core::results::{AddedResult, ToolResult};
use support_core::status::{self, BOT};
use support_core::{Record, RecordError, Ticket};
use support_runner::input::Records;

use crate::{Answer, Reply};

/// The reply the bot may send for `ticket`, or why it may not.
pub fn bot_reply(ticket: &Ticket<'_>) -> Result<Reply, &'static str> {
    let answer = ticket
        .result::<Answer>()
        .ok_or("no `answer`: run support-answer (or support-triage --index) first")?;
    if !answer.auto_reply {
        return Err("the answer is not confident enough to send unreviewed");
    }
    let reply = answer
        .reply
        .as_ref()
        .ok_or("the answer has no reply text")?;
    if reply.note.is_some() {
        return Err("the reply is not in the ticket's language");
    }
    // An escalation that cannot be read counts as one: the bot holds back.
    let escalation = ticket.prior::<IgnoredAny>(Escalation::KEY).is_some();
    if escalation
        && ticket
            .prior::<EscalationFlag>(Escalation::KEY)
            .is_none_or(|e| e.escalate)
    {
        return Err("the ticket is escalated: an agent answers");
    }
    if ticket
        .status
        .as_deref()
        .is_some_and(|s| status::finished(s).is_some())
    {
        return Err("the ticket is already finished");
    }
    if ticket.id.is_none() {
        return Err("no `id` to file the reply under");
    }
    let email = ticket.customer.as_ref().and_then(|c| c.email.as_deref());
    if email.is_none_or(|e| !e.contains('@')) {
        return Err("no customer e-mail address to send the reply to");
    }
    Ok(reply.clone())
}

/// The mail that carries a bot reply, as the engines' mail nodes take it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Mail {
    pub ticket_id: String,
    pub to: String,
    /// `Re: <subject> [<id>]`, or without a subject "Su consulta [<id>]" /
    /// "Your request [<id>]": the id lets a reply to the mail find its ticket.
    pub subject: String,
    pub text: String,
    pub language: String,
    pub article_id: String,
}

impl Mail {
    /// The mail for a ticket [`bot_reply`] answered with `reply`.
    pub fn new(ticket: &Ticket<'_>, reply: &Reply) -> Mail {
        let id = ticket
            .id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let subject = match ticket.subject.as_deref().map(str::trim) {
            Some(subject) if !subject.is_empty() => format!("Re: {subject} [{id}]"),
            _ if reply.language == "es" => format!("Su consulta [{id}]"),
            _ => format!("Your request [{id}]"),
        };
        Mail {
            to: ticket
                .customer
                .as_ref()
                .and_then(|c| c.email.as_deref())
                .unwrap_or_default()
                .trim()
                .to_owned(),
            ticket_id: id,
            subject,
            text: reply.text.clone(),
            language: reply.language.clone(),
            article_id: reply.article_id.clone(),
        }
    }
}

/// What the bot reads of `escalation`.
#[derive(Deserialize)]
struct EscalationFlag {
    escalate: bool,
}

#[derive(Serialize)]
struct BotMessage<'a> {
    role: &'static str,
    content: &'a str,
    timestamp: Timestamp,
}

/// The ticket marked answered by the bot at `now`: the reply appended to
/// `messages`, `status` resolved, `resolved_by` bot, `resolved_at` now and
/// `first_response_at` now unless an earlier response set it. Every other
/// field stays as it came.
pub fn mark_answered(
    record: &Record<'_>,
    ticket: &Ticket<'_>,
    reply: &Reply,
    now: Timestamp,
) -> Result<Vec<u8>, RecordError> {
    let failed =
        |e: serde_json::Error| RecordError::new(support_core::ErrorKind::Failed, e.to_string());
    let mut messages: Vec<Box<RawValue>> = match record.get("messages") {
        Some(raw) => serde_json::from_str(raw.get())
            .map_err(|e| RecordError::invalid_field("messages", e.to_string()))?,
        None => Vec::new(),
    };
    messages.push(
        serde_json::value::to_raw_value(&BotMessage {
            role: BOT,
            content: &reply.text,
            timestamp: now,
        })
        .map_err(failed)?,
    );
    let mut changes = vec![
        AddedResult::new("status", "resolved"),
        AddedResult::new("resolved_by", BOT),
        AddedResult::new("resolved_at", now),
        AddedResult::new("messages", messages),
    ];
    if ticket.first_response_at.is_none() {
        changes.push(AddedResult::new("first_response_at", now));
    }
    record.to_json_with(&changes).map_err(failed)
}

/// How many records went where.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReplySummary {
    pub records: u64,
    /// Marked answered by the bot (the reply is to be sent).
    pub answered: u64,
    /// Left for an agent, unchanged.
    pub rest: u64,
    /// Could not be read; an error record took their place.
    pub failed: u64,
}

/// Where each record goes.
pub struct ReplyOutputs<'w> {
    pub answered: &'w mut dyn Write,
    pub rest: &'w mut dyn Write,
    /// Error records; `None`: in place among the rest.
    pub errors: Option<&'w mut dyn Write>,
    /// One [`Mail`] a line for each answered ticket, in the same order.
    pub mails: Option<&'w mut dyn Write>,
}

/// Reads triaged tickets and writes each one to exactly one place: marked to
/// `answered` when the bot replies, unchanged to `rest` when it does not, or
/// as an error record (to `errors`, else among the rest) when it cannot be read. An earlier tool's
/// error record goes to `rest`, as every tool passes them on.
pub fn split<R: BufRead>(
    input: R,
    mut out: ReplyOutputs<'_>,
    now: Timestamp,
    max_record_bytes: usize,
) -> io::Result<ReplySummary> {
    let mut records = Records::new(input, max_record_bytes)?;
    let mut summary = ReplySummary::default();
    while let Some(raw) = records.next_record()? {
        summary.records += 1;
        let (line, target) = match raw.bytes().and_then(|bytes| route(bytes, now)) {
            Ok(Routed::Answered(line, mail)) => {
                summary.answered += 1;
                if let Some(mails) = out.mails.as_mut() {
                    serde_json::to_writer(&mut **mails, &mail)?;
                    mails.write_all(b"\n")?;
                }
                (line, &mut *out.answered)
            }
            Ok(Routed::Rest(line)) => {
                summary.rest += 1;
                (line, &mut *out.rest)
            }
            Err(error) => {
                summary.failed += 1;
                let id = raw
                    .content
                    .as_deref()
                    .ok()
                    .and_then(support_core::json_text::top_level_id);
                let target = match out.errors.as_mut() {
                    Some(errors) => &mut **errors,
                    None => &mut *out.rest,
                };
                (ErrorRecord::json(&error, raw.number, id), target)
            }
        };
        target.write_all(&line)?;
        target.write_all(b"\n")?;
    }
    Ok(summary)
}

enum Routed {
    Answered(Vec<u8>, Mail),
    Rest(Vec<u8>),
}

fn route(bytes: &[u8], now: Timestamp) -> Result<Routed, RecordError> {
    let record = Record::parse(bytes)?;
    if record.is_error_record() {
        return Ok(Routed::Rest(record.to_json()));
    }
    Ticket::with_record(&record, |ticket| match bot_reply(ticket) {
        Ok(reply) => {
            let marked = mark_answered(&record, ticket, &reply, now)?;
            Ok(Routed::Answered(marked, Mail::new(ticket, &reply)))
        }
        Err(why) => {
            tracing::debug!(id = ?ticket.id, "not answered by the bot: {why}");
            Ok(Routed::Rest(record.to_json()))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-11-24T09:00:00Z";

    fn answered_ticket(extra: &str) -> String {
        format!(
            r#"{{"id":"T-1","subject":"Olvidé mi contraseña","customer":{{"email":"ana@example.com","name":"Ana"}},"n":1e999,{extra}"answer":{{"articles":[],"reply":{{"article_id":"reset-password","language":"es","text":"Hola Ana, pulse «¿Olvidó su contraseña?»."}},"auto_reply":true,"confidence":0.9,"reasons":[]}}}}"#
        )
    }

    fn split_text(input: &str) -> (String, String, String, ReplySummary) {
        let (answered, rest, errors, _, summary) = split_all(input);
        (answered, rest, errors, summary)
    }

    fn split_all(input: &str) -> (String, String, String, String, ReplySummary) {
        let (mut answered, mut rest, mut errors, mut mails) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let summary = split(
            input.as_bytes(),
            ReplyOutputs {
                answered: &mut answered,
                rest: &mut rest,
                errors: Some(&mut errors),
                mails: Some(&mut mails),
            },
            NOW.parse().unwrap(),
            1 << 20,
        )
        .unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        (
            text(answered),
            text(rest),
            text(errors),
            text(mails),
            summary,
        )
    }

    #[test]
    fn a_confident_reply_marks_the_ticket_answered_by_the_bot_and_keeps_every_field() {
        let (answered, rest, errors, summary) = split_text(&answered_ticket(
            r#""messages":[{"role":"user","content":"ayuda"}],"#,
        ));
        assert_eq!((rest.as_str(), errors.as_str()), ("", ""));
        assert_eq!((summary.answered, summary.rest), (1, 0));
        // A number serde_json's Value cannot hold passes through as written.
        assert!(answered.contains(r#""n":1e999"#), "{answered}");
        // The messages as text: a parse into a Value would also accept a raw
        // value written as serde_json's private wrapper object.
        assert!(
            answered.contains(r#""messages":[{"role":"user","content":"ayuda"},{"role":"bot","#),
            "{answered}"
        );
        let ticket: serde_json::Value =
            serde_json::from_str(&answered.trim().replace("1e999", "1")).unwrap();
        assert_eq!(ticket["status"], "resolved");
        assert_eq!(ticket["resolved_by"], "bot");
        assert_eq!(ticket["resolved_at"], NOW);
        assert_eq!(ticket["first_response_at"], NOW);
        let messages = ticket["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 2);
        assert_eq!(messages[1]["role"], "bot");
        assert_eq!(messages[1]["content"], ticket["answer"]["reply"]["text"]);
    }

    #[test]
    fn the_bot_leaves_to_an_agent_what_it_must_not_answer() {
        let not_confident =
            answered_ticket("").replace(r#""auto_reply":true"#, r#""auto_reply":false"#);
        let escalated = answered_ticket(
            r#""escalation":{"escalate":true,"level":"L2","triggers":[],"actions":[],"reasons":[],"confidence":1.0},"#,
        );
        let unreadable_escalation = answered_ticket(r#""escalation":"maybe","#);
        let finished = answered_ticket(r#""status":"cerrado","#);
        let no_email = answered_ticket("").replace("ana@example.com", "");
        let translated = answered_ticket("").replace(
            r#""text":"#,
            r#""note":"the article has no reply in `en`","text":"#,
        );
        let no_id = answered_ticket("").replace(r#""id":"T-1","#, "");
        let no_answer = r#"{"id":"T-2","subject":"hola"}"#.to_string();
        let earlier_error =
            r#"{"error":{"kind":"no_text","message":"no text","line":3}}"#.to_string();
        let input = [
            not_confident,
            escalated,
            unreadable_escalation,
            finished,
            no_id,
            no_email,
            translated,
            no_answer,
            earlier_error,
        ]
        .join("\n");
        let (answered, rest, errors, summary) = split_text(&input);
        assert_eq!((answered.as_str(), errors.as_str()), ("", ""));
        assert_eq!(summary.rest, 9);
        // Unchanged: each input line is its rest line, compacted.
        for (given, kept) in input.lines().zip(rest.lines()) {
            let given: serde_json::Value =
                serde_json::from_str(given.replace("1e999", "1").as_str()).unwrap();
            let kept: serde_json::Value =
                serde_json::from_str(kept.replace("1e999", "1").as_str()).unwrap();
            assert_eq!(given, kept);
        }
    }

    #[test]
    fn an_unreadable_line_becomes_an_error_record_and_the_lines_around_it_go_on() {
        let input = format!(
            "{}\n{{\"id\":\"T-BAD\",\n{}\n",
            answered_ticket(""),
            answered_ticket("")
        );
        let (answered, _, errors, summary) = split_text(&input);
        assert_eq!(
            summary,
            ReplySummary {
                records: 3,
                answered: 2,
                rest: 0,
                failed: 1
            }
        );
        assert_eq!(answered.lines().count(), 2);
        let error: serde_json::Value = serde_json::from_str(errors.trim()).unwrap();
        assert_eq!(error["error"]["line"], 2);
    }

    #[test]
    fn a_first_response_already_given_is_kept() {
        let (answered, ..) = split_text(&answered_ticket(
            r#""first_response_at":"2026-11-24T08:00:00Z","#,
        ));
        let ticket: serde_json::Value =
            serde_json::from_str(&answered.trim().replace("1e999", "1")).unwrap();
        assert_eq!(ticket["first_response_at"], "2026-11-24T08:00:00Z");
    }

    #[test]
    fn each_answered_ticket_has_its_mail_in_the_same_order() {
        let without_subject = answered_ticket("")
            .replace(r#""subject":"Olvidé mi contraseña","#, "")
            .replace("T-1", "T-9");
        let input = format!("{}\n{without_subject}\n", answered_ticket(""));
        let (_, _, _, mails, _) = split_all(&input);
        let mails: Vec<serde_json::Value> = mails
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(mails.len(), 2);
        assert_eq!(mails[0]["to"], "ana@example.com");
        assert_eq!(mails[0]["subject"], "Re: Olvidé mi contraseña [T-1]");
        assert_eq!(
            mails[0]["text"],
            "Hola Ana, pulse «¿Olvidó su contraseña?»."
        );
        assert_eq!(mails[0]["article_id"], "reset-password");
        assert_eq!(mails[1]["subject"], "Su consulta [T-9]");
    }
}
