use std::sync::LazyLock;

use serde_json::{json, Map, Value};

use super::*;
use support_core::results::sentiment::EarlierSentiment;

const NOW: &str = "2026-11-24T12:00:00Z";

static DEFAULT: LazyLock<Prioritizer> = LazyLock::new(Prioritizer::default);

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

use support_core::testing::object;

/// A neutral earlier sentiment, so scores do not depend on the sentiment analyzer.
fn neutral(v: Value) -> Map<String, Value> {
    let mut m = object(v);
    m.entry("sentiment")
        .or_insert(json!({"score": 0.0, "frustration": 0.0}));
    m
}

/// Priority of a ticket that carries its earlier sentiment result (priority
/// run alone computes a missing one: `support_suite::compose`).
fn decide_with(p: &Prioritizer, m: &Map<String, Value>) -> Priority {
    let ticket = Ticket::from_map(m).unwrap();
    let sentiment = ticket
        .reading::<EarlierSentiment>()
        .as_ref()
        .and_then(SentimentReading::earlier)
        .expect("the test ticket has a sentiment result");
    p.prioritize(&ticket, &sentiment, ts(NOW))
}

/// Priority of a ticket with neutral sentiment, default config.
fn priority(v: Value) -> Priority {
    decide_with(&DEFAULT, &neutral(v))
}

fn points(p: &Priority, kind: FactorKind) -> f64 {
    p.factors
        .iter()
        .filter(|f| f.kind == kind)
        .map(|f| f.points)
        .sum()
}

fn impact_causes(p: &Priority) -> Vec<&str> {
    p.factors
        .iter()
        .filter(|f| f.kind == FactorKind::Impact)
        .map(|f| f.cause.as_str())
        .collect()
}

#[test]
fn impact_words_are_found_in_both_languages() {
    let cases = [
        (
            "security breach",
            "Someone hacked my account",
            "Me hackearon la cuenta ayer",
        ),
        (
            "outage",
            "Total outage, the site is down for everyone",
            "Caída del servicio desde las 9",
        ),
        (
            "outage",
            "Nothing works since the update",
            "No funciona nada desde la actualización",
        ),
        (
            "data loss",
            "We had data loss after the migration",
            "Pérdida de datos tras la migración",
        ),
        (
            "payment problem",
            "I was charged twice this month",
            "Tengo un cobro duplicado en la tarjeta",
        ),
        (
            "payment problem",
            "Payment failed with my card",
            "Pago rechazado con mi tarjeta",
        ),
        (
            "cannot access",
            "I can't log in since this morning",
            "No puedo acceder a mi cuenta",
        ),
        (
            "business impact",
            "The whole team is blocked",
            "Nadie puede trabajar en toda la empresa",
        ),
        (
            "stated urgency",
            "Please answer, it is urgent",
            "Es urgente, respondan",
        ),
        (
            "something broken",
            "The export button is broken",
            "El botón de exportar no funciona",
        ),
    ];
    for (group, english, spanish) in cases {
        for text in [english, spanish] {
            let p = priority(json!({"description": text}));
            assert!(
                impact_causes(&p)
                    .iter()
                    .any(|c| c.starts_with(&format!("{group}: ")) && c.ends_with("in description")),
                "{text:?} should be {group}: {:?}",
                p.factors
            );
        }
    }
}

#[test]
fn impact_names_the_field_and_words() {
    let p = priority(json!({"subject": "CAÍDA DEL SERVICIO", "description": "Hola"}));
    assert_eq!(
        impact_causes(&p),
        ["outage: \"caida del servicio\" in subject"]
    );
    assert_eq!(points(&p, FactorKind::Impact), 45.0);
    assert!(
        p.reasons
            .iter()
            .any(|r| r == "Outage: \"caida del servicio\" in subject (+45)."),
        "{:?}",
        p.reasons
    );
}

#[test]
fn ticket_without_impact_words_stays_low() {
    for text in [
        "Could you tell me the rate limits of the API?",
        "¿Puedo cambiar la dirección de envío?",
    ] {
        let p = priority(json!({"description": text, "channel": "email"}));
        assert!(impact_causes(&p).is_empty(), "{text}: {:?}", p.factors);
        assert_eq!((p.level, p.score), (Level::Low, 10.0), "{text}");
    }
}

#[test]
fn impact_points_are_capped_strongest_first() {
    let p =
        priority(json!({"description": "Security breach, outage and data loss: hackearon todo"}));
    let impact: Vec<f64> = p
        .factors
        .iter()
        .filter(|f| f.kind == FactorKind::Impact)
        .map(|f| f.points)
        .collect();
    assert_eq!(
        impact,
        [50.0, 10.0, 0.0],
        "security (50) first, then the rest up to the cap of 60"
    );
    assert!(impact_causes(&p)[1].ends_with(", capped"));
}

#[test]
fn impact_floor_lifts_the_level_above_the_score() {
    for text in ["My account was hacked", "Me hackearon la cuenta"] {
        let p = priority(json!({"description": text}));
        assert_eq!(p.score, 60.0, "{text}: base 10 + security 50");
        assert_eq!(
            p.level,
            Level::Urgent,
            "{text}: security breach sets a floor of urgent"
        );
        assert!(
            p.reasons[0].contains("is high (high from 45), ")
                && p.reasons[0].contains("floor of urgent"),
            "{}",
            p.reasons[0]
        );
    }
}

#[test]
fn earlier_sentiment_result_is_used_when_present() {
    for text in [
        "This is the third time I write!!!",
        "¡Es la tercera vez que escribo!",
    ] {
        let p = priority(json!({
            "description": text,
            "sentiment": {"label": "negative", "score": -0.8, "frustration": 0.5, "trend": "worsening"}
        }));
        assert_eq!(points(&p, FactorKind::Negativity), 12.0, "15 × 0.8");
        assert_eq!(points(&p, FactorKind::Frustration), 10.0, "20 × 0.5");
        assert!(p
            .factors
            .iter()
            .any(|f| f.cause == "frustration 0.5 (from the earlier sentiment result)"));
    }
}

#[test]
fn customer_tier_boosts_vip_enterprise_premium() {
    for text in ["I can't log in", "No puedo acceder"] {
        let by_tier =
            |tier: &str| priority(json!({"description": text, "customer": {"tier": tier}}));
        let standard = by_tier("standard");
        let vip = by_tier("VIP");
        assert_eq!(points(&vip, FactorKind::Tier), 20.0);
        assert_eq!(vip.score - standard.score, 20.0);
        assert!(
            vip.level > standard.level,
            "{text}: {:?} vs {:?}",
            vip.level,
            standard.level
        );
        assert_eq!(points(&by_tier("enterprise"), FactorKind::Tier), 15.0);
        assert_eq!(points(&by_tier("premium"), FactorKind::Tier), 10.0);
        assert!(
            vip.reasons.iter().any(|r| r == "Customer tier vip (+20)."),
            "{:?}",
            vip.reasons
        );
        assert!(
            standard.factors.iter().all(|f| f.kind != FactorKind::Tier),
            "zero points are not listed"
        );
    }
}

#[test]
fn phone_and_chat_are_more_urgent_than_email() {
    for text in ["Payment failed", "El pago falló"] {
        let score =
            |channel: &str| priority(json!({"description": text, "channel": channel})).score;
        assert!(score("phone") > score("chat"), "{text}");
        assert!(score("chat") > score("email"), "{text}");
        assert_eq!(score("Phone") - score("email"), 10.0);
        assert_eq!(
            score("carrier pigeon"),
            score("email"),
            "unknown channels add nothing"
        );
    }
}

#[test]
fn age_adds_the_highest_step_reached_while_open() {
    let aged = |created: &str, status: &str| {
        priority(
            json!({"description": "Pedido no recibido", "created_at": created, "status": status}),
        )
    };
    assert_eq!(
        points(&aged("2026-11-24T10:00:00Z", "open"), FactorKind::Age),
        0.0,
        "2 h"
    );
    assert_eq!(
        points(&aged("2026-11-24T08:00:00Z", "open"), FactorKind::Age),
        5.0,
        "4 h exactly"
    );
    let day = aged("2026-11-23T06:00:00Z", "open");
    assert_eq!(points(&day, FactorKind::Age), 10.0, "30 h");
    assert!(day
        .factors
        .iter()
        .any(|f| f.cause == "open for 30 h (step from 24 h)"));
    assert_eq!(
        points(&aged("2026-11-20T12:00:00Z", "open"), FactorKind::Age),
        15.0,
        "4 days"
    );
    assert_eq!(
        points(&aged("2026-11-20T12:00:00Z", "resuelto"), FactorKind::Age),
        0.0,
        "resolved"
    );
    assert_eq!(
        points(&aged("2026-11-25T12:00:00Z", "open"), FactorKind::Age),
        0.0,
        "created in the future"
    );
}

#[test]
fn sla_due_times_follow_the_level_targets() {
    // Outage: urgent by floor, so 30 min to first response and 8 h to resolution.
    let p = priority(json!({"description": "Total outage", "created_at": "2026-11-24T11:50:00Z"}));
    assert_eq!(p.level, Level::Urgent);
    assert_eq!(p.sla.first_response.target_minutes, 30);
    assert_eq!(p.sla.first_response.due, Some(ts("2026-11-24T12:20:00Z")));
    assert_eq!(p.sla.resolution.target_minutes, 480);
    assert_eq!(p.sla.resolution.due, Some(ts("2026-11-24T19:50:00Z")));
    assert_eq!(p.sla.first_response.status, Some(SlaStatus::OnTrack));
    assert!(p.reasons.contains(
        &"First response due 2026-11-24T12:20:00Z (30 min for urgent): on track.".to_string()
    ));
    assert!(p
        .reasons
        .contains(&"Resolution due 2026-11-24T19:50:00Z (8 h for urgent): on track.".to_string()));

    let low =
        priority(json!({"description": "Una sugerencia", "created_at": "2026-11-24T11:50:00Z"}));
    assert_eq!(low.level, Level::Low);
    assert_eq!(
        low.sla.resolution.due,
        Some(ts("2026-11-29T11:50:00Z")),
        "5 days"
    );
}

#[test]
fn sla_status_is_at_risk_then_breached_as_time_passes() {
    let status = |created: &str| {
        let p = priority(json!({"description": "Caída del servicio", "created_at": created}));
        p.sla.first_response.status
    };
    assert_eq!(
        status("2026-11-24T11:40:00Z"),
        Some(SlaStatus::OnTrack),
        "20 of 30 min"
    );
    assert_eq!(
        status("2026-11-24T11:36:00Z"),
        Some(SlaStatus::AtRisk),
        "24 of 30 min is 80%"
    );
    assert_eq!(
        status("2026-11-24T11:30:00Z"),
        Some(SlaStatus::AtRisk),
        "due right now"
    );
    assert_eq!(status("2026-11-24T11:29:00Z"), Some(SlaStatus::Breached));
}

#[test]
fn sla_met_or_breached_by_the_recorded_times() {
    let base = json!({"description": "Outage", "created_at": "2026-11-24T09:00:00Z"});
    let with = |extra: Value| {
        let mut m = object(base.clone());
        m.extend(object(extra));
        priority(Value::Object(m)).sla
    };
    let sla = with(
        json!({"first_response_at": "2026-11-24T09:20:00Z", "resolved_at": "2026-11-24T18:00:00Z"}),
    );
    assert_eq!(sla.first_response.status, Some(SlaStatus::Met));
    assert_eq!(
        sla.resolution.status,
        Some(SlaStatus::Breached),
        "8 h target, resolved after 9 h"
    );

    let answered_in_chat = with(json!({"messages": [
        {"role": "user", "content": "help", "timestamp": "2026-11-24T09:00:00Z"},
        {"role": "agent", "content": "on it", "timestamp": "2026-11-24T09:45:00Z"}
    ]}));
    assert_eq!(
        answered_in_chat.first_response.status,
        Some(SlaStatus::Breached),
        "first reply after 45 min"
    );
    assert!(answered_in_chat.first_response.done && !answered_in_chat.resolution.done);

    let closed = with(json!({"status": "closed"}));
    assert_eq!(
        closed.resolution.status,
        Some(SlaStatus::Met),
        "closed before now, within 8 h"
    );
    assert_eq!(
        closed.first_response.status, None,
        "answered at some unknown time, maybe after 30 min"
    );
    assert!(closed.first_response.done && closed.resolution.done);
}

#[test]
fn missing_created_at_gives_targets_without_due_times() {
    for text in ["Total outage", "Caída del servicio"] {
        let p =
            priority(json!({"description": text, "channel": "phone", "customer": {"tier": "vip"}}));
        assert_eq!(
            p.sla.first_response.target_minutes, 15,
            "critical: 10 + 45 + 10 + 20 = 85"
        );
        assert_eq!(
            (p.sla.first_response.due, p.sla.first_response.status),
            (None, None)
        );
        assert_eq!(
            (p.sla.resolution.due, p.sla.resolution.status),
            (None, None)
        );
        assert!(p
            .reasons
            .iter()
            .any(|r| r.starts_with("No created_at: SLA due times cannot be computed")));
        let dated = priority(json!({
            "description": text, "channel": "phone", "customer": {"tier": "vip"}, "created_at": "2026-11-24T11:58:00Z"
        }));
        assert!(
            p.confidence < dated.confidence,
            "missing created_at lowers confidence"
        );
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(
            json["sla"]["first_response"],
            json!({"target_minutes": 15, "done": false})
        );
    }
}

#[test]
fn level_thresholds_come_from_config() {
    let strict = Prioritizer::new(PriorityConfig {
        levels: LevelThresholds {
            medium: 5.0,
            high: 8.0,
            urgent: 9.0,
            critical: 10.0,
        },
        ..PriorityConfig::default()
    });
    let ticket = neutral(json!({"description": "A question about invoices"}));
    assert_eq!(decide_with(&DEFAULT, &ticket).level, Level::Low);
    assert_eq!(
        decide_with(&strict, &ticket).level,
        Level::Critical,
        "base 10 reaches critical at 10"
    );
}

#[test]
fn confidence_drops_near_a_level_boundary() {
    let full = json!({"channel": "email", "customer": {"tier": "standard"}, "created_at": "2026-11-24T11:00:00Z"});
    let with_text = |text: &str| {
        let mut m = object(full.clone());
        m.insert("description".into(), json!(text));
        priority(Value::Object(m))
    };
    let clear = with_text("A question");
    let near = with_text("I can't log in, it's urgent");
    assert_eq!((clear.score, near.score), (10.0, 45.0));
    assert_eq!(clear.confidence, 0.95, "15 points from the medium boundary");
    assert_eq!(near.confidence, 0.55, "exactly on the high boundary");
}

#[test]
fn score_is_clamped_to_0_100() {
    let no_base = Prioritizer::new(PriorityConfig {
        base_points: 0.0,
        ..PriorityConfig::default()
    });
    let p = decide_with(
        &no_base,
        &neutral(json!({"description": "hola", "customer": {"tier": "free"}})),
    );
    assert_eq!(p.score, 0.0);
    let top = decide_with(
        &DEFAULT,
        &object(json!({
            "description": "Hacked! Outage! Urgent!", "channel": "phone", "customer": {"tier": "vip"},
            "created_at": "2026-11-01T00:00:00Z", "sentiment": {"score": -1.0, "frustration": 1.0}
        })),
    );
    assert_eq!((top.score, top.level), (100.0, Level::Critical));
}

#[test]
fn output_round_trips_for_later_tools() {
    let p = priority(
        json!({"description": "Cobro duplicado", "created_at": "2026-11-24T11:00:00Z", "channel": "chat"}),
    );
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["level"], "high");
    assert_eq!(json["sla"]["first_response"]["status"], "on_track");
    assert_eq!(json["factors"][1]["kind"], "impact");
    let back: Priority = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);
}
