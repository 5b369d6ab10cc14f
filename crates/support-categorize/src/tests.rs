use support_core::Ticket;
use support_model::{train, Example, TrainOptions};
use support_remote::test_server::{Behavior, TestServer};

use super::*;

fn categorize_with(categorizer: &Categorizer, text: &str) -> Category {
    categorizer.categorize(&Ticket::from_text(text))
}

fn embedded() -> Categorizer {
    Categorizer::embedded(CategorizeConfig::default()).unwrap()
}

#[test]
fn every_default_rule_applies_to_the_embedded_model() {
    let c = embedded();
    assert!(
        c.rules.skipped.is_empty(),
        "rules naming unknown categories: {:?}",
        c.rules.skipped
    );
    // The nine categories of the taxonomy group all 27 intents.
    assert_eq!(
        c.category_names,
        [
            "billing",
            "refund",
            "order",
            "account",
            "technical",
            "security",
            "complaint",
            "feature_request",
            "general"
        ]
    );
}

#[test]
fn spanish_tickets_reach_the_right_category_through_rules() {
    let c = embedded();
    let cases = [
        (
            "Quiero que me devuelvan el dinero, necesito el reembolso ya",
            "refund",
        ),
        (
            "Todavia no me ha llegado el pedido que hice hace dos semanas",
            "order",
        ),
        ("Necesito una copia de la factura de octubre", "billing"),
        (
            "Olvidé mi contraseña y no puedo entrar a mi cuenta",
            "account",
        ),
        (
            "olvide mi contrasena y no puedo entrar a mi cuenta",
            "account",
        ),
        (
            "Me he mudado y quiero cambiar la dirección de envío",
            "order",
        ),
        (
            "¿Hay penalización si cancelo antes de tiempo? ¿Cuánto cuesta cancelar?",
            "billing",
        ),
        ("Quiero darme de baja del boletín de noticias", "general"),
        ("Quiero hablar con un agente humano, por favor", "general"),
        ("Quiero poner una queja por el pésimo servicio", "complaint"),
        (
            "¿Qué opciones de envío tienen y cuál es el plazo de entrega?",
            "order",
        ),
        (
            "Me han cobrado dos veces, el pago salió duplicado en la tarjeta",
            "billing",
        ),
        // Categories no intent of the model covers.
        ("La aplicación se cierra sola y no funciona", "technical"),
        (
            "Me han hackeado la cuenta y no reconozco los pedidos",
            "security",
        ),
        (
            "Sugerencia: estaría bien tener modo oscuro",
            "feature_request",
        ),
    ];
    for (text, expected) in cases {
        let category = categorize_with(&c, text);
        assert_eq!(category.name, expected, "{text}: {category:?}");
        assert!(
            category.reasons.iter().any(|r| r.starts_with("rule ")),
            "{text}: reasons name the rule"
        );
    }
}

#[test]
fn english_tickets_are_decided_by_the_model_with_its_words() {
    let c = embedded();
    let category = categorize_with(
        &c,
        "I was charged twice for my order and the payment failed",
    );
    assert_eq!(category.name, "billing");
    let category = categorize_with(&c, "how do I track the package I ordered last week");
    assert_eq!(category.name, "order");
    assert_eq!(category.subcategory.as_deref(), Some("track_order"));
    assert!(
        category.reasons.iter().any(|r| r.starts_with("model: ")),
        "{:?}",
        category.reasons
    );
    assert!(
        category.alternatives.len() == 3
            && category.alternatives[0].confidence <= category.confidence
    );
}

#[test]
fn only_the_taxonomys_categories_and_the_models_intents_can_come_out() {
    let c = embedded();
    for text in ["asdf qwerty", "La app va lenta", "🙂", "x", "error error"] {
        let category = categorize_with(&c, text);
        assert!(
            c.category_names.contains(&category.name),
            "{text}: {}",
            category.name
        );
        if let Some(sub) = category.subcategory {
            assert!(c.model().labels().contains(&sub), "{text}: {sub}");
        }
    }
}

#[test]
fn a_category_defined_twice_is_refused() {
    let mut config = CategorizeConfig::default();
    config.categories.push(config.categories[0].clone());
    let err = Categorizer::embedded(config).err().unwrap().to_string();
    assert!(err.contains("`billing` is defined twice"), "{err}");
}

#[test]
fn the_lexical_path_says_why_in_every_ticket() {
    let c = embedded().with_embedding_model(None).unwrap();
    let category = categorize_with(&c, "La app se cierra");
    assert!(
        category
            .reasons
            .iter()
            .any(|r| r
                .contains("the embedding model is not installed (run `scripts/setup-models.sh`)")),
        "{:?}",
        category.reasons
    );
    assert_eq!(category.source, "model+rules");
}

fn config_with(yaml_rules: &str, threshold: f64) -> CategorizeConfig {
    let mut config = CategorizeConfig::default();
    config.rules = support_core::config::parse_yaml("test", yaml_rules).unwrap();
    config.review_threshold = threshold;
    config
}

#[test]
fn a_force_rule_decides_and_unknown_categories_are_skipped() {
    let rules = r#"
- {name: legal, category: refund, intent: get_refund, action: force, weight: 0.97, phrases: ["abogado"]}
- {name: ghost, category: astrology, action: force, weight: 1.0, phrases: ["abogado"]}
"#;
    let c = Categorizer::embedded(config_with(rules, 0.5)).unwrap();
    assert_eq!(c.rules.skipped, ["ghost"]);
    let category = categorize_with(&c, "My abogado will call about the refund");
    assert_eq!(
        (category.name.as_str(), category.subcategory.as_deref()),
        ("refund", Some("get_refund"))
    );
    assert_eq!(category.confidence, 0.97);
    assert_eq!(category.source, "rules");
}

#[test]
fn low_confidence_needs_review() {
    let c = Categorizer::embedded(config_with("[]", 0.999)).unwrap();
    let category = categorize_with(&c, "La app va muy lenta al cargar los informes");
    assert!(category.needs_review);
    assert!(category
        .reasons
        .iter()
        .any(|r| r.contains("review threshold")));
    let relaxed = Categorizer::embedded(config_with("[]", 0.0)).unwrap();
    assert!(!categorize_with(&relaxed, "La app va muy lenta").needs_review);
}

#[test]
fn a_model_trained_on_categories_gives_categories_without_subcategory() {
    let examples: Vec<Example> = [
        ("my invoice is wrong", "billing"),
        ("factura incorrecta", "billing"),
        ("the app crashes", "technical"),
        ("la aplicacion se cierra", "technical"),
    ]
    .into_iter()
    .map(|(t, l)| Example {
        text: t.into(),
        label: l.into(),
    })
    .collect();
    let model = train(&examples, &TrainOptions::default()).unwrap();
    let c = Categorizer::new(config_with("[]", 0.5), model, "team.model".into()).unwrap();
    let category = categorize_with(&c, "the app crashes every time");
    assert_eq!(category.name, "technical");
    assert_eq!(category.subcategory, None);
    assert_eq!(category.model, "team.model");
}

fn remote_config(dir: &std::path::Path) -> CategorizeConfig {
    let mut config = CategorizeConfig::default();
    config.remote.retries = 0;
    config.remote.timeout_ms = 500;
    config.remote.cache_ttl_secs = 0;
    config.remote.state_dir = Some(dir.to_path_buf());
    config
}

#[test]
fn remote_answers_are_used_and_failures_fall_back_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start(vec![
        Behavior::Answer(r#"{"label":"get_refund","confidence":0.88,"model":"bert-v2"}"#.into()),
        Behavior::Status(503),
        Behavior::Answer(r#"{"label":"horoscope","confidence":0.99}"#.into()),
    ]);
    let c = Categorizer::embedded(remote_config(dir.path()))
        .unwrap()
        .with_remote(&server.url);
    let first = categorize_with(&c, "I would like to know about my invoice");
    assert_eq!(first.name, "refund");
    assert_eq!(first.model, "remote:bert-v2");
    assert!(first.source.starts_with("remote"));

    let second = categorize_with(&c, "I would like to know about my invoice");
    assert_eq!(second.name, "billing", "the local model answers");
    assert!(
        second.reasons[0].contains("remote classifier unavailable (service answered HTTP 503)"),
        "{:?}",
        second.reasons
    );

    let third = categorize_with(&c, "I would like to know about my invoice");
    assert_eq!(third.name, "billing");
    assert!(
        third.reasons[0].contains("horoscope"),
        "{:?}",
        third.reasons
    );
}
