//! Every figure of `dashboard`, `kpis`, `conversations` and `report`, computed
//! in one pass over ticket rows, whichever source gave them.
//!
//! The definitions are the SQL views' (sql/migrations), word for word:
//! open = status not `resolved`/`closed`; resolved = a closing status or a
//! `resolved_at`; bot-resolved = `resolved_by` is `bot`; an SLA target is
//! decided once it is met, or missed, or still pending after its due time at
//! `now`. Rates are fractions in [0, 1] rounded to 4 decimals, minutes to 2.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use jiff::{SignedDuration, Timestamp};
use schemars::JsonSchema;
use serde::Serialize;

use crate::config::ExportConfig;
use crate::filter::Window;
use crate::row::{Feedback, TicketRow};

/// The priority levels, most pressing first.
pub const PRIORITIES: [&str; 5] = ["critical", "urgent", "high", "medium", "low"];

/// Channel or language a ticket does not give.
const UNKNOWN: &str = "unknown";

/// Agent ids to display names (agents table, or `--agents FILE`).
pub type AgentNames = HashMap<String, String>;

/// Accumulates rows; the payloads are read from it at the end. Memory is
/// bounded by the window's hours and the distinct categories, agents,
/// channels and languages, never by the number of tickets.
pub struct Aggregator {
    window: Window,
    now: Timestamp,
    config: ExportConfig,
    totals: Totals,
    hours: Vec<HourTrend>,
    priorities: [PriorityFigures; PRIORITIES.len()],
    categories: HashMap<String, u64>,
    agents: HashMap<String, AgentTally>,
    ratings: Ratings,
    resolved_rated: u64,
    conversations: ConversationTally,
    by_channel: BTreeMap<String, ConversationTally>,
    by_language: BTreeMap<String, ConversationTally>,
    recent_feedback: BinaryHeap<Reverse<(Option<Timestamp>, Feedback)>>,
}

impl Aggregator {
    /// `window` bounds the hourly trend; rows are expected to lie in it
    /// (the source's filter), and `now` decides pending SLA targets.
    pub fn new(window: Window, now: Timestamp, config: ExportConfig) -> Aggregator {
        let first = floor_to_hour(window.since);
        let hours =
            std::iter::successors(Some(first), |h| Some(*h + SignedDuration::from_hours(1)))
                .take_while(|h| *h < window.until)
                .map(|hour| HourTrend {
                    hour,
                    ..HourTrend::default()
                })
                .collect();
        Aggregator {
            window,
            now,
            config,
            totals: Totals::default(),
            hours,
            priorities: Default::default(),
            categories: HashMap::new(),
            agents: HashMap::new(),
            ratings: Ratings::default(),
            resolved_rated: 0,
            conversations: ConversationTally::default(),
            by_channel: BTreeMap::new(),
            by_language: BTreeMap::new(),
            recent_feedback: BinaryHeap::new(),
        }
    }

    pub fn add(&mut self, row: &TicketRow) {
        let resolved = row.is_resolved();
        let critical_urgent =
            matches!(row.columns.priority.as_deref(), Some("critical" | "urgent"));
        let ratings = Ratings::of(&row.activity.feedback, self.config.csat.satisfied_from);

        let totals = &mut self.totals;
        totals.tickets += 1;
        totals.bot_resolved += u64::from(row.columns.bot_resolved);
        totals.open += u64::from(row.is_open());
        totals.critical_urgent += u64::from(critical_urgent);
        totals.resolved += u64::from(resolved);
        totals.first_response.add(row.first_response_minutes());

        if let Some(created) = row.columns.created_at.filter(|t| self.window.contains(*t)) {
            let first = self.hours[0].hour;
            let index = (created.duration_since(first).as_secs() / 3600) as usize;
            let hour = &mut self.hours[index];
            hour.tickets += 1;
            hour.resolved += u64::from(resolved);
            hour.bot_resolved += u64::from(row.columns.bot_resolved);
            hour.critical_urgent += u64::from(critical_urgent);
        }

        if let Some(level) = row.columns.priority.as_deref() {
            if let Some(i) = PRIORITIES.iter().position(|p| *p == level) {
                self.priorities[i].add(row, self.now);
            }
        }
        if let Some(category) = &row.columns.category {
            *self.categories.entry(category.clone()).or_default() += 1;
        }
        if let Some(agent) = &row.columns.assigned_to {
            let tally = self.agents.entry(agent.clone()).or_default();
            tally.tickets += 1;
            tally.resolved += u64::from(resolved);
            tally.first_response.add(row.first_response_minutes());
            tally.resolution.add(row.resolution_minutes());
            tally.ratings.merge(&ratings);
        }

        self.ratings.merge(&ratings);
        self.resolved_rated += u64::from(resolved && ratings.count > 0);

        if let Some(conversation) = &row.activity.conversation {
            let duration = conversation
                .started_at
                .zip(conversation.ended_at)
                .map(|(start, end)| end.duration_since(start).as_secs_f64() / 60.0);
            let visit = |tally: &mut ConversationTally| {
                tally.conversations += 1;
                tally.resolved += u64::from(resolved);
                tally.bot_resolved += u64::from(row.columns.bot_resolved);
                tally.turns += u64::from(conversation.turns);
                tally.duration.add(duration);
                tally.ratings.merge(&ratings);
            };
            visit(&mut self.conversations);
            let key = |value: &Option<String>| value.clone().unwrap_or_else(|| UNKNOWN.into());
            visit(
                self.by_channel
                    .entry(key(&row.columns.channel))
                    .or_default(),
            );
            visit(
                self.by_language
                    .entry(key(&row.columns.language))
                    .or_default(),
            );
        }

        let keep = self.config.dashboard.recent_feedback;
        for feedback in &row.activity.feedback {
            self.recent_feedback
                .push(Reverse((feedback.created_at, feedback.clone())));
            if self.recent_feedback.len() > keep {
                self.recent_feedback.pop();
            }
        }
    }

    pub fn dashboard(&self, names: &AgentNames) -> Dashboard {
        let t = &self.totals;
        let mut top_categories: Vec<CategoryShare> = self
            .categories
            .iter()
            .map(|(category, &tickets)| CategoryShare {
                category: category.clone(),
                tickets,
                share: rate(tickets, t.tickets),
            })
            .collect();
        top_categories.sort_by(|a, b| b.tickets.cmp(&a.tickets).then(a.category.cmp(&b.category)));
        top_categories.truncate(self.config.dashboard.top_categories);

        let mut top_agents: Vec<AgentFigures> = self
            .agents
            .iter()
            .map(|(id, tally)| AgentFigures {
                agent_id: id.clone(),
                name: names.get(id).cloned(),
                tickets: tally.tickets,
                resolved: tally.resolved,
                avg_first_response_minutes: tally.first_response.minutes(),
                avg_resolution_minutes: tally.resolution.minutes(),
                csat_avg: tally.ratings.average(),
            })
            .collect();
        top_agents.sort_by(|a, b| {
            (b.resolved, b.tickets)
                .cmp(&(a.resolved, a.tickets))
                .then(a.agent_id.cmp(&b.agent_id))
        });
        top_agents.truncate(self.config.dashboard.top_agents);

        let mut recent_feedback: Vec<Feedback> = self
            .recent_feedback
            .iter()
            .map(|Reverse((_, f))| f.clone())
            .collect();
        recent_feedback.sort_by(|a, b| (&b.created_at, b).cmp(&(&a.created_at, a)));

        Dashboard {
            period: self.window,
            generated_at: self.now,
            metrics: DashboardMetrics {
                total_tickets: t.tickets,
                chatbot_resolved: t.bot_resolved,
                pending: t.open,
                critical_urgent: t.critical_urgent,
                avg_first_response_minutes: t.first_response.minutes(),
                chatbot_resolution_rate: rate(t.bot_resolved, t.tickets),
            },
            trends: self.hours.clone(),
            priority_distribution: PRIORITIES
                .iter()
                .zip(&self.priorities)
                .map(|(level, figures)| PriorityShare {
                    priority: level.to_string(),
                    tickets: figures.tickets,
                    share: rate(figures.tickets, t.tickets),
                })
                .collect(),
            top_categories,
            top_agents,
            recent_feedback,
        }
    }

    pub fn kpis(&self) -> Kpis {
        let t = &self.totals;
        let mut overall = PriorityFigures::default();
        for figures in &self.priorities {
            overall.merge(figures);
        }
        Kpis {
            period: self.window,
            generated_at: self.now,
            tickets: t.tickets,
            resolved: t.resolved,
            bot_resolution_rate: rate(t.bot_resolved, t.tickets),
            avg_first_response_minutes: t.first_response.minutes(),
            first_response_by_priority: PRIORITIES
                .iter()
                .zip(&self.priorities)
                .map(|(level, f)| PriorityResponse {
                    priority: level.to_string(),
                    tickets: f.tickets,
                    responded: f.first_response.count,
                    avg_first_response_minutes: f.first_response.minutes(),
                })
                .collect(),
            sla_compliance: PRIORITIES
                .iter()
                .zip(&self.priorities)
                .map(|(level, f)| f.sla(level))
                .collect(),
            sla_overall: overall.sla("all"),
            csat: self.ratings.csat(),
            feedback_response_rate: (t.resolved > 0).then(|| rate(self.resolved_rated, t.resolved)),
        }
    }

    pub fn conversations(&self) -> Conversations {
        let groups = |tallies: &BTreeMap<String, ConversationTally>| {
            let mut groups: Vec<ConversationGroup> = tallies
                .iter()
                .map(|(name, tally)| ConversationGroup {
                    name: name.clone(),
                    figures: tally.figures(),
                })
                .collect();
            groups.sort_by_key(|g| Reverse(g.figures.conversations));
            groups
        };
        Conversations {
            period: self.window,
            generated_at: self.now,
            overall: self.conversations.figures(),
            by_channel: groups(&self.by_channel),
            by_language: groups(&self.by_language),
        }
    }
}

/// `dashboard`: the payload a dashboard page draws.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Dashboard {
    pub period: Window,
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub generated_at: Timestamp,
    pub metrics: DashboardMetrics,
    /// One entry per hour of the window, by the hour tickets were created.
    pub trends: Vec<HourTrend>,
    pub priority_distribution: Vec<PriorityShare>,
    pub top_categories: Vec<CategoryShare>,
    pub top_agents: Vec<AgentFigures>,
    /// Newest first.
    pub recent_feedback: Vec<Feedback>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DashboardMetrics {
    pub total_tickets: u64,
    pub chatbot_resolved: u64,
    /// Open: not resolved or closed.
    pub pending: u64,
    pub critical_urgent: u64,
    pub avg_first_response_minutes: Option<f64>,
    /// chatbot_resolved / total_tickets.
    pub chatbot_resolution_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct HourTrend {
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub hour: Timestamp,
    pub tickets: u64,
    pub resolved: u64,
    pub bot_resolved: u64,
    pub critical_urgent: u64,
}

impl Default for HourTrend {
    fn default() -> Self {
        HourTrend {
            hour: Timestamp::UNIX_EPOCH,
            tickets: 0,
            resolved: 0,
            bot_resolved: 0,
            critical_urgent: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PriorityShare {
    pub priority: String,
    pub tickets: u64,
    /// Of all tickets in the window (tickets without a priority make up the rest).
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CategoryShare {
    pub category: String,
    pub tickets: u64,
    pub share: f64,
}

/// An agent's tickets in the window (by `assigned_to`), as `v_agent_performance` counts them.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AgentFigures {
    pub agent_id: String,
    pub name: Option<String>,
    pub tickets: u64,
    pub resolved: u64,
    pub avg_first_response_minutes: Option<f64>,
    pub avg_resolution_minutes: Option<f64>,
    pub csat_avg: Option<f64>,
}

/// `kpis`: the service figures a support lead is measured by.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Kpis {
    pub period: Window,
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub generated_at: Timestamp,
    pub tickets: u64,
    pub resolved: u64,
    pub bot_resolution_rate: f64,
    pub avg_first_response_minutes: Option<f64>,
    pub first_response_by_priority: Vec<PriorityResponse>,
    /// Per priority, as `v_sla_compliance`.
    pub sla_compliance: Vec<SlaCompliance>,
    pub sla_overall: SlaCompliance,
    pub csat: Csat,
    /// Resolved tickets with at least one rating, of all resolved tickets.
    pub feedback_response_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct PriorityResponse {
    pub priority: String,
    pub tickets: u64,
    /// Tickets with a first response.
    pub responded: u64,
    pub avg_first_response_minutes: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct SlaCompliance {
    pub priority: String,
    pub tickets: u64,
    pub first_response_met: u64,
    pub first_response_decided: u64,
    /// met / decided; null while nothing is decided.
    pub first_response_rate: Option<f64>,
    pub resolution_met: u64,
    pub resolution_decided: u64,
    pub resolution_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Csat {
    /// Ratings of the window's tickets.
    pub ratings: u64,
    /// Mean rating, 1 to 5.
    pub average: Option<f64>,
    /// Ratings at or above `csat.satisfied_from`, of all ratings.
    pub satisfied_rate: Option<f64>,
    /// How many ratings of each value, 1 to 5.
    pub distribution: [u64; 5],
}

/// `conversations`: what the transcripts show (tickets with messages).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Conversations {
    pub period: Window,
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub generated_at: Timestamp,
    pub overall: ConversationFigures,
    pub by_channel: Vec<ConversationGroup>,
    pub by_language: Vec<ConversationGroup>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ConversationGroup {
    pub name: String,
    #[serde(flatten)]
    pub figures: ConversationFigures,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ConversationFigures {
    pub conversations: u64,
    pub resolved: u64,
    pub resolution_rate: Option<f64>,
    pub bot_resolved: u64,
    pub bot_resolution_rate: Option<f64>,
    pub ratings: u64,
    pub csat_avg: Option<f64>,
    /// Messages per conversation.
    pub avg_turns: Option<f64>,
    /// First to last message.
    pub avg_duration_minutes: Option<f64>,
}

#[derive(Default)]
struct Totals {
    tickets: u64,
    bot_resolved: u64,
    open: u64,
    critical_urgent: u64,
    resolved: u64,
    first_response: Mean,
}

#[derive(Debug, Default, Clone, Copy)]
struct Mean {
    sum: f64,
    count: u64,
}

impl Mean {
    fn add(&mut self, value: Option<f64>) {
        if let Some(value) = value {
            self.sum += value;
            self.count += 1;
        }
    }

    fn merge(&mut self, other: &Mean) {
        self.sum += other.sum;
        self.count += other.count;
    }

    /// The mean rounded to 2 decimals (minutes, turns, ratings), as the views round.
    fn minutes(&self) -> Option<f64> {
        (self.count > 0).then(|| round_to(self.sum / self.count as f64, 2))
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Ratings {
    count: u64,
    sum: u64,
    satisfied: u64,
    distribution: [u64; 5],
}

impl Ratings {
    fn of(feedback: &[Feedback], satisfied_from: u8) -> Ratings {
        let mut ratings = Ratings::default();
        for f in feedback.iter().filter(|f| (1..=5).contains(&f.rating)) {
            ratings.count += 1;
            ratings.sum += u64::from(f.rating);
            ratings.satisfied += u64::from(f.rating >= satisfied_from);
            ratings.distribution[usize::from(f.rating - 1)] += 1;
        }
        ratings
    }

    fn merge(&mut self, other: &Ratings) {
        self.count += other.count;
        self.sum += other.sum;
        self.satisfied += other.satisfied;
        for (mine, theirs) in self.distribution.iter_mut().zip(other.distribution) {
            *mine += theirs;
        }
    }

    fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| round_to(self.sum as f64 / self.count as f64, 2))
    }

    fn csat(&self) -> Csat {
        Csat {
            ratings: self.count,
            average: self.average(),
            satisfied_rate: (self.count > 0).then(|| rate(self.satisfied, self.count)),
            distribution: self.distribution,
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct PriorityFigures {
    tickets: u64,
    first_response: Mean,
    first_response_met: u64,
    first_response_decided: u64,
    resolution_met: u64,
    resolution_decided: u64,
}

impl PriorityFigures {
    fn add(&mut self, row: &TicketRow, now: Timestamp) {
        self.tickets += 1;
        self.first_response.add(row.first_response_minutes());
        let (met, decided) = sla_outcome(
            row.columns.first_response_at,
            row.columns.sla_first_response_due,
            now,
        );
        self.first_response_met += u64::from(met);
        self.first_response_decided += u64::from(decided);
        let (met, decided) =
            sla_outcome(row.columns.resolved_at, row.columns.sla_resolution_due, now);
        self.resolution_met += u64::from(met);
        self.resolution_decided += u64::from(decided);
    }

    fn merge(&mut self, other: &PriorityFigures) {
        self.tickets += other.tickets;
        self.first_response.merge(&other.first_response);
        self.first_response_met += other.first_response_met;
        self.first_response_decided += other.first_response_decided;
        self.resolution_met += other.resolution_met;
        self.resolution_decided += other.resolution_decided;
    }

    fn sla(&self, priority: &str) -> SlaCompliance {
        let ratio = |met, decided| (decided > 0).then(|| rate(met, decided));
        SlaCompliance {
            priority: priority.to_string(),
            tickets: self.tickets,
            first_response_met: self.first_response_met,
            first_response_decided: self.first_response_decided,
            first_response_rate: ratio(self.first_response_met, self.first_response_decided),
            resolution_met: self.resolution_met,
            resolution_decided: self.resolution_decided,
            resolution_rate: ratio(self.resolution_met, self.resolution_decided),
        }
    }
}

/// (met, decided) for one SLA target: met when done by the due time; decided
/// once done, or when the due time has passed at `now`.
fn sla_outcome(done: Option<Timestamp>, due: Option<Timestamp>, now: Timestamp) -> (bool, bool) {
    match due {
        None => (false, false),
        Some(due) => (
            done.is_some_and(|done| done <= due),
            done.is_some() || due < now,
        ),
    }
}

#[derive(Debug, Default, Clone)]
struct AgentTally {
    tickets: u64,
    resolved: u64,
    first_response: Mean,
    resolution: Mean,
    ratings: Ratings,
}

#[derive(Debug, Default, Clone)]
struct ConversationTally {
    conversations: u64,
    resolved: u64,
    bot_resolved: u64,
    turns: u64,
    duration: Mean,
    ratings: Ratings,
}

impl ConversationTally {
    fn figures(&self) -> ConversationFigures {
        let n = self.conversations;
        ConversationFigures {
            conversations: n,
            resolved: self.resolved,
            resolution_rate: (n > 0).then(|| rate(self.resolved, n)),
            bot_resolved: self.bot_resolved,
            bot_resolution_rate: (n > 0).then(|| rate(self.bot_resolved, n)),
            ratings: self.ratings.count,
            csat_avg: self.ratings.average(),
            avg_turns: (n > 0).then(|| round_to(self.turns as f64 / n as f64, 2)),
            avg_duration_minutes: self.duration.minutes(),
        }
    }
}

/// part / whole rounded to 4 decimals; 0 when whole is 0, as the views coalesce.
fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        round_to(part as f64 / whole as f64, 4)
    }
}

fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

fn floor_to_hour(time: Timestamp) -> Timestamp {
    Timestamp::from_second(time.as_second().div_euclid(3600) * 3600).unwrap_or(time)
}

#[cfg(test)]
mod tests {
    //! Seven tickets whose every figure was worked out by hand (see each assertion).
    use super::*;
    use crate::row::tests::row_from;
    use serde_json::{json, Value};

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn msgs(times: &[&str], roles: &[&str]) -> Value {
        times
            .iter()
            .zip(roles.iter().cycle())
            .map(|(t, r)| json!({"role": r, "content": "…", "timestamp": format!("2026-11-24T{t}:00Z")}))
            .collect()
    }

    fn ticket(
        id: &str,
        created: &str,
        priority: &str,
        fields: Value,
        sla: (&str, &str),
    ) -> TicketRow {
        let mut value = json!({
            "id": id, "created_at": format!("2026-11-24T{created}:00Z"),
            "priority": {"level": priority, "sla": {"first_response": {"due": sla.0}, "resolution": {"due": sla.1}}}
        });
        value
            .as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        row_from(value).unwrap()
    }

    fn feedback(id: &str, rating: u8, at: &str, comment: &str) -> Feedback {
        Feedback {
            ticket_id: id.into(),
            message_position: None,
            rating,
            comment: Some(comment.into()),
            created_at: Some(ts(&format!("2026-11-24T{at}:00Z"))),
        }
    }

    fn aggregate() -> Aggregator {
        aggregate_with(ExportConfig::default())
    }

    /// Now is 12:00; the window is the day so far (12 hourly buckets).
    fn aggregate_with(config: ExportConfig) -> Aggregator {
        let mut t1 = ticket(
            "T1",
            "01:10",
            "critical",
            json!({
                "status": "resolved", "resolved_by": "bot", "first_response_at": "2026-11-24T01:12:00Z",
                "resolved_at": "2026-11-24T01:20:00Z", "channel": "chat", "language": "es",
                "category": {"name": "order"}, "messages": msgs(&["01:10", "01:12", "01:15", "01:20"], &["user", "bot"])
            }),
            ("2026-11-24T01:25:00Z", "2026-11-24T05:10:00Z"),
        );
        t1.activity.feedback = vec![feedback("T1", 5, "01:30", "Genial")];
        let t2 = ticket(
            "T2",
            "02:30",
            "urgent",
            json!({
                "status": "open", "assigned_to": "ana", "first_response_at": "2026-11-24T03:30:00Z",
                "channel": "email", "language": "en", "category": {"name": "refund"}
            }),
            ("2026-11-24T03:00:00Z", "2026-11-24T06:30:00Z"),
        );
        let mut t3 = ticket(
            "T3",
            "02:45",
            "high",
            json!({
                "status": "closed", "assigned_to": "ana", "resolved_by": "ana",
                "first_response_at": "2026-11-24T02:55:00Z", "resolved_at": "2026-11-24T04:45:00Z",
                "channel": "chat", "language": "en", "category": {"name": "refund"},
                "messages": msgs(&["02:45", "02:55", "03:00", "03:05", "03:10", "03:15"], &["user", "agent"])
            }),
            ("2026-11-24T04:45:00Z", "2026-11-25T02:45:00Z"),
        );
        t3.activity.feedback = vec![
            feedback("T3", 2, "05:00", "Slow"),
            feedback("T3", 3, "06:00", ""),
        ];
        let t4 = ticket(
            "T4",
            "09:00",
            "high",
            json!({
                "status": "pending", "assigned_to": "luis", "channel": "web", "language": "es",
                "category": {"name": "account"}
            }),
            ("2026-11-24T11:00:00Z", "2026-11-25T09:00:00Z"),
        );
        let t5 = ticket(
            "T5",
            "11:59",
            "low",
            json!({"status": "open", "channel": "web", "language": "es"}),
            ("2026-11-24T19:59:00Z", "2026-11-27T11:59:00Z"),
        );
        // Resolved by the bot as its transcript shows; resolved without a resolution time.
        let t7 = ticket(
            "T7",
            "06:00",
            "medium",
            json!({
                "status": "resolved", "first_response_at": "2026-11-24T06:00:30Z", "channel": "whatsapp",
                "language": "es", "category": {"name": "order"}, "messages": msgs(&["06:00", "06:01"], &["user", "bot"])
            }),
            ("2026-11-24T06:30:00Z", "2026-11-24T14:00:00Z"),
        );
        let window = Window {
            since: ts("2026-11-24T00:00:00Z"),
            until: ts("2026-11-24T12:00:00Z"),
        };
        let mut aggregator = Aggregator::new(window, window.until, config);
        for row in [t1, t2, t3, t4, t5, t7] {
            aggregator.add(&row);
        }
        aggregator
    }

    #[test]
    fn dashboard_figures() {
        let names = AgentNames::from([("ana".to_string(), "Ana Ruiz".to_string())]);
        let d = aggregate().dashboard(&names);
        assert_eq!(
            d.metrics,
            DashboardMetrics {
                total_tickets: 6,
                chatbot_resolved: 2, // T1 (resolved_by), T7 (transcript)
                pending: 3,          // T2 open, T4 pending, T5 open
                critical_urgent: 2,  // T1, T2
                avg_first_response_minutes: Some(18.13), // (2 + 60 + 10 + 0.5) / 4 = 18.125
                chatbot_resolution_rate: 0.3333,
            }
        );
        assert_eq!(d.trends.len(), 12);
        let hour = |h: usize| {
            let t = &d.trends[h];
            (t.tickets, t.resolved, t.bot_resolved, t.critical_urgent)
        };
        assert_eq!(d.trends[1].hour, ts("2026-11-24T01:00:00Z"));
        assert_eq!(hour(1), (1, 1, 1, 1));
        assert_eq!(hour(2), (2, 1, 0, 1));
        assert_eq!(hour(6), (1, 1, 1, 0));
        assert_eq!(hour(9), (1, 0, 0, 0));
        assert_eq!(hour(11), (1, 0, 0, 0));
        assert_eq!(d.trends.iter().map(|t| t.tickets).sum::<u64>(), 6);

        let priorities: Vec<(&str, u64, f64)> = d
            .priority_distribution
            .iter()
            .map(|p| (p.priority.as_str(), p.tickets, p.share))
            .collect();
        assert_eq!(
            priorities,
            [
                ("critical", 1, 0.1667),
                ("urgent", 1, 0.1667),
                ("high", 2, 0.3333),
                ("medium", 1, 0.1667),
                ("low", 1, 0.1667)
            ]
        );
        let categories: Vec<(&str, u64)> = d
            .top_categories
            .iter()
            .map(|c| (c.category.as_str(), c.tickets))
            .collect();
        assert_eq!(
            categories,
            [("order", 2), ("refund", 2), ("account", 1)],
            "ties by name"
        );

        assert_eq!(
            d.top_agents,
            [
                AgentFigures {
                    agent_id: "ana".into(),
                    name: Some("Ana Ruiz".into()),
                    tickets: 2,
                    resolved: 1,
                    avg_first_response_minutes: Some(35.0), // (60 + 10) / 2
                    avg_resolution_minutes: Some(120.0),    // T3 only
                    csat_avg: Some(2.5),                    // 2 and 3
                },
                AgentFigures {
                    agent_id: "luis".into(),
                    name: None,
                    tickets: 1,
                    resolved: 0,
                    avg_first_response_minutes: None,
                    avg_resolution_minutes: None,
                    csat_avg: None,
                },
            ]
        );
        let recent: Vec<(&str, u8)> = d
            .recent_feedback
            .iter()
            .map(|f| (f.ticket_id.as_str(), f.rating))
            .collect();
        assert_eq!(recent, [("T3", 3), ("T3", 2), ("T1", 5)], "newest first");
    }

    #[test]
    fn kpi_figures() {
        let k = aggregate().kpis();
        assert_eq!((k.tickets, k.resolved), (6, 3));
        assert_eq!(k.bot_resolution_rate, 0.3333);
        let responses: Vec<(u64, u64, Option<f64>)> = k
            .first_response_by_priority
            .iter()
            .map(|p| (p.tickets, p.responded, p.avg_first_response_minutes))
            .collect();
        assert_eq!(
            responses,
            [
                (1, 1, Some(2.0)),
                (1, 1, Some(60.0)),
                (2, 1, Some(10.0)),
                (1, 1, Some(0.5)),
                (1, 0, None)
            ]
        );
        type Outcomes = (u64, u64, Option<f64>, u64, u64, Option<f64>);
        let sla: Vec<Outcomes> = k
            .sla_compliance
            .iter()
            .map(|s| {
                (
                    s.first_response_met,
                    s.first_response_decided,
                    s.first_response_rate,
                    s.resolution_met,
                    s.resolution_decided,
                    s.resolution_rate,
                )
            })
            .collect();
        assert_eq!(
            sla,
            [
                (1, 1, Some(1.0), 1, 1, Some(1.0)), // critical T1: both in time
                (0, 1, Some(0.0), 0, 1, Some(0.0)), // urgent T2: answered late; unresolved past due
                (1, 2, Some(0.5), 1, 1, Some(1.0)), // high: T4 unanswered past due; T4 resolution not yet due
                (1, 1, Some(1.0), 0, 0, None),      // medium T7: no resolution time, not yet due
                (0, 0, None, 0, 0, None),           // low T5: nothing due yet
            ]
        );
        let all = &k.sla_overall;
        assert_eq!((all.priority.as_str(), all.tickets), ("all", 6));
        assert_eq!(
            (
                all.first_response_met,
                all.first_response_decided,
                all.first_response_rate
            ),
            (3, 5, Some(0.6))
        );
        assert_eq!(
            (
                all.resolution_met,
                all.resolution_decided,
                all.resolution_rate
            ),
            (2, 3, Some(0.6667))
        );
        assert_eq!(
            k.csat,
            Csat {
                ratings: 3,
                average: Some(3.33),
                satisfied_rate: Some(0.3333),
                distribution: [0, 1, 1, 0, 1]
            }
        );
        assert_eq!(
            k.feedback_response_rate,
            Some(0.6667),
            "T1 and T3 of T1, T3, T7"
        );
    }

    #[test]
    fn conversation_figures() {
        let c = aggregate().conversations();
        let figures = |conversations,
                       resolved,
                       resolution_rate,
                       bot_resolved,
                       bot_rate,
                       ratings,
                       csat,
                       turns,
                       minutes| {
            ConversationFigures {
                conversations,
                resolved,
                resolution_rate: Some(resolution_rate),
                bot_resolved,
                bot_resolution_rate: Some(bot_rate),
                ratings,
                csat_avg: csat,
                avg_turns: Some(turns),
                avg_duration_minutes: Some(minutes),
            }
        };
        // T1 (chat, es, 4 turns, 10 min), T3 (chat, en, 6 turns, 30 min), T7 (whatsapp, es, 2 turns, 1 min).
        assert_eq!(
            c.overall,
            figures(3, 3, 1.0, 2, 0.6667, 3, Some(3.33), 4.0, 13.67)
        );
        let group = |g: &ConversationGroup| (g.name.clone(), g.figures.clone());
        assert_eq!(
            c.by_channel.iter().map(group).collect::<Vec<_>>(),
            [
                (
                    "chat".to_string(),
                    figures(2, 2, 1.0, 1, 0.5, 3, Some(3.33), 5.0, 20.0)
                ),
                (
                    "whatsapp".to_string(),
                    figures(1, 1, 1.0, 1, 1.0, 0, None, 2.0, 1.0)
                ),
            ]
        );
        assert_eq!(
            c.by_language.iter().map(group).collect::<Vec<_>>(),
            [
                (
                    "es".to_string(),
                    figures(2, 2, 1.0, 2, 1.0, 1, Some(5.0), 3.0, 5.5)
                ),
                (
                    "en".to_string(),
                    figures(1, 1, 1.0, 0, 0.0, 2, Some(2.5), 6.0, 30.0)
                ),
            ]
        );
    }

    #[test]
    fn an_empty_window_gives_zeros_not_errors() {
        let window = Window {
            since: ts("2026-11-24T00:00:00Z"),
            until: ts("2026-11-24T01:30:00Z"),
        };
        let aggregator = Aggregator::new(window, window.until, ExportConfig::default());
        let d = aggregator.dashboard(&AgentNames::new());
        assert_eq!(d.metrics.total_tickets, 0);
        assert_eq!(d.metrics.chatbot_resolution_rate, 0.0);
        assert_eq!(d.metrics.avg_first_response_minutes, None);
        assert_eq!(d.trends.len(), 2, "a partial last hour has its bucket");
        let k = aggregator.kpis();
        assert_eq!((k.feedback_response_rate, k.csat.average), (None, None));
        assert_eq!(aggregator.conversations().overall.avg_turns, None);
    }

    #[test]
    fn lists_are_cut_to_the_configured_length() {
        let mut config = ExportConfig::default();
        config.dashboard.top_categories = 1;
        config.dashboard.top_agents = 1;
        config.dashboard.recent_feedback = 2;
        let d = aggregate_with(config).dashboard(&AgentNames::new());
        assert_eq!(d.top_categories[0].category, "order");
        assert_eq!(d.top_categories.len(), 1);
        assert_eq!(d.top_agents.len(), 1);
        let recent: Vec<u8> = d.recent_feedback.iter().map(|f| f.rating).collect();
        assert_eq!(recent, [3, 2], "the two newest");
    }
}
