//! The one place where a tool gets the earlier results it needs but the
//! ticket lacks: priority weighs sentiment, escalation weighs priority and
//! sentiment. In the chain (support-triage, or the tools piped in order) the
//! earlier results are there and are read; a tool run alone computes them
//! here, with the same configuration the chain would use, and adds only its
//! own key.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use support_core::results::priority::Priority;
use support_core::results::sentiment::{EarlierSentiment, SentimentReading};
use support_core::{Context, RecordError, Ticket, Tool};
use support_escalate::{EscalateConfig, Escalation, EscalationInputs, Escalator};
use support_priority::{Prioritizer, PriorityConfig};
use support_sentiment::{Analyzer, SentimentConfig};

/// Sentiment figures: the earlier result's, else computed. The analyzer is
/// built on first need, so the chain never pays for it.
struct SentimentSource {
    config: SentimentConfig,
    analyzer: OnceLock<Analyzer>,
}

impl SentimentSource {
    fn new(config: SentimentConfig) -> Self {
        SentimentSource {
            config,
            analyzer: OnceLock::new(),
        }
    }

    fn read(&self, ticket: &Ticket<'_>) -> SentimentReading {
        ticket
            .reading::<EarlierSentiment>()
            .as_ref()
            .and_then(SentimentReading::earlier)
            .unwrap_or_else(|| {
                let analyzer = self
                    .analyzer
                    .get_or_init(|| Analyzer::new(self.config.clone()));
                SentimentReading::computed(&analyzer.analyze(ticket))
            })
    }
}

/// support-priority: the priority from the ticket's sentiment. Cloning shares
/// the prioritizer and the analyzer, so the chain builds them once for
/// priority and escalation.
#[derive(Clone)]
pub struct PriorityTool {
    prioritizer: Arc<Prioritizer>,
    sentiment: Arc<SentimentSource>,
}

impl PriorityTool {
    /// `sentiment` configures the analyzer used when the ticket has no sentiment result.
    pub fn new(config: PriorityConfig, sentiment: SentimentConfig) -> Self {
        PriorityTool {
            prioritizer: Arc::new(Prioritizer::new(config)),
            sentiment: Arc::new(SentimentSource::new(sentiment)),
        }
    }
}

impl Default for PriorityTool {
    fn default() -> Self {
        PriorityTool::new(PriorityConfig::default(), SentimentConfig::default())
    }
}

impl Tool for PriorityTool {
    type Output = Priority;

    fn decide(&self, ticket: &Ticket<'_>, ctx: &Context) -> Result<Priority, RecordError> {
        let sentiment = self.sentiment.read(ticket);
        Ok(self.prioritizer.prioritize(ticket, &sentiment, ctx.now))
    }
}

/// support-escalate: the escalation from the ticket's priority and sentiment;
/// resolved by the same closed statuses as priority's configuration.
pub struct EscalateTool {
    escalator: Escalator,
    priority: PriorityTool,
}

impl EscalateTool {
    /// `priority` gives what escalation weighs besides its own rules: the
    /// closed statuses, and the priority and sentiment computed when the
    /// ticket has none.
    pub fn new(config: EscalateConfig, priority: PriorityTool) -> Self {
        EscalateTool {
            escalator: Escalator::new(config),
            priority,
        }
    }
}

impl Default for EscalateTool {
    fn default() -> Self {
        EscalateTool::new(EscalateConfig::default(), PriorityTool::default())
    }
}

impl Tool for EscalateTool {
    type Output = Escalation;

    fn decide(&self, ticket: &Ticket<'_>, ctx: &Context) -> Result<Escalation, RecordError> {
        let sentiment = self.priority.sentiment.read(ticket);
        let earlier = ticket.result::<Priority>();
        let (priority, priority_source) = match earlier {
            Some(priority) => (priority, "from the earlier priority result"),
            None => (
                Cow::Owned(
                    self.priority
                        .prioritizer
                        .prioritize(ticket, &sentiment, ctx.now),
                ),
                "computed (no earlier priority result)",
            ),
        };
        let inputs = EscalationInputs {
            priority: &priority,
            priority_source,
            sentiment: &sentiment,
            resolved: self.priority.prioritizer.is_resolved(ticket),
        };
        Ok(self.escalator.escalation(ticket, &inputs, ctx.now))
    }
}

#[cfg(test)]
mod escalate_tests;
#[cfg(test)]
mod priority_tests;
