//! Routing: a queue chosen by ordered rules over the ticket and earlier
//! tools' results (category, tags, priority, sentiment language), then, with
//! an agents file, the best available agent of that queue.
//!
//! The decision is a plain function of the ticket, the configuration, the
//! agents file and the run's clock (`ctx.now`, for working hours).

use std::collections::{BTreeMap, HashMap, HashSet};
use support_core::results::category::EarlierCategory;
use support_core::results::priority::EarlierPriority;
pub use support_core::results::route::{AgentCandidate, Route};
use support_core::results::sentiment::EarlierSentiment;
use support_core::results::tags::EarlierTags;

use anyhow::{bail, ensure};
use serde::Deserialize;
use support_core::{round3, Context, RecordError, Ticket, Tool};
use support_text::{detect_language, tokenize, Language};

use support_agents::{normalize_language, Agent, Roster};

pub const DEFAULT_CONFIG: &str = include_str!("../defaults/route.yaml");
/// [`DEFAULT_CONFIG`] as JSON, converted by `build.rs`: what `Default` parses,
/// because JSON parses many times faster than YAML and this runs at every start.
const DEFAULT_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/route.json"));

/// The configuration; `defaults/route.yaml` explains every field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    pub fallback_language: Language,
    /// Ordered; the first rule that matches chooses the queue.
    pub rules: Vec<Rule>,
    pub default_queue: String,
    pub default_confidence: f64,
    /// Skills each queue needs; a queue not listed needs a skill of its own name.
    pub queue_skills: BTreeMap<String, Vec<String>>,
    pub agents: AgentSettings,
}

impl Default for RouteConfig {
    fn default() -> Self {
        support_core::config::embedded_json(DEFAULT_CONFIG_JSON)
    }
}

/// A routing rule: its queue, and conditions on the ticket.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub queue: String,
    /// Whether every listed condition must hold (`all`) or one is enough (`any`).
    #[serde(default, rename = "match")]
    pub combine: Combine,
    #[serde(default)]
    pub category: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub language: Vec<String>,
    #[serde(default)]
    pub tier: Vec<String>,
    #[serde(default)]
    pub priority: Vec<String>,
    #[serde(default)]
    pub channel: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    #[default]
    All,
    Any,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSettings {
    /// How many ranked candidates the output lists.
    pub candidates: usize,
    pub weights: Weights,
}

/// Weights of the agent score's parts; only their ratios matter.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub skill: f64,
    pub capacity: f64,
    pub satisfaction: f64,
}

/// A value from the ticket or an earlier tool, with how sure it is.
#[derive(Clone, Copy)]
struct Weighted<'a> {
    value: &'a str,
    confidence: f64,
}

impl<'a> Weighted<'a> {
    fn new(value: &'a str, confidence: Option<f64>) -> Self {
        // A result without a confidence counts as certain.
        Weighted {
            value: value.trim(),
            confidence: confidence.map_or(1.0, |c| c.clamp(0.0, 1.0)),
        }
    }
}

struct TicketLanguage {
    code: String,
    /// Where the language came from, for the reasons.
    source: String,
    confidence: f64,
    /// Read from the text (which may have been cut), not given.
    detected: bool,
}

/// Everything the rules and the agent ranking read of one ticket.
struct Facts<'a> {
    category: Option<Weighted<'a>>,
    tags: Vec<Weighted<'a>>,
    priority: Option<Weighted<'a>>,
    tier: Option<String>,
    channel: Option<String>,
    language: TicketLanguage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Category,
    Tags,
    Language,
    Tier,
    Priority,
    Channel,
}

struct Condition {
    field: Field,
    /// Accepted values, lower-cased.
    values: Vec<String>,
}

/// Why a condition holds, and how sure that is.
struct Evidence {
    text: String,
    confidence: f64,
}

struct CompiledRule {
    queue: String,
    combine: Combine,
    conditions: Vec<Condition>,
}

/// The `support-route` tool.
pub struct Router {
    rules: Vec<CompiledRule>,
    default_queue: String,
    default_confidence: f64,
    fallback_language: Language,
    /// Skills of every queue a rule or the default can choose.
    queue_skills: HashMap<String, Vec<String>>,
    /// Skills of the queues and of the agents: a ticket topic that is one of
    /// these is a skill to look for in agents.
    known_skills: HashSet<String>,
    /// The agents file, when one was given.
    profiles: Option<Vec<Profile>>,
    candidates: usize,
    weights: Weights,
}

fn lowercase_all(values: &[String]) -> Vec<String> {
    values.iter().map(|v| v.trim().to_lowercase()).collect()
}

impl Router {
    /// Checks the configuration (and the agents against it) and compiles the rules.
    pub fn new(config: RouteConfig, roster: Option<Roster>) -> anyhow::Result<Router> {
        ensure!(
            (0.0..=1.0).contains(&config.default_confidence),
            "configuration: default_confidence {} is not between 0 and 1",
            config.default_confidence
        );
        let w = config.agents.weights;
        ensure!(
            [w.skill, w.capacity, w.satisfaction]
                .iter()
                .all(|x| *x >= 0.0)
                && w.total() > 0.0,
            "configuration: agents.weights must be zero or more, and not all zero"
        );
        ensure!(
            config.agents.candidates >= 1,
            "configuration: agents.candidates must be at least 1"
        );

        let rules = config
            .rules
            .iter()
            .enumerate()
            .map(|(i, rule)| CompiledRule::compile(i, rule))
            .collect::<anyhow::Result<Vec<_>>>()?;

        if let Some((queue, _)) = config
            .queue_skills
            .iter()
            .find(|(_, skills)| skills.is_empty())
        {
            bail!("configuration: queue_skills.{queue} is empty; list at least one skill, or remove it to use the queue's own name");
        }
        let configured: HashMap<String, Vec<String>> = config
            .queue_skills
            .iter()
            .map(|(queue, skills)| (queue.trim().to_lowercase(), lowercase_all(skills)))
            .collect();
        let default_queue = config.default_queue.trim().to_lowercase();
        let queue_skills: HashMap<String, Vec<String>> = rules
            .iter()
            .map(|r| &r.queue)
            .chain([&default_queue])
            .map(|queue| {
                let skills = configured
                    .get(queue)
                    .cloned()
                    .unwrap_or_else(|| vec![queue.clone()]);
                (queue.clone(), skills)
            })
            .collect();

        let mut known_skills: HashSet<String> = queue_skills.values().flatten().cloned().collect();
        if let Some(roster) = &roster {
            check_agent_queues(roster, &queue_skills)?;
            known_skills.extend(roster.agents.iter().flat_map(|a| a.skills.iter().cloned()));
        }
        let profiles = roster.map(|r| r.agents.into_iter().map(|a| Profile::new(a, w)).collect());

        Ok(Router {
            rules,
            default_queue,
            default_confidence: config.default_confidence,
            fallback_language: config.fallback_language,
            queue_skills,
            known_skills,
            profiles,
            candidates: config.agents.candidates,
            weights: w,
        })
    }

    /// The route of one ticket at time `ctx.now`.
    pub fn route(&self, ticket: &Ticket<'_>, ctx: &Context) -> Route {
        let facts = self.facts(ticket);
        let language = &facts.language;
        let mut reasons = vec![format!("language {} {}", language.code, language.source)];
        if language.detected {
            reasons.extend(ticket.text_cut().map(|cut| cut.to_string()));
        }

        let matched = self
            .rules
            .iter()
            .enumerate()
            .find_map(|(i, rule)| rule.evaluate(&facts).map(|evidence| (i, rule, evidence)));
        let (queue, rule, confidence) = match matched {
            Some((i, rule, evidence)) => {
                let confidence = match rule.combine {
                    Combine::All => evidence.iter().map(|e| e.confidence).fold(1.0, f64::min),
                    Combine::Any => evidence.iter().map(|e| e.confidence).fold(0.0, f64::max),
                };
                let why: Vec<String> = evidence
                    .iter()
                    .map(|e| format!("{} ({})", e.text, round3(e.confidence)))
                    .collect();
                reasons.push(format!(
                    "rules[{i}] -> queue {}: {}",
                    rule.queue,
                    why.join(", ")
                ));
                (rule.queue.as_str(), Some(i), confidence)
            }
            None => {
                reasons.push(format!(
                    "no rule matched -> default queue {}",
                    self.default_queue
                ));
                (self.default_queue.as_str(), None, self.default_confidence)
            }
        };

        let (agent, candidates) = match &self.profiles {
            None => {
                reasons.push("queue only: no agents file given (--agents)".to_string());
                (None, Vec::new())
            }
            Some(profiles) => {
                let (candidates, reason) = self.rank_agents(profiles, queue, &facts, ctx);
                reasons.push(reason);
                (candidates.first().map(|c| c.id.clone()), candidates)
            }
        };

        Route {
            queue: queue.to_string(),
            rule,
            language: facts.language.code,
            agent,
            candidates,
            confidence: round3(confidence),
            reasons,
        }
    }

    fn facts<'a>(&self, ticket: &Ticket<'a>) -> Facts<'a> {
        let tags = ticket
            .reading::<EarlierTags>()
            .map(|view| {
                view.tags
                    .into_iter()
                    .map(|t| Weighted::new(t.name, t.confidence))
                    .collect()
            })
            .unwrap_or_default();
        Facts {
            category: ticket
                .reading::<EarlierCategory>()
                .and_then(|c| Some(Weighted::new(c.name?, c.confidence))),
            tags,
            priority: ticket
                .reading::<EarlierPriority>()
                .and_then(|p| Some(Weighted::new(p.level?, p.confidence))),
            tier: ticket.tier(),
            channel: ticket.channel(),
            language: self.language(ticket),
        }
    }

    /// The ticket's `language`, else the language sentiment detected
    /// (`sentiment.detected_language` for one without lexicons, else
    /// `sentiment.language`), else detected from the text.
    fn language(&self, ticket: &Ticket<'_>) -> TicketLanguage {
        let given = |code: &str, source: &str| TicketLanguage {
            code: normalize_language(code),
            source: format!("from {source}"),
            confidence: 1.0,
            detected: false,
        };
        if let Some(code) = ticket.language.as_deref().filter(|c| !c.trim().is_empty()) {
            return given(code, "the ticket's `language`");
        }
        let sentiment = ticket.reading::<EarlierSentiment>();
        if let Some(code) = sentiment
            .and_then(|s| s.detected_language)
            .filter(|c| !c.trim().is_empty())
        {
            return given(code, "sentiment.detected_language");
        }
        if let Some(code) = sentiment
            .and_then(|s| s.language)
            .filter(|c| !c.trim().is_empty())
        {
            return given(code, "sentiment.language");
        }
        let texts: Vec<&str> = ticket.customer_texts().map(|t| t.text).collect();
        let tokens: Vec<_> = texts.iter().flat_map(|t| tokenize(t)).collect();
        let detection = detect_language(&tokens, &texts.join("\n"), self.fallback_language);
        if let Some(other) = detection.other {
            return TicketLanguage {
                code: other.code.to_string(),
                source: format!(
                    "detected from the text ({}), neither es nor en",
                    round3(other.confidence)
                ),
                confidence: other.confidence,
                detected: true,
            };
        }
        TicketLanguage {
            code: detection.language.code().to_string(),
            source: format!("detected from the text ({})", round3(detection.confidence)),
            confidence: detection.confidence,
            detected: true,
        }
    }

    /// The available agents of `queue`, best first, and the reason for the choice.
    fn rank_agents(
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
                let (local, shift) = agent.hours.shift_at(ctx.now);
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
                format!(
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
        let reason = format!(
            "agent {}: best of {} available (score {})",
            available[0].profile.agent.id,
            available.len(),
            available[0].score
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
    fn wanted_skills(&self, queue_skills: &[String], facts: &Facts<'_>) -> Vec<String> {
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

impl Weights {
    fn total(self) -> f64 {
        self.skill + self.capacity + self.satisfaction
    }
}

/// An agent with what does not depend on the ticket worked out once: load
/// and hours are fixed for the run, so are these parts of score and reasons.
struct Profile {
    agent: Agent,
    /// The free-capacity and satisfaction parts of the score.
    base_score: f64,
    capacity_reason: String,
    satisfaction_reason: String,
    /// Per shift, e.g. "09:00-17:00 Europe/Madrid".
    shift_labels: Vec<String>,
}

impl Profile {
    fn new(agent: Agent, weights: Weights) -> Profile {
        // A full agent is never available; the guard only keeps the score a number.
        let free = if agent.capacity == 0 {
            0.0
        } else {
            f64::from(agent.capacity.saturating_sub(agent.load)) / f64::from(agent.capacity)
        };
        // An agent without a rating counts as the middle of the 1-5 scale.
        let satisfaction = agent.satisfaction.map_or(0.5, |s| (s.get() - 1.0) / 4.0);
        let satisfaction_reason = match agent.satisfaction {
            Some(s) => format!("satisfaction {} of 5", s.get()),
            None => "no satisfaction score (counted as 3 of 5)".to_string(),
        };
        let zone = &agent.hours.time_zone.name;
        Profile {
            base_score: (weights.capacity * free + weights.satisfaction * satisfaction)
                / weights.total(),
            capacity_reason: format!(
                "free capacity {} of {}",
                agent.capacity.saturating_sub(agent.load),
                agent.capacity
            ),
            satisfaction_reason,
            shift_labels: agent
                .hours
                .shifts
                .iter()
                .map(|s| format!("{}-{} {zone}", s.start, s.end))
                .collect(),
            agent,
        }
    }
}

/// Whether `agent` serves `queue`: named in the agent's `queues`, or, with
/// no `queues` list, through one of the queue's skills.
fn serves(agent: &Agent, queue: &str, queue_skills: &[String]) -> bool {
    if agent.queues.is_empty() {
        agent.skills.iter().any(|s| queue_skills.contains(s))
    } else {
        agent.queues.iter().any(|q| q == queue)
    }
}

/// An agent who can take the ticket now, with its score.
struct Available<'r> {
    profile: &'r Profile,
    score: f64,
    local: jiff::civil::DateTime,
    /// Index of the shift the agent is on.
    shift: usize,
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

impl Available<'_> {
    fn candidate(&self, wanted: &[String], language: &str) -> AgentCandidate {
        let profile = self.profile;
        let agent = &profile.agent;
        let (has, lacks): (Vec<&str>, Vec<&str>) = wanted
            .iter()
            .map(String::as_str)
            .partition(|w| agent.skills.iter().any(|s| s == w));
        let mut skills = format!("skills {} of {} wanted (", has.len(), wanted.len());
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
                format!(
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
struct Rejections {
    queue: usize,
    language: usize,
    capacity: usize,
    shift: usize,
}

impl Rejections {
    fn describe(&self, queue: &str, language: &str) -> String {
        let parts = [
            (self.queue, format!("not serving {queue}")),
            (self.language, format!("not speaking {language}")),
            (self.capacity, "at capacity".to_string()),
            (self.shift, "off shift".to_string()),
        ];
        parts
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Every queue an agent lists must be one the configuration can route to:
/// a misspelt queue would silently never get tickets.
fn check_agent_queues(
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

impl CompiledRule {
    /// `rules[index]` of the configuration, with its values lower-cased once.
    fn compile(index: usize, rule: &Rule) -> anyhow::Result<CompiledRule> {
        let conditions: Vec<Condition> = [
            (Field::Category, &rule.category),
            (Field::Tags, &rule.tags),
            (Field::Language, &rule.language),
            (Field::Tier, &rule.tier),
            (Field::Priority, &rule.priority),
            (Field::Channel, &rule.channel),
        ]
        .into_iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(field, values)| Condition {
            field,
            values: if field == Field::Language {
                values.iter().map(|v| normalize_language(v)).collect()
            } else {
                lowercase_all(values)
            },
        })
        .collect();
        ensure!(
            !conditions.is_empty(),
            "configuration: rules[{index}] (queue {}) has no condition; use `default_queue` for a catch-all",
            rule.queue
        );
        Ok(CompiledRule {
            queue: rule.queue.trim().to_lowercase(),
            combine: rule.combine,
            conditions,
        })
    }

    /// The evidence for each condition that holds, when the rule matches.
    fn evaluate(&self, facts: &Facts<'_>) -> Option<Vec<Evidence>> {
        match self.combine {
            Combine::All => self.conditions.iter().map(|c| c.check(facts)).collect(),
            Combine::Any => {
                let evidence: Vec<Evidence> = self
                    .conditions
                    .iter()
                    .filter_map(|c| c.check(facts))
                    .collect();
                (!evidence.is_empty()).then_some(evidence)
            }
        }
    }
}

impl Condition {
    fn accepts(&self, value: &str) -> bool {
        self.values.iter().any(|v| v.eq_ignore_ascii_case(value))
    }

    fn check(&self, facts: &Facts<'_>) -> Option<Evidence> {
        let certain = |text: String| Evidence {
            text,
            confidence: 1.0,
        };
        match self.field {
            Field::Category => facts
                .category
                .filter(|c| self.accepts(c.value))
                .map(|c| Evidence {
                    text: format!("category is {}", c.value),
                    confidence: c.confidence,
                }),
            Field::Tags => facts
                .tags
                .iter()
                .filter(|t| self.accepts(t.value))
                .max_by(|a, b| a.confidence.total_cmp(&b.confidence))
                .map(|t| Evidence {
                    text: format!("tag {}", t.value),
                    confidence: t.confidence,
                }),
            Field::Priority => facts
                .priority
                .filter(|p| self.accepts(p.value))
                .map(|p| Evidence {
                    text: format!("priority is {}", p.value),
                    confidence: p.confidence,
                }),
            Field::Language => self.accepts(&facts.language.code).then(|| Evidence {
                text: format!("language is {}", facts.language.code),
                confidence: facts.language.confidence,
            }),
            Field::Tier => facts
                .tier
                .as_deref()
                .filter(|t| self.accepts(t))
                .map(|t| certain(format!("customer.tier is {t}"))),
            Field::Channel => facts
                .channel
                .as_deref()
                .filter(|c| self.accepts(c))
                .map(|c| certain(format!("channel is {c}"))),
        }
    }
}

impl Tool for Router {
    type Output = Route;

    fn decide(&self, ticket: &Ticket<'_>, ctx: &Context) -> Result<Route, RecordError> {
        Ok(self.route(ticket, ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;
    use serde_json::{json, Map, Value};
    use std::path::Path;
    use support_agents::AgentsFormat;

    const AGENTS: &str = r#"
agents:
  - {id: ana, name: Ana, skills: [billing, refund], languages: [es, en], capacity: 5, load: 1, satisfaction: 4.5,
     hours: {time_zone: Europe/Madrid, shifts: [{days: mon-fri, start: "09:00", end: "17:00"}]}}
  - {id: bob, name: Bob, skills: [billing], languages: [en], capacity: 5, load: 1, satisfaction: 4.5,
     hours: {time_zone: America/New_York, shifts: [{days: mon-fri, start: "09:00", end: "17:00"}]}}
  - {id: cruz, name: Cruz, skills: [billing, refund], languages: [es], capacity: 3, load: 3, satisfaction: 5,
     hours: {time_zone: Europe/Madrid, shifts: [{days: mon-fri, start: "09:00", end: "17:00"}]}}
  - {id: dana, name: Dana, skills: [billing], languages: [es-ES], capacity: 10, load: 1, satisfaction: 3,
     hours: {time_zone: Europe/Madrid, shifts: [{days: mon-fri, start: "09:00", end: "17:00"}]}}
"#;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    fn at(now: &str) -> Context {
        Context {
            now: now.parse::<Timestamp>().unwrap(),
        }
    }

    fn route(router: &Router, ticket: Value, now: &str) -> Route {
        let map = object(ticket);
        router.route(&Ticket::from_map(&map).unwrap(), &at(now))
    }

    fn roster(yaml: &str) -> Roster {
        Roster::parse("agents.yaml", yaml, AgentsFormat::Yaml).unwrap()
    }

    fn with_agents(yaml: &str) -> Router {
        Router::new(RouteConfig::default(), Some(roster(yaml))).unwrap()
    }

    fn queue_only() -> Router {
        Router::new(RouteConfig::default(), None).unwrap()
    }

    fn ids(route: &Route) -> Vec<&str> {
        route.candidates.iter().map(|c| c.id.as_str()).collect()
    }

    /// A Spanish billing ticket as support-tags leaves it.
    fn spanish_billing() -> Value {
        json!({
            "subject": "Cobro duplicado",
            "description": "Me habéis cobrado dos veces la factura de octubre",
            "tags": {"tags": [{"name": "billing", "confidence": 0.9}, {"name": "refund", "confidence": 0.8}]}
        })
    }

    fn english_billing() -> Value {
        json!({
            "subject": "Charged twice",
            "description": "I was charged twice for my invoice, please help",
            "tags": {"tags": [{"name": "billing", "confidence": 0.9}]}
        })
    }

    // 2026-11-24 is a Tuesday; Madrid is UTC+1 and New York UTC-5 then.
    const TUESDAY_MADRID_10: &str = "2026-11-24T09:00:00Z";

    #[test]
    fn embedded_config_parses_and_compiles() {
        let config = RouteConfig::default();
        assert_eq!(config.default_queue, "general");
        let router = Router::new(config, None).unwrap();
        for queue in [
            "billing",
            "technical",
            "accounts",
            "shipping",
            "retention",
            "vip",
            "spanish-support",
            "general",
        ] {
            assert!(router.queue_skills.contains_key(queue), "{queue}");
        }
    }

    #[test]
    fn example_agents_file_loads_and_routes() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/agents.yaml");
        let roster = Roster::load(&path).unwrap();
        assert!(roster.agents.len() >= 8);
        let router = Router::new(RouteConfig::default(), Some(roster)).unwrap();
        let r = route(&router, spanish_billing(), TUESDAY_MADRID_10);
        assert_eq!(
            (r.queue.as_str(), r.agent.as_deref()),
            ("billing", Some("lucia.martin"))
        );
    }

    #[test]
    fn rules_are_tried_in_order() {
        let router = queue_only();
        let tagged = |tags: &[&str]| {
            let tags: Vec<Value> = tags
                .iter()
                .map(|t| json!({"name": t, "confidence": 0.8}))
                .collect();
            json!({"subject": "Hello", "tags": {"tags": tags}})
        };
        // Leaving beats money: the retention rule comes before the billing rule.
        let r = route(
            &router,
            tagged(&["billing", "cancellation"]),
            TUESDAY_MADRID_10,
        );
        assert_eq!((r.queue.as_str(), r.rule), ("retention", Some(6)));
        // ...and a service down beats someone leaving.
        let r = route(
            &router,
            tagged(&["cancellation", "outage"]),
            TUESDAY_MADRID_10,
        );
        assert_eq!((r.queue.as_str(), r.rule), ("technical", Some(5)));
        let r = route(&router, tagged(&["billing", "bug"]), TUESDAY_MADRID_10);
        assert_eq!((r.queue.as_str(), r.rule), ("billing", Some(8)));
        assert_eq!(r.confidence, 0.8, "the matching tag's confidence");
        assert!(
            r.reasons[1].starts_with("rules[8] -> queue billing: tag billing (0.8)"),
            "{:?}",
            r.reasons
        );

        // The categorizer's answer comes before keyword tags.
        let mut categorized = tagged(&["login"]);
        categorized["category"] =
            json!({"name": "Billing", "subcategory": "invoice", "confidence": 0.7});
        let r = route(&router, categorized, TUESDAY_MADRID_10);
        assert_eq!(
            (r.queue.as_str(), r.rule, r.confidence),
            ("billing", Some(2), 0.7)
        );
    }

    #[test]
    fn vip_first_then_spanish_then_default() {
        let router = queue_only();
        let mut vip = spanish_billing();
        vip["customer"] = json!({"tier": "VIP"});
        let r = route(&router, vip, TUESDAY_MADRID_10);
        assert_eq!(
            (r.queue.as_str(), r.rule, r.confidence),
            ("vip", Some(0), 1.0)
        );

        let spanish = json!({"subject": "Hola", "description": "Tengo una pregunta sobre mi cuenta, gracias"});
        let r = route(&router, spanish, TUESDAY_MADRID_10);
        assert_eq!(
            (r.queue.as_str(), r.language.as_str()),
            ("spanish-support", "es")
        );
        assert!(
            r.reasons[0].starts_with("language es detected from the text"),
            "{:?}",
            r.reasons
        );
        assert!(
            r.confidence > 0.5 && r.confidence < 1.0,
            "the detector's confidence: {}",
            r.confidence
        );

        let english =
            json!({"subject": "Hello", "description": "I have a question about my plan, thanks"});
        let r = route(&router, english, TUESDAY_MADRID_10);
        assert_eq!(
            (r.queue.as_str(), r.rule, r.confidence),
            ("general", None, 0.5)
        );
        assert_eq!(r.reasons[1], "no rule matched -> default queue general");
        assert_eq!(r.reasons[2], "queue only: no agents file given (--agents)");
        assert_eq!((r.agent, r.candidates.len()), (None, 0));
    }

    #[test]
    fn language_field_then_sentiment_then_detection() {
        let router = queue_only();
        let mut ticket =
            json!({"subject": "Hola, necesito ayuda por favor", "sentiment": {"language": "en"}});
        let r = route(&router, ticket.clone(), TUESDAY_MADRID_10);
        assert_eq!((r.language.as_str(), r.queue.as_str()), ("en", "general"));
        assert_eq!(r.reasons[0], "language en from sentiment.language");
        ticket["language"] = json!("es-MX");
        let r = route(&router, ticket, TUESDAY_MADRID_10);
        assert_eq!(
            (r.language.as_str(), r.queue.as_str()),
            ("es", "spanish-support")
        );
    }

    #[test]
    fn a_ticket_in_another_language_is_not_sent_to_spanish_or_english_support() {
        let router = queue_only();
        let text = "Bonjour, je n'arrive pas à accéder à mon compte depuis hier, merci";
        let r = route(&router, json!({"description": text}), TUESDAY_MADRID_10);
        assert_eq!((r.language.as_str(), r.queue.as_str()), ("fr", "general"));
        let earlier = json!({"description": text, "sentiment": {"language": "es", "detected_language": "fr"}});
        let r = route(&router, earlier, TUESDAY_MADRID_10);
        assert_eq!(r.language, "fr");
        assert_eq!(r.reasons[0], "language fr from sentiment.detected_language");
    }

    #[test]
    fn match_all_takes_weakest_evidence_and_any_the_strongest() {
        let mut config = RouteConfig::default();
        config.rules = support_core::config::parse_yaml(
            "test rules",
            r#"
- {queue: urgent-es, priority: [urgent, critical], language: [es]}
- {queue: money, match: any, category: [refund], tags: [billing]}
"#,
        )
        .unwrap();
        let router = Router::new(config, None).unwrap();
        let r = route(
            &router,
            json!({"subject": "Ayuda", "language": "es", "priority": {"level": "Urgent", "confidence": 0.6}}),
            TUESDAY_MADRID_10,
        );
        assert_eq!((r.queue.as_str(), r.confidence), ("urgent-es", 0.6));
        let r = route(
            &router,
            json!({"subject": "Refund", "category": {"name": "refund", "confidence": 0.55},
                   "tags": {"tags": [{"name": "billing", "confidence": 0.9}]}}),
            TUESDAY_MADRID_10,
        );
        assert_eq!((r.queue.as_str(), r.confidence), ("money", 0.9));
        assert!(
            r.reasons[1].contains("category is refund (0.55), tag billing (0.9)"),
            "{:?}",
            r.reasons
        );
    }

    #[test]
    fn queue_without_skills_is_refused() {
        let mut config = RouteConfig::default();
        config
            .queue_skills
            .insert("billing".to_string(), Vec::new());
        let err = Router::new(config, None).err().unwrap().to_string();
        assert!(err.contains("queue_skills.billing is empty"), "{err}");
    }

    #[test]
    fn rule_without_condition_is_refused() {
        let mut config = RouteConfig::default();
        config.rules = support_core::config::parse_yaml("test", "- {queue: everything}").unwrap();
        let err = Router::new(config, None).err().unwrap().to_string();
        assert!(
            err.contains("rules[0] (queue everything) has no condition"),
            "{err}"
        );
    }

    #[test]
    fn agents_are_filtered_by_language_capacity_and_shift_then_ranked() {
        let router = with_agents(AGENTS);
        let r = route(&router, spanish_billing(), TUESDAY_MADRID_10);
        assert_eq!(r.queue, "billing");
        // bob speaks no Spanish (and is asleep in New York); cruz is full.
        assert_eq!(ids(&r), ["ana", "dana"]);
        assert_eq!(r.agent.as_deref(), Some("ana"));
        // ana: both wanted skills, 4/5 free, satisfaction 4.5 → 0.5 + 0.3·0.8 + 0.2·0.875.
        assert_eq!(r.candidates[0].score, 0.915);
        // dana: half the skills, 9/10 free, satisfaction 3 → 0.25 + 0.27 + 0.1.
        assert_eq!(r.candidates[1].score, 0.62);
        let reasons = &r.candidates[1].reasons;
        assert_eq!(
            reasons[0],
            "skills 1 of 2 wanted (has billing; lacks refund)"
        );
        assert_eq!(reasons[1], "free capacity 9 of 10");
        assert_eq!(
            reasons[3],
            "speaks es; on shift 09:00-17:00 Europe/Madrid, now Tue 10:00 local"
        );
        assert_eq!(r.reasons[2], "agent ana: best of 2 available (score 0.915)");
    }

    #[test]
    fn shift_boundaries_follow_each_agents_time_zone() {
        let router = with_agents(AGENTS);
        // 08:59 in New York: bob is not on shift yet; at 09:00 he is.
        assert_eq!(
            ids(&route(&router, english_billing(), "2026-11-24T13:59:00Z")),
            ["ana"]
        );
        assert_eq!(
            ids(&route(&router, english_billing(), "2026-11-24T14:00:00Z")),
            ["ana", "bob"]
        );
        // 17:00 in Madrid ends ana's shift (the end is excluded).
        assert_eq!(
            ids(&route(&router, english_billing(), "2026-11-24T15:59:00Z")),
            ["ana", "bob"]
        );
        assert_eq!(
            ids(&route(&router, english_billing(), "2026-11-24T16:00:00Z")),
            ["bob"]
        );
        // Madrid moves to summer time on 2026-03-29: 07:30 UTC is 08:30 local
        // the Monday before and 09:30 local the Monday after.
        assert!(route(&router, spanish_billing(), "2026-03-23T07:30:00Z")
            .agent
            .is_none());
        assert_eq!(
            route(&router, spanish_billing(), "2026-03-30T07:30:00Z")
                .agent
                .as_deref(),
            Some("ana")
        );
    }

    #[test]
    fn overnight_shift_counts_for_the_next_morning() {
        let night = r#"
agents:
  - {id: noa, name: Noa, skills: [general], languages: [en], capacity: 4, load: 0,
     hours: {time_zone: America/Argentina/Buenos_Aires, shifts: [{days: [mon], start: "22:00", end: "06:00"}]}}
"#;
        let router = with_agents(night);
        let ticket = json!({"subject": "Hello", "description": "a question about my plan"});
        // Buenos Aires is UTC-3: Tuesday 05:59 local is still Monday's night shift.
        let r = route(&router, ticket.clone(), "2026-11-24T08:59:00Z");
        assert_eq!(r.agent.as_deref(), Some("noa"));
        assert!(r.candidates[0]
            .reasons
            .contains(&"no satisfaction score (counted as 3 of 5)".to_string()));
        assert!(route(&router, ticket, "2026-11-24T09:00:00Z")
            .agent
            .is_none());
    }

    #[test]
    fn no_agent_fits_routes_to_the_queue_only() {
        let router = with_agents(AGENTS);
        // Saturday: nobody works.
        let r = route(&router, spanish_billing(), "2026-11-28T11:00:00Z");
        assert_eq!(
            (r.queue.as_str(), r.agent.as_deref(), r.candidates.len()),
            ("billing", None, 0)
        );
        assert_eq!(
            r.reasons[2],
            "queue only: none of the 4 agents fits (1 not speaking es, 1 at capacity, 2 off shift)"
        );
        let technical =
            json!({"subject": "App", "tags": {"tags": [{"name": "bug", "confidence": 0.8}]}});
        let r = route(&router, technical, TUESDAY_MADRID_10);
        assert_eq!(r.queue, "technical");
        assert!(
            r.reasons[2].ends_with("(4 not serving technical)"),
            "{:?}",
            r.reasons
        );
    }

    #[test]
    fn agents_listing_queues_serve_only_those() {
        let yaml = r#"
agents:
  - {id: eva, name: Eva, skills: [billing], languages: [es], capacity: 5, load: 0, queues: [spanish-support],
     hours: {time_zone: Europe/Madrid, shifts: [{days: mon-sun, start: "00:00", end: "24:00"}]}}
"#;
        let router = with_agents(yaml);
        assert!(route(&router, spanish_billing(), TUESDAY_MADRID_10)
            .agent
            .is_none());
        let general = json!({"subject": "Hola", "description": "una pregunta, gracias"});
        assert_eq!(
            route(&router, general, TUESDAY_MADRID_10).agent.as_deref(),
            Some("eva")
        );
    }

    #[test]
    fn candidates_are_capped_and_ties_go_to_the_id() {
        let mut config = RouteConfig::default();
        config.agents.candidates = 1;
        let twins = AGENTS
            .replace("id: dana", "id: aaron")
            .replace(
                "capacity: 10, load: 1, satisfaction: 3",
                "capacity: 5, load: 1, satisfaction: 4.5",
            )
            .replace(
                "skills: [billing], languages: [es-ES]",
                "skills: [billing, refund], languages: [es]",
            );
        let router = Router::new(config, Some(roster(&twins))).unwrap();
        let r = route(&router, spanish_billing(), TUESDAY_MADRID_10);
        assert_eq!(ids(&r), ["aaron"], "aaron and ana score the same");
        assert_eq!(
            r.reasons[2],
            "agent aaron: best of 2 available (score 0.915)"
        );
    }

    fn load_error(yaml: &str) -> String {
        Roster::parse("agents file team.yaml", yaml, AgentsFormat::Yaml)
            .err()
            .unwrap()
            .to_string()
    }

    #[test]
    fn bad_agents_files_are_explained() {
        let err = load_error(&AGENTS.replace("America/New_York", "Mars/Olympus"));
        assert!(err.starts_with("agents file team.yaml:"), "{err}");
        assert!(
            err.contains("agents[1].hours.time_zone") && err.contains("Mars/Olympus"),
            "{err}"
        );
        let err = load_error(&AGENTS.replace("id: bob", "id: ana"));
        assert_eq!(
            err,
            "agents file team.yaml: agent id `ana` appears more than once"
        );
        let err = load_error(&AGENTS.replace("satisfaction: 3", "satisfaction: 7"));
        assert!(
            err.contains("agents[3].satisfaction") && err.contains("not between 1 and 5"),
            "{err}"
        );
        let err = load_error(&AGENTS.replace("start: \"09:00\"", "start: \"9am\""));
        assert!(
            err.contains("shifts[0].start") && err.contains("9am"),
            "{err}"
        );
        let err = load_error(&AGENTS.replace("capacity", "capacidad"));
        assert!(err.contains("capacidad"), "{err}");
        assert!(load_error("agents: []").contains("`agents` is empty"));

        let err = Roster::load(Path::new("/nonexistent/agents.yaml"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("cannot read agents file /nonexistent/agents.yaml"),
            "{err}"
        );

        let json_err = Roster::parse(
            "agents file team.json",
            r#"{"agents": [{"id": "x", "name": "X", "skills": [], "languages": ["en"], "capacity": "lots"}]}"#,
            AgentsFormat::Json,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            json_err.starts_with("agents file team.json: key `agents[0].capacity`"),
            "{json_err}"
        );

        let unknown_queue = roster(&AGENTS.replace(
            "skills: [billing], languages: [en]",
            "skills: [billing], queues: [biling], languages: [en]",
        ));
        let err = Router::new(RouteConfig::default(), Some(unknown_queue))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("agents.yaml: agent `bob` serves unknown queue `biling`"),
            "{err}"
        );
    }

    #[test]
    fn json_agents_file_works_like_yaml() {
        let json = r#"{"agents": [{"id": "ana", "name": "Ana", "skills": ["billing"], "languages": ["es"],
            "capacity": 2, "load": 0, "satisfaction": 4,
            "hours": {"time_zone": "Europe/Madrid", "shifts": [{"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}]}}]}"#;
        let roster = Roster::parse("agents.json", json, AgentsFormat::Json).unwrap();
        let router = Router::new(RouteConfig::default(), Some(roster)).unwrap();
        assert_eq!(
            route(&router, spanish_billing(), TUESDAY_MADRID_10)
                .agent
                .as_deref(),
            Some("ana")
        );
    }
}
