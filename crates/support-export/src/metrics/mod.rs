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

use crate::config::ExportConfig;
use crate::filter::Window;
use crate::row::{Feedback, TicketRow};

mod conversations;
mod dashboard;
mod kpis;
mod tally;

pub use conversations::{ConversationFigures, ConversationGroup, Conversations};
pub use dashboard::{
    AgentFigures, CategoryShare, Dashboard, DashboardMetrics, HourTrend, PriorityShare,
};
pub use kpis::{Csat, Kpis, PriorityResponse, SlaCompliance};
use tally::*;

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

fn floor_to_hour(time: Timestamp) -> Timestamp {
    Timestamp::from_second(time.as_second().div_euclid(3600) * 3600).unwrap_or(time)
}

#[cfg(test)]
mod tests;
