use super::*;
use serde_json::{json, Value};

use support_core::testing::object;

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

    let in_subject = json!({"subject": "Call me please", "channel": "whatsapp", "language": "es"});
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
