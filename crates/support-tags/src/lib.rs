//! Tags for support tickets: keyword rules over the customer's text (Spanish
//! and English, in `defaults/tags.yaml`), plus tags derived from the ticket
//! (tier, channel) and from earlier tools (sentiment, priority, category).
//!
//! Every tag says where it came from (`source`: kind, rule, words, field), and
//! one entry is kept per tag name: the strongest, with the words of the others.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use support_core::results::category::EarlierCategory;
use support_core::results::priority::EarlierPriority;
use support_core::results::sentiment::EarlierSentiment;
pub use support_core::results::tags::{Source, SourceKind, Tag, Tags};

use serde::Deserialize;
use support_core::{round3, Context, FieldName, RecordError, Ticket, Tool};
use support_text::{
    detect_language, matched_text, tokenize, Language, PhraseMatch, PhraseSet, Token,
};

pub const DEFAULT_CONFIG: &str = include_str!("../defaults/tags.yaml");
/// [`DEFAULT_CONFIG`] as JSON, converted by `build.rs`: what `Default` parses,
/// because JSON parses many times faster than YAML and this runs at every start.
const DEFAULT_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/tags.json"));

/// The configuration; `defaults/tags.yaml` explains every field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsConfig {
    /// Tags below this confidence are left out.
    pub min_confidence: Fraction,
    /// Language for `when.language` when neither ticket, sentiment nor text tells.
    pub fallback_language: Language,
    /// The shipped keyword rules.
    pub keywords: Vec<Rule>,
    /// The user's own rules (same shape); their tags have `source.kind: custom`.
    pub custom: Vec<Rule>,
    /// `sentiment.label` → tag.
    pub sentiment_labels: BTreeMap<String, String>,
    /// A tag when `sentiment.frustration` reaches a threshold.
    pub frustration: Option<FrustrationTag>,
    /// `priority.level` → tag.
    pub priority_levels: BTreeMap<String, String>,
    /// `customer.tier` → tag.
    pub tiers: BTreeMap<String, String>,
    /// Prefix of the tag naming the ticket's channel (`channel:whatsapp`); null: no channel tag.
    pub channel_prefix: Option<String>,
    /// Prefix of the tag naming the category (`category:billing`); null: no category tag.
    pub category_prefix: Option<String>,
}

impl Default for TagsConfig {
    fn default() -> Self {
        support_core::config::embedded_json(DEFAULT_CONFIG_JSON)
    }
}

/// A keyword rule: its tag is added when one of its phrases occurs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The tag to add.
    pub name: String,
    /// Words or phrases (accent/case-insensitive, trailing `*` for a prefix).
    pub phrases: Vec<String>,
    /// Confidence of one match; more distinct matches raise it.
    pub confidence: Fraction,
    /// Phrases that cancel a match they overlap ("no es urgente" cancels "urgente").
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Where to look; empty means all the customer's text.
    #[serde(default)]
    pub fields: Vec<TextKind>,
    /// Conditions on the ticket, all of which must hold.
    #[serde(default)]
    pub when: Conditions,
}

/// The kinds of customer text a rule can be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextKind {
    Subject,
    /// The main text: `description`, or `body` which is its alias.
    #[serde(alias = "body")]
    Description,
    /// The customer's messages in the transcript.
    Messages,
}

impl TextKind {
    fn of(field: FieldName) -> TextKind {
        match field {
            FieldName::Subject => TextKind::Subject,
            FieldName::Description | FieldName::Body => TextKind::Description,
            FieldName::Message(_) => TextKind::Messages,
        }
    }
}

/// Conditions on the ticket; an empty list does not restrict.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(default)]
    pub channel: Vec<String>,
    #[serde(default)]
    pub tier: Vec<String>,
    #[serde(default)]
    pub language: Vec<Language>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrustrationTag {
    pub threshold: Fraction,
    pub tag: String,
}

/// A number in [0, 1], checked when the configuration is read so a bad value
/// is reported with its file, line and key.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Deserialize)]
#[serde(try_from = "f64")]
pub struct Fraction(f64);

impl Fraction {
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Fraction {
    type Error = String;

    fn try_from(x: f64) -> Result<Self, String> {
        if (0.0..=1.0).contains(&x) {
            Ok(Fraction(x))
        } else {
            Err(format!("{x} is not between 0 and 1"))
        }
    }
}

/// What several rules read of a ticket, worked out once.
struct Facts<'a> {
    channel: Option<String>,
    tier: Option<String>,
    /// The earlier sentiment result (a missing or unreadable one yields no derived tag).
    sentiment: Option<EarlierSentiment<'a>>,
}

/// A rule compiled for matching: lists lower-cased once here, not per ticket.
struct CompiledRule {
    kind: SourceKind,
    name: String,
    confidence: f64,
    fields: Vec<TextKind>,
    channels: Vec<String>,
    tiers: Vec<String>,
    languages: Vec<Language>,
}

/// Which rule a phrase of the combined set belongs to, and whether it is
/// one of the rule's `exclude` phrases.
#[derive(Clone, Copy)]
struct PhraseOwner {
    rule: usize,
    excludes: bool,
}

/// What one rule found in one ticket.
#[derive(Default)]
struct RuleHit {
    words: Vec<String>,
    fields: Vec<FieldName>,
    /// End of the last match taken, in its field.
    covered: Option<(FieldName, usize)>,
}

/// A tag with the text of its reason, before deduplication.
struct Candidate {
    tag: Tag,
    detail: String,
    /// Other evidence for the same tag, merged into this one.
    also: Vec<String>,
}

/// The `support-tags` tool.
pub struct Tagger {
    rules: Vec<CompiledRule>,
    /// Every rule's phrases in one set, so each text is scanned once.
    phrases: PhraseSet,
    /// Phrase number → the rule it belongs to.
    phrase_rule: Vec<PhraseOwner>,
    /// Whether some rule has a language condition (only then is language worked out).
    needs_language: bool,
    min_confidence: f64,
    fallback_language: Language,
    sentiment_labels: BTreeMap<String, String>,
    frustration: Option<FrustrationTag>,
    priority_levels: BTreeMap<String, String>,
    tiers: BTreeMap<String, String>,
    channel_prefix: Option<String>,
    category_prefix: Option<String>,
}

fn lowercase_keys(map: BTreeMap<String, String>) -> BTreeMap<String, String> {
    map.into_iter()
        .map(|(k, v)| (k.trim().to_lowercase(), v))
        .collect()
}

fn lowercase_all(values: Vec<String>) -> Vec<String> {
    values
        .into_iter()
        .map(|v| v.trim().to_lowercase())
        .collect()
}

impl Tagger {
    pub fn new(config: TagsConfig) -> Self {
        let sources = config
            .keywords
            .into_iter()
            .map(|r| (SourceKind::Keyword, r))
            .chain(config.custom.into_iter().map(|r| (SourceKind::Custom, r)));
        let mut rules = Vec::new();
        let mut all_phrases = Vec::new();
        let mut phrase_rule = Vec::new();
        for (kind, rule) in sources {
            let rule_index = rules.len();
            let owner = |excludes| PhraseOwner {
                rule: rule_index,
                excludes,
            };
            phrase_rule.extend(std::iter::repeat_n(owner(false), rule.phrases.len()));
            phrase_rule.extend(std::iter::repeat_n(owner(true), rule.exclude.len()));
            all_phrases.extend(rule.phrases);
            all_phrases.extend(rule.exclude);
            rules.push(CompiledRule {
                kind,
                name: rule.name,
                confidence: rule.confidence.get(),
                fields: rule.fields,
                channels: lowercase_all(rule.when.channel),
                tiers: lowercase_all(rule.when.tier),
                languages: rule.when.language,
            });
        }
        Tagger {
            needs_language: rules.iter().any(|r| !r.languages.is_empty()),
            rules,
            phrases: PhraseSet::new(all_phrases),
            phrase_rule,
            min_confidence: config.min_confidence.get(),
            fallback_language: config.fallback_language,
            sentiment_labels: lowercase_keys(config.sentiment_labels),
            frustration: config.frustration,
            priority_levels: lowercase_keys(config.priority_levels),
            tiers: lowercase_keys(config.tiers),
            channel_prefix: config.channel_prefix,
            category_prefix: config.category_prefix,
        }
    }

    /// The tags of one ticket.
    pub fn tag(&self, ticket: &Ticket<'_>) -> Tags {
        let facts = Facts {
            channel: ticket.channel(),
            tier: ticket.tier(),
            sentiment: ticket.reading(),
        };
        let mut candidates = self.keyword_tags(ticket, &facts);
        self.derived_tags(ticket, &facts, &mut candidates);
        let (kept, left_out): (Vec<Candidate>, Vec<Candidate>) = dedupe(candidates)
            .into_iter()
            .partition(|c| c.tag.confidence >= self.min_confidence);

        let mut reasons: Vec<String> = kept.iter().map(Candidate::reason).collect();
        reasons.extend(left_out.iter().map(|c| {
            format!(
                "left out {} (confidence {} below min_confidence {})",
                c.reason(),
                c.tag.confidence,
                self.min_confidence
            )
        }));
        let confidence = if kept.is_empty() {
            let strongest_left_out = left_out
                .iter()
                .map(|c| c.tag.confidence)
                .fold(0.0, f64::max);
            if left_out.is_empty() {
                reasons.push("no rule matched: no tags".to_string());
            }
            1.0 - strongest_left_out
        } else {
            kept.iter().map(|c| c.tag.confidence).sum::<f64>() / kept.len() as f64
        };
        reasons.extend(ticket.text_cut().map(|cut| cut.to_string()));
        Tags {
            tags: kept.into_iter().map(|c| c.tag).collect(),
            confidence: round3(confidence),
            reasons,
        }
    }

    /// Tags from keyword and custom rules, one candidate per rule that matched.
    fn keyword_tags(&self, ticket: &Ticket<'_>, facts: &Facts<'_>) -> Vec<Candidate> {
        let mut hits: Vec<Option<RuleHit>> = Vec::new();
        hits.resize_with(self.rules.len(), || None);
        // Kept only when a language condition may need detection.
        let mut all_tokens: Vec<Token> = Vec::new();
        let mut texts: Vec<&str> = Vec::new();
        for text in ticket.customer_texts() {
            let tokens = tokenize(text.text);
            self.scan(text.field, &tokens, &mut hits);
            if self.needs_language {
                all_tokens.extend(tokens);
                texts.push(text.text);
            }
        }

        let language = std::cell::OnceCell::new();
        let ticket_language = || {
            *language.get_or_init(|| {
                resolve_language(
                    ticket,
                    facts.sentiment.as_ref(),
                    &all_tokens,
                    &texts,
                    self.fallback_language,
                )
            })
        };
        let mut candidates = Vec::new();
        for (rule, hit) in self.rules.iter().zip(hits) {
            let Some(hit) = hit else { continue };
            let holds = |allowed: &[String], value: &Option<String>| {
                allowed.is_empty() || value.as_ref().is_some_and(|v| allowed.contains(v))
            };
            if !holds(&rule.channels, &facts.channel)
                || !holds(&rule.tiers, &facts.tier)
                || !(rule.languages.is_empty() || rule.languages.contains(&ticket_language()))
            {
                continue;
            }
            candidates.push(rule.candidate(hit));
        }
        candidates
    }

    fn derived_tags(
        &self,
        ticket: &Ticket<'_>,
        facts: &Facts<'_>,
        candidates: &mut Vec<Candidate>,
    ) {
        if let Some(sentiment) = &facts.sentiment {
            if let Some(label) = sentiment.label.map(str::to_lowercase) {
                if let Some(tag) = self.sentiment_labels.get(&label) {
                    candidates.push(Candidate::derived(
                        tag,
                        upstream_confidence(sentiment.confidence),
                        SourceKind::Sentiment,
                        format!("sentiment_labels.{label}"),
                        "sentiment.label",
                        format!("sentiment.label is {label}"),
                    ));
                }
            }
            if let (Some(rule), Some(frustration)) = (&self.frustration, sentiment.frustration) {
                if frustration >= rule.threshold.get() {
                    candidates.push(Candidate::derived(
                        &rule.tag,
                        upstream_confidence(Some(frustration)),
                        SourceKind::Sentiment,
                        "frustration".to_string(),
                        "sentiment.frustration",
                        format!(
                            "sentiment.frustration {} >= {}",
                            round3(frustration),
                            rule.threshold.get()
                        ),
                    ));
                }
            }
        }
        if let Some(priority) = ticket.reading::<EarlierPriority>() {
            if let Some(level) = priority.level.map(str::to_lowercase) {
                if let Some(tag) = self.priority_levels.get(&level) {
                    candidates.push(Candidate::derived(
                        tag,
                        upstream_confidence(priority.confidence),
                        SourceKind::Priority,
                        format!("priority_levels.{level}"),
                        "priority.level",
                        format!("priority.level is {level}"),
                    ));
                }
            }
        }
        if let Some(tier) = &facts.tier {
            if let Some(tag) = self.tiers.get(tier) {
                candidates.push(Candidate::derived(
                    tag,
                    1.0,
                    SourceKind::Tier,
                    format!("tiers.{tier}"),
                    "customer.tier",
                    format!("customer.tier is {tier}"),
                ));
            }
        }
        if let (Some(prefix), Some(channel)) = (&self.channel_prefix, &facts.channel) {
            candidates.push(Candidate::derived(
                &format!("{prefix}{channel}"),
                1.0,
                SourceKind::Channel,
                "channel_prefix".to_string(),
                "channel",
                format!("channel is {channel}"),
            ));
        }
        if let Some(prefix) = &self.category_prefix {
            let category = ticket.reading::<EarlierCategory>();
            let name = category
                .as_ref()
                .and_then(|c| c.name)
                .map(|n| n.trim().to_lowercase())
                .filter(|n| !n.is_empty());
            if let (Some(category), Some(name)) = (category, name) {
                candidates.push(Candidate::derived(
                    &format!("{prefix}{name}"),
                    upstream_confidence(category.confidence),
                    SourceKind::Category,
                    "category_prefix".to_string(),
                    "category.name",
                    format!("category.name is {name}"),
                ));
            }
        }
    }

    /// Records in `hits` what every rule finds in one field's tokens.
    fn scan(&self, field: FieldName, tokens: &[Token], hits: &mut [Option<RuleHit>]) {
        let kind = TextKind::of(field);
        let matches = self.phrases.find_all(tokens);
        let excluded: Vec<(usize, std::ops::Range<usize>)> = matches
            .iter()
            .filter(|m| self.phrase_rule[m.phrase].excludes)
            .map(|m| (self.phrase_rule[m.phrase].rule, m.start..m.start + m.len))
            .collect();
        for m in &matches {
            let PhraseOwner {
                rule: index,
                excludes,
            } = self.phrase_rule[m.phrase];
            let rule = &self.rules[index];
            let cancelled = || {
                excluded.iter().any(|(r, span)| {
                    *r == index && span.start < m.start + m.len && m.start < span.end
                })
            };
            if excludes || (!rule.fields.is_empty() && !rule.fields.contains(&kind)) || cancelled()
            {
                continue;
            }
            hits[index]
                .get_or_insert_with(RuleHit::default)
                .add(field, tokens, m);
        }
    }
}

impl RuleHit {
    fn add(&mut self, field: FieldName, tokens: &[Token], m: &PhraseMatch) {
        // A match overlapping one of the same rule ("me han cobrado",
        // "cobrado") is the same piece of evidence.
        if self
            .covered
            .is_some_and(|(f, end)| f == field && m.start < end)
        {
            return;
        }
        self.covered = Some((field, m.start + m.len));
        let word = matched_text(tokens, m);
        if !self.words.contains(&word) {
            self.words.push(word);
        }
        if !self.fields.contains(&field) {
            self.fields.push(field);
        }
    }
}

impl Default for Tagger {
    fn default() -> Self {
        Tagger::new(TagsConfig::default())
    }
}

impl Tool for Tagger {
    type Output = Tags;

    fn decide(&self, ticket: &Ticket<'_>, _ctx: &Context) -> Result<Tags, RecordError> {
        Ok(self.tag(ticket))
    }
}

impl CompiledRule {
    /// Each further distinct match adds evidence: 1 - (1 - c)^n.
    fn candidate(&self, hit: RuleHit) -> Candidate {
        let n = i32::try_from(hit.words.len()).unwrap_or(i32::MAX);
        let confidence = 1.0 - (1.0 - self.confidence).powi(n);
        // Written in place: this runs for every tag of every ticket.
        let mut detail = String::with_capacity(64);
        detail.push_str(self.kind.as_str());
        detail.push_str(" rule `");
        detail.push_str(&self.name);
        detail.push_str("` matched ");
        for (i, word) in hit.words.iter().enumerate() {
            detail.push_str(if i == 0 { "\"" } else { ", \"" });
            detail.push_str(word);
            detail.push('"');
        }
        detail.push_str(" in ");
        for (i, field) in hit.fields.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            let _ = write!(detail, "{separator}{field}");
        }
        Candidate {
            detail,
            tag: Tag {
                name: self.name.clone(),
                confidence: round3(confidence),
                source: Source {
                    kind: self.kind,
                    rule: self.name.clone(),
                    words: hit.words,
                    field: hit.fields[0].to_string(),
                },
            },
            also: Vec::new(),
        }
    }
}

impl Candidate {
    fn derived(
        name: &str,
        confidence: f64,
        kind: SourceKind,
        rule: String,
        field: &str,
        detail: String,
    ) -> Candidate {
        Candidate {
            tag: Tag {
                name: name.to_string(),
                confidence: round3(confidence),
                source: Source {
                    kind,
                    rule,
                    words: Vec::new(),
                    field: field.to_string(),
                },
            },
            detail,
            also: Vec::new(),
        }
    }

    /// Takes in other evidence for the same tag: the stronger source stays,
    /// the words of both are kept, and the weaker is named in the reason.
    fn absorb(&mut self, mut other: Candidate) {
        if other.tag.confidence > self.tag.confidence {
            std::mem::swap(self, &mut other);
        }
        for word in other.tag.source.words {
            if !self.tag.source.words.contains(&word) {
                self.tag.source.words.push(word);
            }
        }
        self.also.push(other.detail);
        self.also.extend(other.also);
    }

    /// "name: detail; also ...". The confidence is the tag's own field.
    fn reason(&self) -> String {
        let extra: usize = self.also.iter().map(|a| a.len() + 7).sum();
        let mut reason = String::with_capacity(self.tag.name.len() + 2 + self.detail.len() + extra);
        reason.push_str(&self.tag.name);
        reason.push_str(": ");
        reason.push_str(&self.detail);
        for other in &self.also {
            reason.push_str("; also ");
            reason.push_str(other);
        }
        reason
    }
}

/// One candidate per tag name, most confident first (then by name, so the
/// order is stable).
fn dedupe(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        match kept.iter_mut().find(|k| k.tag.name == candidate.tag.name) {
            Some(existing) => existing.absorb(candidate),
            None => kept.push(candidate),
        }
    }
    kept.sort_by(|a, b| {
        b.tag
            .confidence
            .total_cmp(&a.tag.confidence)
            .then_with(|| a.tag.name.cmp(&b.tag.name))
    });
    kept
}

/// An earlier tool's confidence, kept in [0, 1]; one it did not give counts as certain.
fn upstream_confidence(confidence: Option<f64>) -> f64 {
    confidence.map_or(1.0, |c| c.clamp(0.0, 1.0))
}

/// The ticket's language: its `language` field, else `sentiment.language`,
/// else detected from the customer's text.
fn resolve_language(
    ticket: &Ticket<'_>,
    sentiment: Option<&EarlierSentiment>,
    tokens: &[Token],
    texts: &[&str],
    fallback: Language,
) -> Language {
    ticket
        .language
        .as_deref()
        .and_then(Language::parse)
        .or_else(|| sentiment.and_then(|s| s.language).and_then(Language::parse))
        .unwrap_or_else(|| detect_language(tokens, &texts.join("\n"), fallback).language)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map, Value};

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    fn tags_of(tagger: &Tagger, ticket: Value) -> Tags {
        let map = object(ticket);
        tagger.tag(&Ticket::from_map(&map).unwrap())
    }

    fn find<'t>(tags: &'t Tags, name: &str) -> &'t Tag {
        tags.tags
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no tag {name} in {:?}", names(tags)))
    }

    fn names(tags: &Tags) -> Vec<&str> {
        tags.tags.iter().map(|t| t.name.as_str()).collect()
    }

    /// The default configuration with `custom: []` replaced by `custom_yaml`.
    fn with_custom(custom_yaml: &str) -> Tagger {
        let text = DEFAULT_CONFIG.replace("custom: []", custom_yaml);
        assert_ne!(
            text, DEFAULT_CONFIG,
            "the default has a `custom: []` line to replace"
        );
        Tagger::new(support_core::config::parse_yaml("test", &text).unwrap())
    }

    #[test]
    fn embedded_config_parses() {
        let config = TagsConfig::default();
        assert!(config.keywords.len() >= 12);
        assert!(config.custom.is_empty());
    }

    #[test]
    fn spanish_keywords_name_words_and_field() {
        let tags = tags_of(
            &Tagger::default(),
            json!({
                "subject": "Problema con la facturación",
                "description": "Me han cobrado dos veces y quiero un reembolso",
            }),
        );
        let billing = find(&tags, "billing");
        assert_eq!(billing.source.kind, SourceKind::Keyword);
        assert_eq!(billing.source.rule, "billing");
        assert_eq!(billing.source.field, "subject");
        assert_eq!(billing.source.words, ["facturacion", "me han cobrado"]);
        let refund = find(&tags, "refund");
        assert_eq!(refund.source.field, "description");
        assert_eq!(refund.source.words, ["reembolso"]);
        assert!(tags.reasons.iter().any(|r| r
            .contains("keyword rule `billing` matched \"facturacion\"")
            && r.contains("in subject, description")));
    }

    #[test]
    fn english_keywords_in_messages_name_the_message() {
        let tags = tags_of(
            &Tagger::default(),
            json!({
                "subject": "Help",
                "messages": [
                    {"role": "user", "content": "Hello"},
                    {"role": "agent", "content": "Have you tried to reset your password?"},
                    {"role": "user", "content": "I still can't log in and my package never arrived"}
                ]
            }),
        );
        let login = find(&tags, "login");
        assert_eq!(login.source.field, "messages[2].content");
        assert_eq!(login.source.words, ["log in"]);
        assert_eq!(
            find(&tags, "shipping").source.words,
            ["package", "never arrived"]
        );
        assert!(
            !names(&tags).contains(&"password"),
            "the agent's message is not the customer's text"
        );
    }

    #[test]
    fn exclude_phrases_cancel_the_matches_they_cover() {
        let tagger = Tagger::default();
        let urgent = |text: &str| {
            tags_of(&tagger, json!({ "description": text }))
                .tags
                .iter()
                .any(|t| t.name == "urgent")
        };
        assert!(urgent("Es urgente, por favor"));
        assert!(!urgent("No es urgente, cuando podáis"));
        assert!(urgent("This is urgent"));
        assert!(!urgent("It is not urgent at all"));
        assert!(
            urgent("No es urgente lo de la factura, pero lo otro es urgente"),
            "only the covered match is cancelled"
        );
        let newsletter = tags_of(
            &tagger,
            json!({"subject": "Quiero darme de baja del boletín"}),
        );
        assert_eq!(names(&newsletter), ["newsletter"]);
    }

    #[test]
    fn more_distinct_words_raise_confidence() {
        let tagger = Tagger::default();
        let one = tags_of(&tagger, json!({"subject": "invoice"}));
        let two = tags_of(
            &tagger,
            json!({"subject": "invoice", "description": "I was charged twice"}),
        );
        assert_eq!(find(&one, "billing").confidence, 0.7);
        assert_eq!(
            find(&two, "billing").confidence,
            round3(1.0 - 0.3f64.powi(2))
        );
    }

    #[test]
    fn dedupe_keeps_strongest_and_merges_words() {
        // `bug` has a strong rule (0.8) and a weak one (0.55).
        let tags = tags_of(
            &Tagger::default(),
            json!({"description": "The app crashes and shows an error"}),
        );
        assert_eq!(tags.tags.iter().filter(|t| t.name == "bug").count(), 1);
        let bug = find(&tags, "bug");
        assert_eq!(bug.confidence, 0.8);
        assert_eq!(bug.source.words, ["crashes", "error"]);
        let reason = tags
            .reasons
            .iter()
            .find(|r| r.starts_with("bug: "))
            .unwrap();
        assert!(
            reason.contains("; also keyword rule `bug` matched \"error\""),
            "{reason}"
        );
    }

    #[test]
    fn derived_tags_from_earlier_results_tier_and_channel() {
        let tags = tags_of(
            &Tagger::default(),
            json!({
                "subject": "Hola",
                "channel": "WhatsApp",
                "customer": {"tier": "VIP"},
                "sentiment": {"label": "negative", "score": -0.7, "frustration": 0.82,
                              "language": "es", "confidence": 0.9},
                "priority": {"level": "urgent", "score": 88, "confidence": 0.75},
                "category": {"name": "Billing", "subcategory": "invoice", "confidence": 0.66}
            }),
        );
        let expect = [
            ("negative", SourceKind::Sentiment, "sentiment.label", 0.9),
            (
                "frustrated",
                SourceKind::Sentiment,
                "sentiment.frustration",
                0.82,
            ),
            (
                "high-priority",
                SourceKind::Priority,
                "priority.level",
                0.75,
            ),
            ("vip", SourceKind::Tier, "customer.tier", 1.0),
            ("channel:whatsapp", SourceKind::Channel, "channel", 1.0),
            (
                "category:billing",
                SourceKind::Category,
                "category.name",
                0.66,
            ),
        ];
        for (name, kind, field, confidence) in expect {
            let tag = find(&tags, name);
            assert_eq!(
                (tag.source.kind, tag.source.field.as_str(), tag.confidence),
                (kind, field, confidence),
                "{name}"
            );
        }
        assert_eq!(find(&tags, "vip").source.rule, "tiers.vip");
        assert_eq!(
            names(&tags)[..2],
            ["channel:whatsapp", "vip"],
            "most confident first, then by name"
        );
    }

    #[test]
    fn derived_tags_need_the_threshold_and_a_mapped_value() {
        let tags = tags_of(
            &Tagger::default(),
            json!({
                "subject": "Thanks!",
                "customer": {"tier": "standard"},
                "sentiment": {"label": "neutral", "frustration": 0.59, "confidence": 0.8},
                "priority": {"level": "low"},
                "category": "not an object"
            }),
        );
        assert!(tags.tags.is_empty(), "{:?}", names(&tags));
        assert_eq!(tags.confidence, 1.0);
        assert_eq!(tags.reasons, ["no rule matched: no tags"]);
    }

    #[test]
    fn custom_rules_with_fields_and_conditions() {
        let tagger = with_custom(
            r#"custom:
  - name: callback-request
    confidence: 0.8
    phrases: ["call me", "llamadme", "me llamen"]
    fields: [messages]
    when: {channel: [WhatsApp], language: [es]}"#,
        );
        let matching = json!({
            "subject": "Pedido",
            "channel": "whatsapp",
            "messages": [{"role": "user", "content": "Por favor, que me llamen hoy"}]
        });
        let tag = find(&tags_of(&tagger, matching.clone()), "callback-request").clone();
        assert_eq!(tag.source.kind, SourceKind::Custom);
        assert_eq!(tag.source.field, "messages[0].content");
        assert_eq!(tag.source.words, ["me llamen"]);

        let mut by_email = matching.clone();
        by_email["channel"] = json!("email");
        assert!(tags_of(&tagger, by_email)
            .tags
            .iter()
            .all(|t| t.name != "callback-request"));

        let in_subject =
            json!({"subject": "Call me please", "channel": "whatsapp", "language": "es"});
        assert!(tags_of(&tagger, in_subject)
            .tags
            .iter()
            .all(|t| t.name != "callback-request"));

        let english = json!({
            "channel": "whatsapp",
            "messages": [{"role": "user", "content": "Please call me when you can, thanks"}]
        });
        assert!(
            tags_of(&tagger, english)
                .tags
                .iter()
                .all(|t| t.name != "callback-request"),
            "detected English fails the `language: [es]` condition"
        );
    }

    #[test]
    fn language_condition_prefers_ticket_then_sentiment() {
        let tagger = with_custom(
            r#"custom:
  - name: english-only
    confidence: 0.9
    phrases: [hola]
    when: {language: [en]}"#,
        );
        let spanish_text = json!({"subject": "hola, necesito ayuda con mi pedido"});
        assert!(tags_of(&tagger, spanish_text.clone()).tags.is_empty());
        let mut said_english = spanish_text.clone();
        said_english["sentiment"] = json!({"language": "en"});
        assert_eq!(
            names(&tags_of(&tagger, said_english.clone())),
            ["english-only"]
        );
        said_english["language"] = json!("es-ES");
        assert!(
            tags_of(&tagger, said_english).tags.is_empty(),
            "the ticket's own field wins"
        );
    }

    #[test]
    fn weak_tags_are_left_out_and_lower_the_confidence_of_none() {
        let tagger = with_custom(
            r#"custom:
  - name: maybe
    confidence: 0.2
    phrases: [perhaps]"#,
        );
        let tags = tags_of(&tagger, json!({"subject": "perhaps"}));
        assert!(tags.tags.is_empty());
        assert_eq!(tags.confidence, 0.8);
        assert!(
            tags.reasons[0]
                == "left out maybe: custom rule `maybe` matched \"perhaps\" in subject (confidence 0.2 below min_confidence 0.3)",
            "{:?}",
            tags.reasons
        );
    }

    #[test]
    fn overall_confidence_is_the_mean() {
        let tags = tags_of(
            &Tagger::default(),
            json!({"subject": "refund", "channel": "email"}),
        );
        assert_eq!(names(&tags), ["channel:email", "refund"]);
        assert_eq!(tags.confidence, 0.9);
    }

    #[test]
    fn bad_confidence_in_config_names_the_key() {
        let text = DEFAULT_CONFIG.replace("min_confidence: 0.3", "min_confidence: 3");
        let err = support_core::config::parse_yaml::<TagsConfig>("my.yaml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("min_confidence") && err.contains("not between 0 and 1"),
            "{err}"
        );
    }
}
