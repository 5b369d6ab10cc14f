//! Escalation of a support ticket: which triggers fired (SLA breached or at
//! risk, a struggling bot, a customer asking for a person, worsening
//! sentiment, legal or press threats, a VIP customer), the level they call
//! for (none, L1, L2, manager), the actions to take and their deadlines.

pub use support_core::results::escalation::{
    Action, Deadline, DeadlineKind, Escalation, EscalationLevel, Trigger, TriggerKind,
};
mod config;

use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::Value;
use support_core::results::answer::EarlierAnswer;
use support_core::results::priority::{Priority, Sla, SlaClock, SlaStatus};
use support_core::results::sentiment::{SentimentReading, Trend};
use support_core::ticket::{analysed_prefix, Message, ANALYSED_TEXT_BYTES};
use support_core::{capitalize, round3, text, write_joined, Decimal, FieldName, Role, Ticket};
use support_text::{folded_chars, matched_text, tokenize, PhraseSet};

pub use config::{
    BotConfidenceCheck, BotTurnsCheck, ConfidenceConfig, CriticalWords, Effect, EscalateConfig,
    LevelAction, LevelActions, PhraseCheck, PlainCheck, Rule, SlaTriggers, VipCheck,
    DEFAULT_CONFIG, DEFAULT_CONFIG_JSON, EMBEDDED_CONFIG,
};

/// What a phrase of the customer phrase set signals.
#[derive(Debug, Clone, Copy)]
enum CustomerSignal {
    HumanRequest,
    /// Index into `config.critical_words`.
    Critical(usize),
}

/// What support-answer found, when it ran before: whether the knowledge
/// base answers the ticket or an agent must.
fn answer_reason(ticket: &Ticket<'_>) -> Option<String> {
    let answer = ticket.reading::<EarlierAnswer>()?;
    let confidence = answer.confidence.unwrap_or(0.0);
    Some(if answer.auto_reply {
        text!("Knowledge base: a confident answer (confidence {confidence:.2}) can be sent without an agent.")
    } else {
        text!("Knowledge base: no confident answer (confidence {confidence:.2}); an agent must reply.")
    })
}

/// A trigger with the configured effect it came from.
struct Fired<'c> {
    trigger: Trigger,
    effect: &'c Effect,
}

/// What escalation weighs besides the ticket's own text and fields: the
/// results of priority and sentiment (earlier ones, or computed for the
/// ticket by whoever composes the tools: `support_suite::compose`) and
/// whether the ticket is resolved, by the same closed statuses priority uses.
#[derive(Debug, Clone, Copy)]
pub struct EscalationInputs<'p> {
    pub priority: &'p Priority,
    /// Where the priority came from, for the reasons.
    pub priority_source: &'static str,
    pub sentiment: &'p SentimentReading,
    pub resolved: bool,
}

/// Decides the `escalation` key. Matchers are built once in [`Escalator::new`].
pub struct Escalator {
    config: EscalateConfig,
    /// Human-request and critical phrases in one set, so the customer's text is scanned once.
    customer_phrases: PhraseSet,
    /// What each phrase of `customer_phrases` signals, by phrase number.
    customer_signal_of: Vec<CustomerSignal>,
    bot_fallback_phrases: PhraseSet,
}

impl Escalator {
    pub fn new(config: EscalateConfig) -> Self {
        let human = config
            .human_request
            .phrases
            .iter()
            .map(|p| (CustomerSignal::HumanRequest, p.as_str()));
        let critical = config
            .critical_words
            .iter()
            .enumerate()
            .flat_map(|(i, group)| {
                group
                    .phrases
                    .iter()
                    .map(move |p| (CustomerSignal::Critical(i), p.as_str()))
            });
        let (customer_signal_of, phrases): (Vec<_>, Vec<_>) = human.chain(critical).unzip();
        Escalator {
            customer_phrases: PhraseSet::new(phrases),
            customer_signal_of,
            bot_fallback_phrases: PhraseSet::new(&config.bot_fallback.phrases),
            config,
        }
    }

    /// The escalation of `ticket` as of `now`, given its priority, its
    /// sentiment and whether it is resolved (see [`EscalationInputs`]).
    pub fn escalation(
        &self,
        ticket: &Ticket<'_>,
        inputs: &EscalationInputs<'_>,
        now: Timestamp,
    ) -> Escalation {
        let EscalationInputs {
            priority,
            priority_source,
            sentiment,
            resolved,
        } = *inputs;

        let mut fired = Vec::new();
        self.sla_triggers(priority, now, &mut fired);
        let bot_text_cut = self.bot_triggers(ticket, resolved, &mut fired);
        self.customer_word_triggers(ticket, &mut fired);
        self.sentiment_trigger(sentiment, &mut fired);
        self.vip_trigger(ticket, &mut fired);

        let (called_for, rule) = self.called_for(&fired);
        let escalate = called_for > EscalationLevel::None && !resolved;

        // Each trigger's, then at most: a rule's, the SLA's, the decision's,
        // the answer's and two text cuts.
        let mut reasons: Vec<String> = Vec::with_capacity(fired.len() + 6);
        reasons.extend(fired.iter().map(|f| trigger_reason(&f.trigger)));
        if let Some(rule) = rule {
            reasons.push(text!(
                "Rule \"{}\" raises the level to {}.",
                rule.name,
                rule.level
            ));
        }
        reasons.push(sla_source_reason(&priority.sla, priority_source));

        let level_action = self
            .config
            .levels
            .for_level(called_for)
            .filter(|_| escalate);
        let (actions, deadlines) = match level_action {
            Some(action) => {
                let actions = self.actions(action, priority, &fired);
                reasons.push(decision_reason(called_for, &actions));
                (actions, self.deadlines(action, called_for, priority, now))
            }
            None => {
                reasons.push(match (resolved, called_for) {
                    (true, level) if level > EscalationLevel::None => {
                        text!("No escalation: the ticket is resolved (it would be {level}).")
                    }
                    _ if fired.is_empty() => "No escalation: no trigger fired.".to_string(),
                    _ => "No escalation: no trigger calls for a level above none.".to_string(),
                });
                (Vec::new(), Vec::new())
            }
        };
        reasons.extend(answer_reason(ticket));
        reasons.extend(ticket.text_cut().map(|cut| cut.to_string()));
        reasons.extend(bot_text_cut);

        let confidence = self.confidence(&fired, escalate, priority);
        Escalation {
            escalate,
            level: if escalate {
                called_for
            } else {
                EscalationLevel::None
            },
            triggers: fired.into_iter().map(|f| f.trigger).collect(),
            actions,
            deadlines,
            confidence,
            reasons,
        }
    }

    /// The highest level the triggers call for, and the rule that raised it
    /// above them, if one did.
    fn called_for(&self, fired: &[Fired<'_>]) -> (EscalationLevel, Option<&Rule>) {
        let kinds: Vec<TriggerKind> = fired.iter().map(|f| f.trigger.kind).collect();
        let by_triggers = fired
            .iter()
            .map(|f| f.trigger.level)
            .max()
            .unwrap_or(EscalationLevel::None);
        let rule = self
            .config
            .rules
            .iter()
            .filter(|rule| rule.applies(&kinds))
            .max_by_key(|rule| rule.level)
            .filter(|rule| rule.level > by_triggers);
        (rule.map_or(by_triggers, |rule| rule.level), rule)
    }

    /// Running SLA clocks breached or at risk, as of `now`. A clock that has
    /// stopped (answered or resolved, even late) is history, not a reason to escalate.
    fn sla_triggers<'c>(&'c self, priority: &Priority, now: Timestamp, fired: &mut Vec<Fired<'c>>) {
        let sla = &self.config.sla;
        let clocks = [
            (
                "first response",
                &priority.sla.first_response,
                (
                    TriggerKind::FirstResponseSlaBreached,
                    &sla.first_response_breached,
                ),
                (
                    TriggerKind::FirstResponseSlaAtRisk,
                    &sla.first_response_at_risk,
                ),
            ),
            (
                "resolution",
                &priority.sla.resolution,
                (TriggerKind::ResolutionSlaBreached, &sla.resolution_breached),
                (TriggerKind::ResolutionSlaAtRisk, &sla.resolution_at_risk),
            ),
        ];
        for (what, clock, breached, at_risk) in clocks {
            let Some(due) = clock.due.filter(|_| !clock.done) else {
                continue;
            };
            let ((kind, effect), state) = match clock.status_at(now) {
                Some(SlaStatus::Breached) => (breached, "breached"),
                Some(SlaStatus::AtRisk) => (at_risk, "at risk"),
                _ => continue,
            };
            let detail = text!(
                "{what} due {due} ({} min for {} priority) is {state}",
                clock.target_minutes,
                priority.level
            );
            fired.push(fire(kind, effect, detail));
        }
    }

    /// Checks on the bot, while it is the one answering: once an agent has
    /// replied after the bot's last message, the bot's struggles are moot.
    /// Returns the reason to give when the last bot message was too long to
    /// read whole (see [`ANALYSED_TEXT_BYTES`]).
    fn bot_triggers<'c>(
        &'c self,
        ticket: &Ticket<'_>,
        resolved: bool,
        fired: &mut Vec<Fired<'c>>,
    ) -> Option<String> {
        let messages = &ticket.messages;
        let last_bot = messages.iter().rposition(|m| m.role == Role::Bot);
        let last_agent = messages.iter().rposition(|m| m.role == Role::Agent);
        if last_agent.is_some() && last_agent > last_bot {
            return None;
        }
        let mut text_cut = None;
        let check = &self.config.bot_confidence;
        if let Some((value, field)) = lowest_bot_confidence(ticket, last_bot) {
            if value < check.below {
                let detail = text!(
                    "bot confidence {} ({field}) is below {}",
                    Decimal(value),
                    Decimal(check.below)
                );
                fired.push(fire(
                    TriggerKind::LowBotConfidence,
                    &check.escalation,
                    detail,
                ));
            }
        }
        if let Some(last) = last_bot {
            let last_field = FieldName::Message(last);
            let content = &messages[last].content;
            let read = analysed_prefix(content, ANALYSED_TEXT_BYTES);
            if read.len() < content.len() {
                text_cut = Some(text!(
                    "text cut: read the first {} of {} bytes of the last bot message ({last_field}, limit {ANALYSED_TEXT_BYTES})",
                    read.len(),
                    content.len()
                ));
            }
            let tokens = tokenize(read);
            if let Some(m) = self.bot_fallback_phrases.find_all(&tokens).first() {
                let detail = text!(
                    "last bot message ({last_field}) says \"{}\"",
                    matched_text(&tokens, m)
                );
                fired.push(fire(
                    TriggerKind::BotFallback,
                    &self.config.bot_fallback.escalation,
                    detail,
                ));
            }
            if let Some(earlier) = earlier_same_bot_message(messages, last) {
                let detail = text!(
                    "last bot message ({last_field}) repeats {}",
                    FieldName::Message(earlier)
                );
                fired.push(fire(
                    TriggerKind::BotRepeating,
                    &self.config.bot_repeating.escalation,
                    detail,
                ));
            }
        }
        let turns_check = &self.config.bot_turns;
        let since_agent = last_agent.map_or(0, |i| i + 1);
        let bot_turns = messages[since_agent..]
            .iter()
            .filter(|m| m.role == Role::Bot)
            .count();
        if !resolved && bot_turns >= turns_check.at_least {
            let detail = text!(
                "{bot_turns} bot turns without an agent reply and the ticket is not resolved (limit {})",
                turns_check.at_least
            );
            fired.push(fire(TriggerKind::BotTurns, &turns_check.escalation, detail));
        }
        text_cut
    }

    /// A request for a person, and each group of critical words, at their first occurrence.
    fn customer_word_triggers<'c>(&'c self, ticket: &Ticket<'_>, fired: &mut Vec<Fired<'c>>) {
        let mut human: Option<String> = None;
        let mut critical: Vec<Option<String>> = vec![None; self.config.critical_words.len()];
        for (field, tokens) in ticket.analysis().fields() {
            for m in self.customer_phrases.find_all(tokens) {
                let slot = match self.customer_signal_of[m.phrase] {
                    CustomerSignal::HumanRequest => &mut human,
                    CustomerSignal::Critical(group) => &mut critical[group],
                };
                slot.get_or_insert_with(|| text!("\"{}\" in {field}", matched_text(tokens, &m)));
            }
        }
        if let Some(found) = human {
            let detail = text!("customer asks for a person: {found}");
            fired.push(fire(
                TriggerKind::HumanRequested,
                &self.config.human_request.escalation,
                detail,
            ));
        }
        for (group, found) in self.config.critical_words.iter().zip(critical) {
            if let Some(found) = found {
                let detail = text!("{}: {found}", group.name);
                fired.push(fire(TriggerKind::CriticalWords, &group.escalation, detail));
            }
        }
    }

    fn sentiment_trigger<'c>(&'c self, sentiment: &SentimentReading, fired: &mut Vec<Fired<'c>>) {
        if sentiment.trend == Some(Trend::Worsening) {
            let detail = text!(
                "sentiment is worsening over the conversation ({})",
                sentiment.source()
            );
            fired.push(fire(
                TriggerKind::WorseningSentiment,
                &self.config.worsening_sentiment.escalation,
                detail,
            ));
        }
    }

    fn vip_trigger<'c>(&'c self, ticket: &Ticket<'_>, fired: &mut Vec<Fired<'c>>) {
        let vip = &self.config.vip;
        if let Some(tier) = ticket.tier().filter(|tier| {
            vip.tiers
                .iter()
                .any(|t| t.trim().eq_ignore_ascii_case(tier))
        }) {
            fired.push(fire(
                TriggerKind::Vip,
                &vip.escalation,
                text!("customer tier {tier}"),
            ));
        }
    }

    /// Reassign, raise the priority (never lower it), then notify everyone
    /// the level and the triggers name, each once.
    fn actions(
        &self,
        level: &LevelAction,
        priority: &Priority,
        fired: &[Fired<'_>],
    ) -> Vec<Action> {
        let mut actions = vec![Action::Reassign {
            queue: level.queue.clone(),
        }];
        if priority.level < level.raise_priority_to {
            actions.push(Action::RaisePriority {
                from: priority.level,
                to: level.raise_priority_to,
            });
        }
        let everyone = level
            .notify
            .iter()
            .chain(fired.iter().flat_map(|f| &f.effect.notify));
        for who in everyone {
            let notify = Action::Notify { who: who.clone() };
            if !actions.contains(&notify) {
                actions.push(notify);
            }
        }
        actions
    }

    /// Acknowledge within the level's minutes; keep each running SLA clock's
    /// due time, or give a breached one a short grace from now.
    fn deadlines(
        &self,
        action: &LevelAction,
        level: EscalationLevel,
        priority: &Priority,
        now: Timestamp,
    ) -> Vec<Deadline> {
        // Saturates at the end of representable time rather than failing the record.
        let after = |minutes: u32| {
            now.checked_add(SignedDuration::from_mins(i64::from(minutes)))
                .unwrap_or(Timestamp::MAX)
        };
        let mut deadlines = vec![Deadline {
            kind: DeadlineKind::Acknowledge,
            due: after(action.acknowledge_within_minutes),
            basis: text!(
                "{} min from now for a {level} escalation",
                action.acknowledge_within_minutes
            ),
        }];
        let grace = self.config.breached_sla_grace_minutes;
        let clocks = [
            (
                DeadlineKind::FirstResponse,
                "first response",
                &priority.sla.first_response,
            ),
            (
                DeadlineKind::Resolution,
                "resolution",
                &priority.sla.resolution,
            ),
        ];
        for (kind, what, clock) in clocks {
            if let Some((due, basis)) = clock_deadline(clock, what, now, grace, after) {
                deadlines.push(Deadline { kind, due, basis });
            }
        }
        deadlines
    }

    /// Escalating: the triggers' weights combined. Not escalating: `quiet`,
    /// lowered by the weight of triggers that fired anyway and by an SLA that
    /// could not be checked.
    fn confidence(&self, fired: &[Fired<'_>], escalate: bool, priority: &Priority) -> f64 {
        // The chance that no trigger is right, treating them as independent.
        let all_wrong = fired
            .iter()
            .map(|f| 1.0 - f.trigger.weight.clamp(0.0, 1.0))
            .product::<f64>();
        let c = &self.config.confidence;
        let confidence = if escalate {
            1.0 - all_wrong
        } else {
            let sla = &priority.sla;
            let sla_unknown = sla.first_response.due.is_none() && sla.resolution.due.is_none();
            let penalty = if sla_unknown {
                c.unknown_sla_penalty
            } else {
                0.0
            };
            (c.quiet - penalty) * all_wrong
        };
        round3(confidence.clamp(0.0, 1.0))
    }
}

fn fire(kind: TriggerKind, effect: &Effect, detail: String) -> Fired<'_> {
    Fired {
        trigger: Trigger {
            kind,
            detail,
            weight: effect.weight,
            level: effect.level,
        },
        effect,
    }
}

/// The lowest bot confidence the ticket gives, and the field it came from.
fn lowest_bot_confidence(ticket: &Ticket<'_>, last_bot: Option<usize>) -> Option<(f64, String)> {
    let top = ticket
        .raw_field("bot_confidence")
        .map(|v| (v, "bot_confidence".to_string()));
    // Only the one value is read, not the whole object or transcript as a
    // tree: those are as long as the ticket, and a tree costs several times that.
    let metadata = ticket
        .prior::<BotConfidence>("metadata")
        .and_then(|m| m.bot_confidence)
        .map(|v| (v, "metadata.bot_confidence".to_string()));
    let last_message = last_bot.and_then(|i| {
        let messages = ticket.prior::<Vec<MessageConfidence>>("messages")?;
        Some((
            messages.into_iter().nth(i)?.confidence?,
            text!("messages[{i}].confidence"),
        ))
    });
    top.into_iter()
        .chain(metadata)
        .chain(last_message)
        .filter_map(|(value, field)| value.as_f64().map(|v| (v, field)))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

#[derive(Deserialize)]
struct BotConfidence {
    #[serde(default)]
    bot_confidence: Option<Value>,
}

/// A message of the transcript as the bot-confidence check reads it: the
/// content is skipped, not copied.
#[derive(Deserialize)]
struct MessageConfidence {
    #[serde(default)]
    confidence: Option<Value>,
}

/// An earlier bot message with the same words as the one at `last`, compared
/// folded character by character: no folded copy of any message is made.
fn earlier_same_bot_message(messages: &[Message<'_>], last: usize) -> Option<usize> {
    let words = messages[last].content.trim();
    if words.is_empty() {
        return None;
    }
    messages[..last].iter().rposition(|m| {
        m.role == Role::Bot && folded_chars(m.content.trim()).eq(folded_chars(words))
    })
}

/// The deadline a running SLA clock sets, with its basis.
fn clock_deadline(
    clock: &SlaClock,
    what: &str,
    now: Timestamp,
    grace: u32,
    after: impl Fn(u32) -> Timestamp,
) -> Option<(Timestamp, String)> {
    let due = clock.due.filter(|_| !clock.done)?;
    match clock.status_at(now)? {
        SlaStatus::Breached => Some((
            after(grace),
            text!("{what} SLA breached at {due}: {grace} min from now"),
        )),
        SlaStatus::AtRisk | SlaStatus::OnTrack => Some((due, text!("{what} SLA due time"))),
        SlaStatus::Met => None,
    }
}

fn trigger_reason(trigger: &Trigger) -> String {
    capitalize(match trigger.level {
        EscalationLevel::None => text!("{} (does not escalate alone).", trigger.detail),
        level => text!("{} (calls for {level}).", trigger.detail),
    })
}

fn sla_source_reason(sla: &Sla, priority_source: &str) -> String {
    if sla.first_response.due.is_none() && sla.resolution.due.is_none() {
        "No SLA due times (no created_at): SLA clocks not checked.".to_string()
    } else {
        text!("SLA {priority_source}.")
    }
}

fn decision_reason(level: EscalationLevel, actions: &[Action]) -> String {
    let mut reason = text!("Escalate to {level}: ");
    write_joined(&mut reason, actions, ", ", |out, action| match action {
        Action::Reassign { queue } => write!(out, "reassign to {queue}"),
        Action::RaisePriority { from, to } => write!(out, "raise priority from {from} to {to}"),
        Action::Notify { who } => write!(out, "notify {who}"),
    });
    reason.push('.');
    reason
}

impl Default for Escalator {
    fn default() -> Self {
        Escalator::new(EscalateConfig::default())
    }
}
