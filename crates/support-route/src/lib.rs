//! Routing: a queue chosen by ordered rules over the ticket and earlier
//! tools' results (category, tags, priority, sentiment language), then, with
//! an agents file, the best available agent of that queue.
//!
//! The decision is a plain function of the ticket, the configuration, the
//! agents file and the run's clock (`ctx.now`, for working hours).

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use support_core::results::category::EarlierCategory;
use support_core::results::priority::EarlierPriority;
pub use support_core::results::route::{AgentCandidate, Route};
use support_core::results::sentiment::EarlierSentiment;
use support_core::results::tags::EarlierTags;

use anyhow::{bail, ensure};
use support_core::{round3, text, write_joined, Context, Decimal, RecordError, Ticket, Tool};
use support_text::Language;

use support_agents::{normalize_language, Roster};

mod config;
mod ranking;
mod rules;

pub use config::{AgentSettings, Combine, RouteConfig, Rule, Weights};
use ranking::{check_agent_queues, Profile};
use rules::{CompiledRule, Facts, TicketLanguage, Weighted};

pub const DEFAULT_CONFIG: &str = include_str!("../defaults/route.yaml");
/// [`DEFAULT_CONFIG`] as JSON, converted by `build.rs`: what `Default` parses,
/// because JSON parses many times faster than YAML and this runs at every start.
pub const DEFAULT_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/route.json"));
/// Both forms of the embedded default, as the command line loads them.
pub const EMBEDDED_CONFIG: support_core::config::Embedded = support_core::config::Embedded {
    yaml: DEFAULT_CONFIG,
    json: DEFAULT_CONFIG_JSON,
};

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

pub(crate) fn lowercase_all(values: &[String]) -> Vec<String> {
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
        // The language, a text cut, the queue and the agent.
        let mut reasons = Vec::with_capacity(4);
        reasons.push(text!("language {} {}", language.code, language.source));
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
                let mut reason = text!("rules[{i}] -> queue {}: ", rule.queue);
                write_joined(&mut reason, &evidence, ", ", |out, e| {
                    write!(out, "{} ({})", e.text, Decimal(round3(e.confidence)))
                });
                reasons.push(reason);
                (rule.queue.as_str(), Some(i), confidence)
            }
            None => {
                reasons.push(text!(
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

    fn facts<'t>(&self, ticket: &'t Ticket<'_>) -> Facts<'t> {
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
            source: text!("from {source}"),
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
        let detection = ticket.language_evidence().detect(self.fallback_language);
        if let Some(other) = detection.other {
            return TicketLanguage {
                code: other.code.to_string(),
                source: text!(
                    "detected from the text ({}), neither es nor en",
                    Decimal(round3(other.confidence))
                ),
                confidence: other.confidence,
                detected: true,
            };
        }
        TicketLanguage {
            code: detection.language.code().to_string(),
            source: text!(
                "detected from the text ({})",
                Decimal(round3(detection.confidence))
            ),
            confidence: detection.confidence,
            detected: true,
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
mod tests;
