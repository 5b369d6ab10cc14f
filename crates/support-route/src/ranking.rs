//! Agent ranking: the available agents of a queue (skills, language, load,
//! shift), scored and explained.

use std::collections::HashMap;
use std::sync::OnceLock;

use anyhow::bail;

use jiff::civil::DateTime;
use jiff::Timestamp;
use support_agents::{Agent, Roster};
use support_core::{round3, text, Context, Decimal};

use crate::config::Weights;
use crate::rules::Facts;
use crate::{AgentCandidate, Router};

/// An agent with what does not depend on the ticket worked out once: load
/// and hours are fixed for the run, so are these parts of score and reasons.
pub(crate) struct Profile {
    pub(crate) agent: Agent,
    /// The free-capacity and satisfaction parts of the score.
    pub(crate) base_score: f64,
    pub(crate) capacity_reason: String,
    pub(crate) satisfaction_reason: String,
    /// Per shift, e.g. "09:00-17:00 Europe/Madrid".
    pub(crate) shift_labels: Vec<String>,
    /// The agent's local time and shift at the first `now` asked about: a
    /// run asks about one `now` for every ticket.
    shift_now: OnceLock<(Timestamp, ShiftAt)>,
}

/// The agent's local time, and the shift covering it if any.
type ShiftAt = (DateTime, Option<usize>);

impl Profile {
    pub(crate) fn new(agent: Agent, weights: Weights) -> Profile {
        // A full agent is never available; the guard only keeps the score a number.
        let free = if agent.capacity == 0 {
            0.0
        } else {
            f64::from(agent.capacity.saturating_sub(agent.load)) / f64::from(agent.capacity)
        };
        // An agent without a rating counts as the middle of the 1-5 scale.
        let satisfaction = agent.satisfaction.map_or(0.5, |s| (s.get() - 1.0) / 4.0);
        let satisfaction_reason = match agent.satisfaction {
            Some(s) => text!("satisfaction {} of 5", Decimal(s.get())),
            None => "no satisfaction score (counted as 3 of 5)".to_string(),
        };
        let zone = &agent.hours.time_zone.name;
        Profile {
            base_score: (weights.capacity * free + weights.satisfaction * satisfaction)
                / weights.total(),
            capacity_reason: text!(
                "free capacity {} of {}",
                agent.capacity.saturating_sub(agent.load),
                agent.capacity
            ),
            satisfaction_reason,
            shift_labels: agent
                .hours
                .shifts
                .iter()
                .map(|s| text!("{}-{} {zone}", s.start, s.end))
                .collect(),
            agent,
            shift_now: OnceLock::new(),
        }
    }

    /// [`support_agents::WorkingHours::shift_at`], worked out once for the
    /// `now` of the run rather than for every ticket.
    fn shift_at(&self, now: Timestamp) -> ShiftAt {
        let hours = &self.agent.hours;
        match *self.shift_now.get_or_init(|| (now, hours.shift_at(now))) {
            (at, shift) if at == now => shift,
            _ => hours.shift_at(now),
        }
    }
}

/// Whether `agent` serves `queue`: named in the agent's `queues`, or, with
/// no `queues` list, through one of the queue's skills.
pub(crate) fn serves(agent: &Agent, queue: &str, queue_skills: &[String]) -> bool {
    if agent.queues.is_empty() {
        agent.skills.iter().any(|s| queue_skills.contains(s))
    } else {
        agent.queues.iter().any(|q| q == queue)
    }
}

/// An agent who can take the ticket now, with its score.
pub(crate) struct Available<'r> {
    pub(crate) profile: &'r Profile,
    pub(crate) score: f64,
    pub(crate) local: jiff::civil::DateTime,
    /// Index of the shift the agent is on.
    pub(crate) shift: usize,
}

pub(crate) const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl Available<'_> {
    pub(crate) fn candidate(&self, wanted: &[String], language: &str) -> AgentCandidate {
        let profile = self.profile;
        let agent = &profile.agent;
        let (has, lacks): (Vec<&str>, Vec<&str>) = wanted
            .iter()
            .map(String::as_str)
            .partition(|w| agent.skills.iter().any(|s| s == w));
        let mut skills = text!("skills {} of {} wanted (", has.len(), wanted.len());
        if !has.is_empty() {
            skills.push_str("has ");
            skills.push_str(&has.join(", "));
        }
        if !lacks.is_empty() {
            skills.push_str(if has.is_empty() { "lacks " } else { "; lacks " });
            skills.push_str(&lacks.join(", "));
        }
        skills.push(')');
        let local = self.local;
        let weekday = WEEKDAYS[local.weekday().to_monday_zero_offset() as usize];
        AgentCandidate {
            id: agent.id.clone(),
            name: agent.name.clone(),
            score: self.score,
            reasons: vec![
                skills,
                profile.capacity_reason.clone(),
                profile.satisfaction_reason.clone(),
                text!(
                    "speaks {language}; on shift {}, now {weekday} {:02}:{:02} local",
                    profile.shift_labels[self.shift],
                    local.hour(),
                    local.minute()
                ),
            ],
        }
    }
}

/// Why agents were not candidates, counted by the first check each failed.
#[derive(Default)]
pub(crate) struct Rejections {
    pub(crate) queue: usize,
    pub(crate) language: usize,
    pub(crate) capacity: usize,
    pub(crate) shift: usize,
}

impl Rejections {
    pub(crate) fn describe(&self, queue: &str, language: &str) -> String {
        let parts = [
            (self.queue, text!("not serving {queue}")),
            (self.language, text!("not speaking {language}")),
            (self.capacity, "at capacity".to_string()),
            (self.shift, "off shift".to_string()),
        ];
        parts
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| text!("{n} {what}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every queue an agent lists must be one the configuration can route to:
/// a misspelt queue would silently never get tickets.
pub(crate) fn check_agent_queues(
    roster: &Roster,
    queue_skills: &HashMap<String, Vec<String>>,
) -> anyhow::Result<()> {
    for agent in &roster.agents {
        if let Some(unknown) = agent.queues.iter().find(|q| !queue_skills.contains_key(*q)) {
            let mut queues: Vec<&str> = queue_skills.keys().map(String::as_str).collect();
            queues.sort_unstable();
            bail!(
                "{}: agent `{}` serves unknown queue `{unknown}`; the configuration routes to: {}",
                roster.origin,
                agent.id,
                queues.join(", ")
            );
        }
    }
    Ok(())
}

impl Router {
    /// The available agents of `queue`, best first, and the reason for the choice.
    pub(crate) fn rank_agents(
        &self,
        profiles: &[Profile],
        queue: &str,
        facts: &Facts<'_>,
        ctx: &Context,
    ) -> (Vec<AgentCandidate>, String) {
        let queue_skills = &self.queue_skills[queue];
        let wanted = self.wanted_skills(queue_skills, facts);
        let language = facts.language.code.as_str();
        let skill_weight = self.weights.skill / self.weights.total();
        let mut rejected = Rejections::default();
        let mut available: Vec<Available<'_>> = Vec::new();
        for profile in profiles {
            let agent = &profile.agent;
            if !serves(agent, queue, queue_skills) {
                rejected.queue += 1;
            } else if !agent.languages.iter().any(|l| l == language) {
                rejected.language += 1;
            } else if agent.load >= agent.capacity {
                rejected.capacity += 1;
            } else {
                let (local, shift) = profile.shift_at(ctx.now);
                let Some(shift) = shift else {
                    rejected.shift += 1;
                    continue;
                };
                let skill = wanted.iter().filter(|w| agent.skills.contains(w)).count() as f64
                    / wanted.len() as f64;
                available.push(Available {
                    profile,
                    // Rounded before ranking, so agents that look tied are tied (then by id).
                    score: round3(profile.base_score + skill_weight * skill),
                    local,
                    shift,
                });
            }
        }
        if available.is_empty() {
            return (
                Vec::new(),
                text!(
                    "queue only: none of the {} agents fits ({})",
                    profiles.len(),
                    rejected.describe(queue, language)
                ),
            );
        }
        available.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.profile.agent.id.cmp(&b.profile.agent.id))
        });
        let reason = text!(
            "agent {}: best of {} available (score {})",
            available[0].profile.agent.id,
            available.len(),
            Decimal(available[0].score)
        );
        let candidates = available
            .iter()
            .take(self.candidates)
            .map(|a| a.candidate(&wanted, language))
            .collect();
        (candidates, reason)
    }

    /// The skills to look for: the ticket's category and tags that are
    /// skills somewhere, else the queue's own skills.
    pub(crate) fn wanted_skills(&self, queue_skills: &[String], facts: &Facts<'_>) -> Vec<String> {
        let mut wanted: Vec<String> = Vec::new();
        for topic in facts.category.iter().chain(&facts.tags) {
            let topic = topic.value.to_lowercase();
            if self.known_skills.contains(&topic) && !wanted.contains(&topic) {
                wanted.push(topic);
            }
        }
        if wanted.is_empty() {
            wanted = queue_skills.to_vec();
        }
        wanted
    }
}
