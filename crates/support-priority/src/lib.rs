//! Priority of a support ticket: a level and a 0-100 score summed from
//! weighted factors (impact words in Spanish and English, sentiment and
//! frustration, customer tier, channel, age), and the SLA due times and
//! status the level implies.

pub use support_core::results::priority::{
    Factor, FactorKind, Level, Priority, Sla, SlaClock, SlaStatus,
};
mod config;
mod sla;

use std::collections::HashMap;
use std::fmt;

use jiff::Timestamp;
use support_core::results::sentiment::SentimentReading;
use support_core::ticket::Message;
use support_core::{capitalize, round3, text, Decimal, FieldName, Role, Ticket};
use support_text::{matched_text, PhraseSet};

pub use config::{
    AgeStep, ConfidenceConfig, ImpactConfig, ImpactGroup, LevelThresholds, PriorityConfig,
    SentimentWeights, SlaConfig, SlaMinutes, SlaTargets, DEFAULT_CONFIG, DEFAULT_CONFIG_JSON,
    EMBEDDED_CONFIG,
};

use sla::Done;

/// Decides the `priority` key. Matchers are built once in [`Prioritizer::new`].
pub struct Prioritizer {
    config: PriorityConfig,
    impact_phrases: PhraseSet,
    /// Impact group of each phrase of `impact_phrases`, by phrase number.
    impact_group_of: Vec<usize>,
    tiers: HashMap<String, f64>,
    channels: HashMap<String, f64>,
}

impl PriorityConfig {
    /// Whether the ticket is resolved: `resolved_at`, or one of `closed_statuses`.
    pub fn is_resolved(&self, ticket: &Ticket<'_>) -> bool {
        ticket.resolved_at.is_some()
            || ticket.status.as_deref().is_some_and(|status| {
                let status = status.trim();
                self.closed_statuses
                    .iter()
                    .any(|closed| closed.eq_ignore_ascii_case(status))
            })
    }
}

/// The first place an impact group's words were found.
struct ImpactHit {
    group: usize,
    field: FieldName,
    words: String,
}

impl Prioritizer {
    pub fn new(mut config: PriorityConfig) -> Self {
        let (impact_group_of, phrases): (Vec<usize>, Vec<&str>) = config
            .impact
            .groups
            .iter()
            .enumerate()
            .flat_map(|(group, g)| g.phrases.iter().map(move |p| (group, p.as_str())))
            .unzip();
        let impact_phrases = PhraseSet::new(phrases);
        config.age.sort_by(|a, b| a.hours.total_cmp(&b.hours));
        let lowercase_keys = |m: &HashMap<String, f64>| {
            m.iter()
                .map(|(k, &v)| (k.trim().to_lowercase(), v))
                .collect()
        };
        Prioritizer {
            tiers: lowercase_keys(&config.tiers),
            channels: lowercase_keys(&config.channels),
            impact_phrases,
            impact_group_of,
            config,
        }
    }

    /// Whether the ticket is resolved: `resolved_at`, or a closed status.
    pub fn is_resolved(&self, ticket: &Ticket<'_>) -> bool {
        self.config.is_resolved(ticket)
    }

    /// The priority of `ticket` given its sentiment, as of `now`.
    pub fn prioritize(
        &self,
        ticket: &Ticket<'_>,
        sentiment: &SentimentReading,
        now: Timestamp,
    ) -> Priority {
        let resolved = self.is_resolved(ticket);
        let (tier, channel) = (ticket.tier(), ticket.channel());
        let hits = self.impact_hits(ticket);
        // Room for the base, two impact groups and the five other kinds of
        // factor: more impact groups than that are rare.
        let mut factors = Vec::with_capacity(8);
        factors.push(Factor {
            kind: FactorKind::Base,
            points: self.config.base_points,
            cause: "base points of every ticket".to_string(),
        });
        factors.extend(self.impact_factors(&hits));
        factors.extend(self.sentiment_factors(sentiment));
        factors.extend(self.tier_factor(tier.as_deref()));
        factors.extend(self.channel_factor(channel.as_deref()));
        factors.extend(self.age_factor(ticket, resolved, now));
        for factor in &mut factors {
            factor.points = round3(factor.points);
        }

        let score = round3(
            factors
                .iter()
                .map(|f| f.points)
                .sum::<f64>()
                .clamp(0.0, 100.0),
        );
        let by_score = self.config.levels.level_for(score);
        let floor = hits
            .iter()
            .filter_map(|h| {
                let group = &self.config.impact.groups[h.group];
                group.min_level.map(|level| (level, group.name.as_str()))
            })
            .max_by_key(|&(level, _)| level);
        let level = match floor {
            Some((floor_level, _)) if floor_level > by_score => floor_level,
            _ => by_score,
        };

        // The level, each factor but the base, both SLA clocks and a text cut.
        let mut reasons = Vec::with_capacity(factors.len() + 3);
        reasons.push(self.level_reason(score, by_score, level, floor));
        reasons.extend(
            factors
                .iter()
                .filter(|f| f.kind != FactorKind::Base && f.points != 0.0)
                .map(|f| capitalize(text!("{} ({:+}).", f.cause, Decimal(f.points)))),
        );
        let sla = self.sla(ticket, level, resolved, now);
        push_sla_reasons(ticket, &sla, level, &mut reasons);
        reasons.extend(ticket.text_cut().map(|cut| cut.to_string()));

        let lifted_by_floor = level != by_score;
        let missing_signals = [
            ticket.created_at.is_none(),
            channel.is_none(),
            tier.is_none(),
        ]
        .into_iter()
        .filter(|&missing| missing)
        .count();
        Priority {
            level,
            score,
            confidence: self.confidence(score, level, lifted_by_floor, missing_signals),
            factors,
            sla,
            reasons,
        }
    }

    /// The first match of each impact group, in group order.
    fn impact_hits(&self, ticket: &Ticket<'_>) -> Vec<ImpactHit> {
        let mut first: Vec<Option<ImpactHit>> =
            (0..self.config.impact.groups.len()).map(|_| None).collect();
        for (field, tokens) in ticket.analysis().fields() {
            for m in self.impact_phrases.find_all(tokens) {
                let group = self.impact_group_of[m.phrase];
                first[group].get_or_insert_with(|| ImpactHit {
                    group,
                    field,
                    words: matched_text(tokens, &m),
                });
            }
        }
        first.into_iter().flatten().collect()
    }

    /// Strongest impact first, each adding its points until the cap is reached.
    fn impact_factors(&self, hits: &[ImpactHit]) -> Vec<Factor> {
        let groups = &self.config.impact.groups;
        let mut strongest_first: Vec<&ImpactHit> = hits.iter().collect();
        strongest_first.sort_by(|a, b| groups[b.group].points.total_cmp(&groups[a.group].points));
        let mut room = self.config.impact.max_points;
        strongest_first
            .into_iter()
            .map(|hit| {
                let group = &groups[hit.group];
                let points = group.points.min(room);
                room -= points;
                let capped = if points < group.points {
                    ", capped"
                } else {
                    ""
                };
                Factor {
                    kind: FactorKind::Impact,
                    points,
                    cause: text!("{}: \"{}\" in {}{capped}", group.name, hit.words, hit.field),
                }
            })
            .collect()
    }

    /// Negativity and frustration, each only when it adds points: its cause
    /// is written only then.
    fn sentiment_factors(&self, s: &SentimentReading) -> impl Iterator<Item = Factor> {
        let weights = &self.config.sentiment;
        let negativity = weights.negativity_points * (-s.score).max(0.0);
        let frustration = weights.frustration_points * s.frustration;
        let negativity = (negativity != 0.0).then(|| Factor {
            kind: FactorKind::Negativity,
            points: negativity,
            cause: text!(
                "negative sentiment, score {} ({})",
                Decimal(round3(s.score)),
                s.source()
            ),
        });
        let frustration = (frustration != 0.0).then(|| Factor {
            kind: FactorKind::Frustration,
            points: frustration,
            cause: text!(
                "frustration {} ({})",
                Decimal(round3(s.frustration)),
                s.source()
            ),
        });
        negativity.into_iter().chain(frustration)
    }

    fn tier_factor(&self, tier: Option<&str>) -> Option<Factor> {
        let tier = tier?;
        let points = *self.tiers.get(tier)?;
        (points != 0.0).then(|| Factor {
            kind: FactorKind::Tier,
            points,
            cause: text!("customer tier {tier}"),
        })
    }

    fn channel_factor(&self, channel: Option<&str>) -> Option<Factor> {
        let channel = channel?;
        let points = *self.channels.get(channel)?;
        (points != 0.0).then(|| Factor {
            kind: FactorKind::Channel,
            points,
            cause: text!("{channel} channel"),
        })
    }

    /// A resolved ticket no longer waits, so its age adds nothing.
    fn age_factor(&self, ticket: &Ticket<'_>, resolved: bool, now: Timestamp) -> Option<Factor> {
        if resolved {
            return None;
        }
        let hours = now.duration_since(ticket.created_at?).as_secs_f64() / 3600.0;
        let step = self
            .config
            .age
            .iter()
            .rev()
            .find(|step| hours >= step.hours)?;
        Some(Factor {
            kind: FactorKind::Age,
            points: step.points,
            cause: text!(
                "open for {} h (step from {} h)",
                Decimal(hours.floor()),
                Decimal(step.hours)
            ),
        })
    }

    fn level_reason(
        &self,
        score: f64,
        by_score: Level,
        level: Level,
        floor: Option<(Level, &str)>,
    ) -> String {
        let score = Decimal(score);
        match floor {
            Some((floor_level, impact)) if level != by_score => text!(
                "Level {level}: score {score} of 100 is {by_score} ({}), but {impact} sets a floor of {floor_level}.",
                self.band(by_score)
            ),
            _ => text!("Level {level}: score {score} of 100 ({}).", self.band(level)),
        }
    }

    fn band(&self, level: Level) -> Band<'_> {
        Band {
            level,
            levels: &self.config.levels,
        }
    }

    fn sla(&self, ticket: &Ticket<'_>, level: Level, resolved: bool, now: Timestamp) -> Sla {
        let targets = self.config.sla.targets.for_level(level);
        let resolution_done = match ticket.resolved_at {
            Some(at) => Done::At(at),
            None if resolved => Done::NoLaterThan(now),
            None => Done::No,
        };
        let first_response_done = match ticket
            .first_response_at
            .or_else(|| first_reply_time(&ticket.messages))
        {
            Some(at) => Done::At(at),
            // An undated reply still answered the ticket, at some point.
            None if has_reply(&ticket.messages) => Done::NoLaterThan(now),
            // A resolved ticket was answered by its resolution at the latest.
            None => match resolution_done {
                Done::At(at) | Done::NoLaterThan(at) => Done::NoLaterThan(at),
                Done::No => Done::No,
            },
        };
        let fraction = self.config.sla.at_risk_fraction;
        Sla {
            first_response: sla::clock(
                targets.first_response,
                ticket.created_at,
                first_response_done,
                now,
                fraction,
            ),
            resolution: sla::clock(
                targets.resolution,
                ticket.created_at,
                resolution_done,
                now,
                fraction,
            ),
        }
    }

    /// `missing_signals`: how many of created_at, channel and tier the ticket lacks.
    fn confidence(
        &self,
        score: f64,
        level: Level,
        lifted_by_floor: bool,
        missing_signals: usize,
    ) -> f64 {
        let c = &self.config.confidence;
        let clearness = if lifted_by_floor {
            1.0
        } else {
            (self.config.levels.margin(score, level) / c.boundary_margin).clamp(0.0, 1.0)
        };
        round3(
            (c.min + (c.max - c.min) * clearness
                - c.missing_signal_penalty * missing_signals as f64)
                .clamp(0.0, 1.0),
        )
    }
}

fn is_reply(message: &Message<'_>) -> bool {
    matches!(message.role, Role::Agent | Role::Bot)
}

fn has_reply(messages: &[Message<'_>]) -> bool {
    messages.iter().any(is_reply)
}

/// The earliest dated agent or bot message: the first response when the
/// ticket does not give `first_response_at`.
fn first_reply_time(messages: &[Message<'_>]) -> Option<Timestamp> {
    messages
        .iter()
        .filter(|m| is_reply(m))
        .filter_map(|m| m.timestamp)
        .min()
}

fn push_sla_reasons(ticket: &Ticket<'_>, sla: &Sla, level: Level, reasons: &mut Vec<String>) {
    if ticket.created_at.is_none() {
        reasons.push(text!(
            "No created_at: SLA due times cannot be computed (targets for {level}: first response {}, resolution {}).",
            DurationWords(sla.first_response.target_minutes),
            DurationWords(sla.resolution.target_minutes)
        ));
        return;
    }
    let clocks = [
        ("First response", &sla.first_response),
        ("Resolution", &sla.resolution),
    ];
    reasons.extend(clocks.into_iter().map(|(what, clock)| {
        let due: &dyn fmt::Display = match &clock.due {
            Some(at) => at,
            None => &"beyond the representable range",
        };
        let status = clock.status.map_or(
            "done at an unknown time that may be after it, so met or not cannot be told",
            SlaStatus::describe,
        );
        text!(
            "{what} due {due} ({} for {level}): {status}.",
            DurationWords(clock.target_minutes)
        )
    }));
}

/// Minutes in words: `90` → "90 min", `120` → "2 h", `2880` → "2 d".
/// Shown straight into a reason, as is [`Band`].
struct DurationWords(u32);

impl fmt::Display for DurationWords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            m if m > 0 && m % 1440 == 0 => write!(f, "{} d", m / 1440),
            m if m > 0 && m % 60 == 0 => write!(f, "{} h", m / 60),
            m => write!(f, "{m} min"),
        }
    }
}

/// Where a level starts, e.g. "high from 45", or "below medium at 25" for low.
struct Band<'c> {
    level: Level,
    levels: &'c LevelThresholds,
}

impl fmt::Display for Band<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.levels.lower_bound(self.level) {
            Some(bound) => write!(f, "{} from {}", self.level, Decimal(bound)),
            None => write!(
                f,
                "below {} at {}",
                Level::Medium,
                Decimal(self.levels.medium)
            ),
        }
    }
}

impl Default for Prioritizer {
    fn default() -> Self {
        Prioritizer::new(PriorityConfig::default())
    }
}

#[cfg(test)]
mod tests;
