//! Sentiment of support tickets in Spanish and English: polarity (`score`,
//! `label`), emotional urgency (`frustration`) and, over a transcript, the
//! `trend` of the user's messages.
//!
//! Lexicon-based, so every decision names the words behind it: the
//! configuration's phrases are compiled once into one matcher per language,
//! and a ticket is tokenized and scanned once. A model trained on a team's
//! labelled texts ([`trained`]) may decide the label instead, reading the
//! lexicon's verdict beside the words.
pub use support_core::results::sentiment::{Label, LanguageSource, MessageScore, Sentiment, Trend};
mod config;
mod document;
pub mod evaluate;
mod frustration;
mod lexicon;
mod polarity;
mod reasons;
pub mod trained;
mod trend;

use std::cmp::Ordering;
use std::sync::OnceLock;

use support_core::{
    round3, text, Context, Decimal, FieldName, RecordError, TextField, Ticket, Tool,
};
use support_text::Language;

pub use config::{
    FrustrationConfig, FrustrationPhrases, FrustrationWeights, Languages, Lexicon, ScoringConfig,
    SentimentConfig, TrendConfig,
};
use document::Document;
use lexicon::{CompiledLexicon, Hits};
use polarity::{confidence, normalize, Polarity};
use support_text::Token;
use trained::SentimentModel;

pub const DEFAULT_CONFIG: &str = include_str!("../defaults/sentiment.yaml");
/// [`DEFAULT_CONFIG`] as JSON, converted by `build.rs`: what `Default` parses,
/// because JSON parses many times faster than YAML and this runs at every start.
pub const DEFAULT_CONFIG_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/sentiment.json"));
/// Both forms of the embedded default, as the command line loads them.
pub const EMBEDDED_CONFIG: support_core::config::Embedded = support_core::config::Embedded {
    yaml: DEFAULT_CONFIG,
    json: DEFAULT_CONFIG_JSON,
};

pub struct Analyzer {
    config: SentimentConfig,
    /// Each language's lexicon, compiled when a ticket first needs it: most
    /// tickets need one language, and compiling is most of a start-up.
    es: OnceLock<CompiledLexicon>,
    en: OnceLock<CompiledLexicon>,
    /// Decides label, score and confidence when given; frustration, the
    /// transcript's message scores and trend stay the lexicon's.
    model: Option<SentimentModel>,
}

/// What the lexicon finds in a ticket, before any model reads it.
struct LexiconPass<'t> {
    doc: Document<'t>,
    language: Language,
    language_source: LanguageSource,
    language_reason: String,
    detected_language: Option<&'static str>,
    polarity: Polarity,
    frustration: frustration::Frustration,
    score: f64,
    label: Label,
}

impl Analyzer {
    /// Configuration read from a user should pass [`SentimentConfig::validate`] first.
    pub fn new(config: SentimentConfig) -> Self {
        Analyzer {
            es: OnceLock::new(),
            en: OnceLock::new(),
            config,
            model: None,
        }
    }

    /// The trained model deciding labels, if any.
    pub fn model(&self) -> Option<&SentimentModel> {
        self.model.as_ref()
    }

    /// Lets `model` decide label, score and confidence.
    pub fn with_model(self, model: SentimentModel) -> Self {
        Analyzer {
            model: Some(model),
            ..self
        }
    }

    fn lexicon_pass<'t>(&self, ticket: &'t Ticket<'_>) -> LexiconPass<'t> {
        let texts: Vec<TextField> = ticket.customer_texts().collect();
        let doc = Document::new(ticket.analysis(), &texts);
        let (language, language_source, language_reason, hits, detected_language) =
            self.language_and_cues(ticket, &doc);
        let scoring = &self.config.scoring;
        let polarity = polarity::score(&doc, &hits.polarity, scoring, &self.config.emoji);
        let frustration = frustration::assess(&doc, &hits.frustration, &self.config.frustration);
        let score = normalize(polarity.segment_sums.iter().sum(), scoring.normalization);
        LexiconPass {
            label: Label::of(score, scoring.neutral_band),
            score,
            doc,
            language,
            language_source,
            language_reason,
            detected_language,
            polarity,
            frustration,
        }
    }

    /// The tokens a trained model reads: the ticket's words and the lexicon's cues.
    fn cue_tokens(pass: &LexiconPass<'_>) -> Vec<Token> {
        trained::with_cues(
            &pass.doc.tokens,
            &pass.polarity,
            pass.label,
            pass.score,
            pass.frustration.value,
            pass.doc.segments.iter().any(|s| s.asks),
        )
    }

    /// [`Analyzer::cue_tokens`] of a ticket, for training.
    pub(crate) fn model_tokens(&self, ticket: &Ticket<'_>) -> Vec<Token> {
        Analyzer::cue_tokens(&self.lexicon_pass(ticket))
    }

    pub fn analyze(&self, ticket: &Ticket<'_>) -> Sentiment {
        let pass = self.lexicon_pass(ticket);
        let scoring = &self.config.scoring;
        let band = scoring.neutral_band;
        // A model, when given, decides; the lexicon's own label still explains its evidence.
        let (label, score, confidence, model_reason) = match &self.model {
            Some(model) => {
                let verdict = model.decide(ticket, &Analyzer::cue_tokens(&pass));
                (
                    verdict.label,
                    verdict.score,
                    verdict.probability,
                    Some(verdict.reason),
                )
            }
            None => (
                pass.label,
                pass.score,
                confidence(pass.score, pass.label, band, &pass.polarity.evidence),
                None,
            ),
        };
        let messages: Vec<MessageScore> = pass
            .doc
            .segments
            .iter()
            .zip(&pass.polarity.segment_sums)
            .filter_map(|(segment, &sum)| match segment.field {
                FieldName::Message(index) => {
                    let score = normalize(sum, scoring.normalization);
                    Some(MessageScore {
                        index,
                        score: round3(score),
                        label: Label::of(score, band),
                    })
                }
                _ => None,
            })
            .collect();
        let message_scores: Vec<f64> = messages.iter().map(|m| m.score).collect();
        let trend = trend::trend(&message_scores, self.config.trend.dead_band);

        let mut reasons: Vec<String> = model_reason.into_iter().collect();
        reasons.extend(reasons::polarity(
            &pass.doc,
            &pass.polarity.evidence,
            pass.label,
        ));
        reasons.extend(pass.frustration.reasons);
        if let Some((trend, change)) = trend {
            reasons.push(text!(
                "trend: {} over {} user messages (fitted change {:+.2}; first {:+.2}, last {:+.2})",
                trend.as_str(),
                message_scores.len(),
                change,
                message_scores[0],
                message_scores[message_scores.len() - 1],
            ));
        }
        reasons.push(pass.language_reason);
        reasons.extend(ticket.text_cut().map(|cut| cut.to_string()));

        Sentiment {
            label,
            score: round3(score),
            frustration: round3(pass.frustration.value),
            language: pass.language,
            detected_language: pass.detected_language.map(str::to_string),
            language_source: pass.language_source,
            confidence: round3(confidence),
            trend: trend.map(|(t, _)| t),
            messages,
            reasons,
        }
    }

    fn lexicon(&self, language: Language) -> &CompiledLexicon {
        let (compiled, lexicon) = match language {
            Language::Es => (&self.es, &self.config.languages.es),
            Language::En => (&self.en, &self.config.languages.en),
        };
        compiled.get_or_init(|| CompiledLexicon::new(lexicon))
    }

    /// The ticket's language when it gives es or en, else the detected one,
    /// and the cues that language's lexicon finds. A text with no function
    /// word of either language ("¡Fantástico!") goes to the lexicon that
    /// finds more polar phrases in it.
    fn language_and_cues(
        &self,
        ticket: &Ticket<'_>,
        doc: &Document,
    ) -> (Language, LanguageSource, String, Hits, Option<&'static str>) {
        let given = ticket
            .language
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty());
        if let Some(language) = given.and_then(Language::parse) {
            let reason = text!("language: {} (given)", language.code());
            return (
                language,
                LanguageSource::Given,
                reason,
                self.lexicon(language).find(doc),
                None,
            );
        }
        let unsupported = given
            .map(|g| text!("given '{g}' is not es or en; "))
            .unwrap_or_default();
        let detection = ticket
            .language_evidence()
            .detect(self.config.fallback_language);
        let other = detection.other.map(|o| o.code);
        // A language without lexicons is named, and scored with the closer one.
        let unsupported = match detection.other {
            Some(o) => text!(
                "{unsupported}the text is {} (confidence {:.2}), which has no lexicon; ",
                o.code,
                Decimal(o.confidence)
            ),
            None => unsupported,
        };
        // Detection gives exactly 0.5 when the evidence is even (usually none at all).
        if detection.confidence > 0.5 {
            let language = detection.language;
            let reason = text!(
                "language: {unsupported}{} detected (confidence {:.2})",
                language.code(),
                Decimal(detection.confidence)
            );
            return (
                language,
                LanguageSource::Detected,
                reason,
                self.lexicon(language).find(doc),
                other,
            );
        }
        let es = self.lexicon(Language::Es).find(doc);
        let en = self.lexicon(Language::En).find(doc);
        let (es_count, en_count) = (es.polar_count(), en.polar_count());
        let (language, hits) = match es_count.cmp(&en_count) {
            Ordering::Greater => (Language::Es, es),
            Ordering::Less => (Language::En, en),
            Ordering::Equal => match self.config.fallback_language {
                Language::Es => (Language::Es, es),
                Language::En => (Language::En, en),
            },
        };
        let reason = text!(
            "language: {unsupported}{} chosen by lexicon matches (es {es_count}, en {en_count}; no function words to detect it)",
            language.code()
        );
        (language, LanguageSource::Detected, reason, hits, other)
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer::new(SentimentConfig::default())
    }
}

impl Tool for Analyzer {
    type Output = Sentiment;

    fn decide(&self, ticket: &Ticket<'_>, _ctx: &Context) -> Result<Sentiment, RecordError> {
        Ok(self.analyze(ticket))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use std::sync::OnceLock;

    fn analyzer() -> &'static Analyzer {
        static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
        ANALYZER.get_or_init(Analyzer::default)
    }

    use support_core::testing::object;

    fn analyze_json(value: Value) -> Sentiment {
        let map = object(value);
        analyzer().analyze(&Ticket::from_map(&map).unwrap())
    }

    fn analyze(text: &str) -> Sentiment {
        analyze_json(json!({ "description": text }))
    }

    fn reasons(s: &Sentiment) -> String {
        s.reasons.join(" | ")
    }

    #[test]
    fn embedded_config_parses_and_is_valid() {
        let config = SentimentConfig::default();
        config.validate().unwrap();
        assert!(config.languages.es.positive.contains_key("gracias"));
        assert!(config.languages.en.negators.iter().any(|n| n == "not"));
    }

    #[test]
    fn unusable_config_values_are_refused_by_key() {
        let mut config = SentimentConfig::default();
        config.scoring.neutral_band = 1.0;
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("`scoring.neutral_band` is 1"), "{err}");
        let mut config = SentimentConfig::default();
        config.frustration.weights.threat = 1.5;
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("frustration.weights.threat"));
    }

    #[test]
    fn config_errors_name_the_bad_key() {
        let bad = DEFAULT_CONFIG.replace("emoji: {", "emoji: {\n  \"ab\": 1.0,");
        let err = support_core::config::parse_yaml::<SentimentConfig>("test.yaml", &bad)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`ab` is not a single emoji or emoticon"),
            "{err}"
        );
        let twice = DEFAULT_CONFIG.replace("thank: 2.0,", "thank: 2.0, thank: 1.0,");
        let err = support_core::config::parse_yaml::<SentimentConfig>("test.yaml", &twice)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`thank` is listed twice"), "{err}");
    }

    #[test]
    fn negation_flips_polarity_in_both_languages() {
        let s = analyze("El pago no funciona desde ayer");
        assert_eq!(s.label, Label::Negative, "{s:?}");
        assert!(
            reasons(&s).contains("'no funciona' (negated 'funciona')"),
            "{}",
            reasons(&s)
        );
        assert_eq!(analyze("La app no es buena").label, Label::Negative);
        assert_eq!(
            analyze("The new app never works on my phone").label,
            Label::Negative
        );
        assert_eq!(analyze("The service is not good").label, Label::Negative);
        // Negative concord: "nada" repeats the negation of "funciona", it does not flip "horas".
        let concord = analyze("La web no carga y no funciona nada desde hace horas");
        assert!(
            !reasons(&concord).contains("positive"),
            "{}",
            reasons(&concord)
        );
        assert!(
            reasons(&concord).contains("'no funciona' (negated 'funciona')"),
            "{}",
            reasons(&concord)
        );
    }

    #[test]
    fn negated_negative_is_mildly_positive() {
        let not_bad = analyze("The new seats are not bad");
        assert_eq!(not_bad.label, Label::Positive, "{not_bad:?}");
        assert!(not_bad.score < analyze("The new seats are good").score);
        let nada_mal = analyze("El servicio no estuvo nada mal");
        assert_eq!(nada_mal.label, Label::Positive, "{nada_mal:?}");
    }

    #[test]
    fn intensifiers_and_downtoners_scale_the_next_word() {
        let plain = analyze("La entrega fue lenta").score;
        let very = analyze("La entrega fue muy lenta");
        let bit = analyze("La entrega fue un poco lenta").score;
        assert!(
            very.score < plain && plain < bit && bit < 0.0,
            "{} {plain} {bit}",
            very.score
        );
        assert!(
            reasons(&very).contains("'muy lenta' (intensified)"),
            "{}",
            reasons(&very)
        );
        let en_plain = analyze("The agent was helpful").score;
        let en_very = analyze("The agent was extremely helpful").score;
        let en_bit = analyze("The delivery was a bit slow");
        assert!(en_very > en_plain, "{en_very} {en_plain}");
        assert!(
            reasons(&en_bit).contains("(softened)"),
            "{}",
            reasons(&en_bit)
        );
        assert!(en_bit.score > analyze("The delivery was slow").score);
    }

    #[test]
    fn emoji_and_emoticons_count() {
        assert_eq!(analyze("Mi pedido 😡").label, Label::Negative);
        assert_eq!(analyze("my order :(").label, Label::Negative);
        let happy = analyze("all sorted :) 👍");
        assert_eq!(happy.label, Label::Positive);
        assert!(reasons(&happy).contains("👍"), "{}", reasons(&happy));
        assert_eq!(analyze("llegó todo 😊🙏").label, Label::Positive);
    }

    #[test]
    fn spanish_without_accents_reads_the_same() {
        let accented = analyze("Pésima atención, qué decepción");
        let plain = analyze("pesima atencion, que decepcion");
        assert_eq!(accented.label, Label::Negative);
        assert_eq!(accented.score, plain.score);
        assert_eq!(plain.language, Language::Es);
    }

    #[test]
    fn repeated_contact_is_frustration_in_both_languages() {
        for text in [
            "Es la tercera vez que escribo por el reembolso",
            "Otra vez sin respuesta de soporte",
            "Ya van dos veces que pido la factura",
            "This is the third time I contact you about my refund",
            "Charged again for the same order",
        ] {
            let s = analyze(text);
            assert!(s.frustration > 0.0, "{text}: {s:?}");
            assert!(
                reasons(&s).contains("frustration: repeated contact"),
                "{text}: {}",
                reasons(&s)
            );
        }
        assert_eq!(analyze("Thanks again for the quick fix").frustration, 0.0);
    }

    #[test]
    fn threats_to_leave_are_frustration() {
        for (text, words) in [
            (
                "Si no me devuelven el dinero voy a cancelar la cuenta",
                "'voy a cancelar'",
            ),
            ("Me voy a la competencia", "'me voy a la competencia'"),
            (
                "Pondré una denuncia y hablaré con mi abogado",
                "'denuncia', 'abogado'",
            ),
            (
                "Fix it today or I'll cancel my subscription",
                "'i'll cancel'",
            ),
            ("I am switching to another provider", "'switching to'"),
        ] {
            let s = analyze(text);
            assert!(s.frustration >= 0.4, "{text}: {s:?}");
            assert!(
                reasons(&s).contains(&format!("threat to cancel, leave or complain {words}")),
                "{text}: {}",
                reasons(&s)
            );
        }
    }

    #[test]
    fn shouting_exclamations_and_insults_are_frustration() {
        let shouted = analyze("NADIE RESPONDE en soporte");
        assert!(
            reasons(&shouted).contains("frustration: shouted 'NADIE', 'RESPONDE'"),
            "{}",
            reasons(&shouted)
        );
        let bangs = analyze("Where is my package!!!");
        assert!(
            reasons(&bangs).contains("frustration: exclamation run '!!!'"),
            "{}",
            reasons(&bangs)
        );
        let insult = analyze("Sois unos inútiles");
        assert!(
            reasons(&insult).contains("frustration: insult 'inutiles'"),
            "{}",
            reasons(&insult)
        );
        assert!(analyze("you idiots lost my bag").frustration > 0.0);
        // Airport codes and short acronyms are not shouting.
        assert_eq!(
            analyze("Flight from MAD to LGA, please DM me").frustration,
            0.0
        );
    }

    #[test]
    fn frustration_is_separate_from_polarity() {
        let calm = analyze("The delivery arrived damaged.");
        assert_eq!(calm.label, Label::Negative);
        assert_eq!(calm.frustration, 0.0);
        let all = analyze("THIRD TIME writing!!! I'll cancel, you idiots");
        let some = analyze("Third time writing about this");
        assert!(
            all.frustration > some.frustration && all.frustration <= 1.0,
            "{} {}",
            all.frustration,
            some.frustration
        );
    }

    #[test]
    fn transcript_trend_worsening_and_improving() {
        let worsening = analyze_json(json!({
            "subject": "Pedido 123",
            "messages": [
                {"role": "user", "content": "Hola, mi pedido no ha llegado, ¿me ayudáis? Gracias"},
                {"role": "agent", "content": "Lo revisamos"},
                {"role": "user", "content": "Sigue sin llegar, esto es un desastre"},
                {"role": "user", "content": "Es la tercera vez que escribo, pésimo servicio, voy a cancelar"}
            ]
        }));
        assert_eq!(worsening.trend, Some(Trend::Worsening), "{worsening:?}");
        let indexes: Vec<usize> = worsening.messages.iter().map(|m| m.index).collect();
        assert_eq!(indexes, [0, 2, 3], "agent messages are not scored");
        assert!(
            reasons(&worsening).contains("trend: worsening over 3 user messages"),
            "{}",
            reasons(&worsening)
        );

        let improving = analyze_json(json!({
            "messages": [
                {"role": "user", "content": "My refund never arrived, this is terrible"},
                {"role": "agent", "content": "Sorry, we processed it now"},
                {"role": "user", "content": "Got it, thank you so much, great service!"}
            ]
        }));
        assert_eq!(improving.trend, Some(Trend::Improving), "{improving:?}");
        assert!(improving.messages[0].score < 0.0 && improving.messages[1].score > 0.0);

        let steady = analyze_json(json!({
            "messages": [
                {"role": "user", "content": "The app crashes"},
                {"role": "user", "content": "The app still crashes"}
            ]
        }));
        assert_eq!(steady.trend, Some(Trend::Stable), "{steady:?}");
    }

    #[test]
    fn no_trend_without_two_user_messages() {
        let s = analyze("Terrible service");
        assert_eq!(s.trend, None);
        assert!(s.messages.is_empty());
        let one = analyze_json(
            json!({"messages": [{"role": "user", "content": "hola"}, {"role": "agent", "content": "hola"}]}),
        );
        assert_eq!(one.trend, None);
        assert_eq!(one.messages.len(), 1);
    }

    #[test]
    fn a_language_without_lexicons_is_named() {
        let pt = analyze("Olá, não consigo acessar minha conta desde ontem, já tentei tudo");
        assert_eq!(pt.detected_language.as_deref(), Some("pt"));
        assert!(reasons(&pt).contains("the text is pt"), "{:?}", pt.reasons);
        let es = analyze("Hola, no puedo acceder a mi cuenta desde ayer, ya lo intenté todo");
        assert_eq!(es.detected_language, None);
        let given = analyze_json(
            json!({"description": "Olá, não consigo acessar minha conta", "language": "es"}),
        );
        assert_eq!(
            given.detected_language, None,
            "a given es or en is not second-guessed"
        );
    }

    #[test]
    fn given_language_is_used_and_otherwise_detected() {
        let given =
            analyze_json(json!({"description": "The refund never arrived", "language": "es-MX"}));
        assert_eq!(
            (given.language, given.language_source),
            (Language::Es, LanguageSource::Given)
        );
        assert!(reasons(&given).contains("language: es (given)"));

        let detected = analyze("El reembolso nunca llegó y nadie me contesta");
        assert_eq!(
            (detected.language, detected.language_source),
            (Language::Es, LanguageSource::Detected)
        );
        assert_eq!(detected.label, Label::Negative);

        let unsupported = analyze_json(
            json!({"description": "I still have no answer from you", "language": "fr"}),
        );
        assert_eq!(
            (unsupported.language, unsupported.language_source),
            (Language::En, LanguageSource::Detected)
        );
        assert!(
            reasons(&unsupported).contains("given 'fr' is not es or en"),
            "{}",
            reasons(&unsupported)
        );
    }

    #[test]
    fn text_without_function_words_goes_to_the_lexicon_that_knows_it() {
        // No function word, accent or ¡ to tell the language by.
        let s = analyze("Fantastico, genial");
        assert_eq!(
            (s.language, s.label),
            (Language::Es, Label::Positive),
            "{s:?}"
        );
        assert!(
            reasons(&s).contains("chosen by lexicon matches"),
            "{}",
            reasons(&s)
        );
    }

    #[test]
    fn questions_and_politeness_are_not_strong_sentiment() {
        assert_eq!(analyze("Is my flight delayed?").label, Label::Neutral);
        assert_eq!(
            analyze("¿Podéis confirmar mi reserva? Gracias").label,
            Label::Neutral
        );
        assert_eq!(
            analyze("¿A qué hora abre la oficina?").label,
            Label::Neutral
        );
        let none = analyze("Order 12345 placed on Monday");
        assert_eq!(none.label, Label::Neutral);
        assert!(reasons(&none).contains("neutral: no polar words or emoji"));
    }

    #[test]
    fn confidence_grows_with_agreeing_evidence() {
        let strong = analyze("Horrible, terrible service, the worst company ever");
        let weak = analyze("The delivery was slow");
        let mixed = analyze("Great staff but terrible delays");
        assert!(
            strong.confidence > weak.confidence,
            "{} {}",
            strong.confidence,
            weak.confidence
        );
        assert!(
            strong.confidence > mixed.confidence,
            "{} {}",
            strong.confidence,
            mixed.confidence
        );
        for s in [&strong, &weak, &mixed] {
            assert!((0.0..=1.0).contains(&s.confidence) && (-1.0..=1.0).contains(&s.score));
        }
    }

    #[test]
    fn runs_as_a_tool_adding_one_key() {
        let input = json!({"id": "T-1", "subject": "No funciona", "extra": {"kept": true}});
        let input = input.to_string();
        let record = support_core::Record::parse(input.as_bytes()).unwrap();
        let ctx = Context {
            now: "2024-05-01T10:00:00Z".parse().unwrap(),
        };
        let output = support_core::apply_to_record(analyzer(), &record, &ctx).unwrap();
        let record: Value = serde_json::from_slice(&output).unwrap();
        assert_eq!(record["extra"], json!({"kept": true}));
        let out = &record["sentiment"];
        assert_eq!(out["label"], "negative");
        assert_eq!(out["language_source"], "detected");
        assert!(out.get("trend").is_none() && out.get("messages").is_none());
    }
}
