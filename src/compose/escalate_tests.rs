//! Escalation as support-escalate decides it: from the ticket's earlier
//! priority and sentiment results, or from ones computed for it.

use std::sync::LazyLock;

use jiff::Timestamp;
use serde_json::{json, Map, Value};
use support_core::results::priority::Level;
use support_core::results::sentiment::Trend;
use support_core::{Context, Ticket, Tool};
use support_escalate::*;
use support_sentiment::Analyzer;

use super::EscalateTool;

const NOW: &str = "2026-11-24T12:00:00Z";

static DEFAULT: LazyLock<EscalateTool> = LazyLock::new(EscalateTool::default);

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

use support_core::testing::object;

fn decide(m: &Map<String, Value>) -> Escalation {
    let ticket = Ticket::from_map(m).unwrap();
    DEFAULT.decide(&ticket, &Context { now: ts(NOW) }).unwrap()
}

/// Escalation of a ticket given a neutral earlier sentiment, so results do not
/// depend on the sentiment analyzer.
fn escalation(v: Value) -> Escalation {
    let mut m = object(v);
    m.entry("sentiment")
        .or_insert(json!({"score": 0.0, "frustration": 0.0}));
    decide(&m)
}

fn kinds(e: &Escalation) -> Vec<TriggerKind> {
    e.triggers.iter().map(|t| t.kind).collect()
}

fn trigger(e: &Escalation, kind: TriggerKind) -> &Trigger {
    e.triggers
        .iter()
        .find(|t| t.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} trigger in {:?}", e.triggers))
}

/// An earlier `priority` result with the given level and SLA clocks.
fn prior_priority(level: &str, first_response: Value, resolution: Value) -> Value {
    json!({
        "level": level, "score": 50.0, "confidence": 0.8,
        "sla": {"first_response": first_response, "resolution": resolution}
    })
}

fn running(due: &str, status: &str) -> Value {
    json!({"target_minutes": 60, "due": due, "status": status, "done": false})
}

fn notified(e: &Escalation) -> Vec<&str> {
    e.actions
        .iter()
        .filter_map(|a| match a {
            Action::Notify { who } => Some(who.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn quiet_ticket_is_not_escalated() {
    for text in [
        "What are the rate limits of the API?",
        "¿Puedo cambiar la dirección de envío?",
    ] {
        let e = escalation(json!({"description": text, "created_at": "2026-11-24T11:50:00Z"}));
        assert!(!e.escalate, "{text}: {:?}", e.triggers);
        assert_eq!(e.level, EscalationLevel::None);
        assert!(e.triggers.is_empty() && e.actions.is_empty() && e.deadlines.is_empty());
        assert_eq!(e.confidence, 0.85);
        assert_eq!(
            e.reasons.last().unwrap(),
            "No escalation: no trigger fired."
        );
    }
}

#[test]
fn sla_is_computed_when_there_is_no_earlier_priority() {
    for text in [
        "Total outage since 10:00",
        "Caída del servicio desde las 10",
    ] {
        // Outage is urgent: 30 min to first response, so breached by noon.
        let e = escalation(json!({"description": text, "created_at": "2026-11-24T10:00:00Z"}));
        assert_eq!(kinds(&e), [TriggerKind::FirstResponseSlaBreached], "{text}");
        assert_eq!(
            trigger(&e, TriggerKind::FirstResponseSlaBreached).detail,
            "first response due 2026-11-24T10:30:00Z (30 min for urgent priority) is breached"
        );
        assert_eq!(e.level, EscalationLevel::L1);
        assert!(e
            .reasons
            .contains(&"SLA computed (no earlier priority result).".to_string()));
    }
}

#[test]
fn earlier_priority_sla_is_used_when_present() {
    let ticket = |first: Value, resolution: Value| {
        escalation(json!({
            "description": "Caída del servicio", "created_at": "2026-11-24T10:00:00Z",
            "priority": prior_priority("urgent", first, resolution)
        }))
    };
    let on_track = ticket(
        running("2026-11-24T13:00:00Z", "on_track"),
        running("2026-11-24T18:00:00Z", "on_track"),
    );
    assert!(
        on_track.triggers.is_empty(),
        "the earlier result says on track: {:?}",
        on_track.triggers
    );
    assert!(on_track
        .reasons
        .contains(&"SLA from the earlier priority result.".to_string()));

    let mixed = ticket(
        running("2026-11-24T12:10:00Z", "at_risk"),
        running("2026-11-24T11:00:00Z", "breached"),
    );
    assert_eq!(
        kinds(&mixed),
        [
            TriggerKind::FirstResponseSlaAtRisk,
            TriggerKind::ResolutionSlaBreached
        ]
    );
    assert_eq!(
        trigger(&mixed, TriggerKind::FirstResponseSlaAtRisk).level,
        EscalationLevel::L1
    );
    assert_eq!(
        mixed.level,
        EscalationLevel::Manager,
        "resolution breached calls for a manager"
    );
}

#[test]
fn earlier_sla_is_rechecked_against_now() {
    let e = escalation(json!({
        "description": "Pedido no recibido", "created_at": "2026-11-24T09:00:00Z",
        "priority": prior_priority(
            "medium",
            running("2026-11-24T11:00:00Z", "on_track"),
            running("2026-11-26T09:00:00Z", "on_track")
        )
    }));
    assert_eq!(
        kinds(&e),
        [TriggerKind::FirstResponseSlaBreached],
        "due 11:00 has passed by noon"
    );
}

#[test]
fn stopped_sla_clocks_do_not_trigger_even_if_late() {
    let answered_late = json!({"target_minutes": 60, "due": "2026-11-24T10:00:00Z", "status": "breached", "done": true});
    let e = escalation(json!({
        "description": "Where is my order?", "created_at": "2026-11-24T09:00:00Z",
        "priority": prior_priority("medium", answered_late, running("2026-11-26T09:00:00Z", "on_track"))
    }));
    assert!(e.triggers.is_empty(), "{:?}", e.triggers);
}

#[test]
fn low_bot_confidence_takes_the_lowest_source() {
    let e =
        escalation(json!({"description": "Necesito ayuda con mi factura", "bot_confidence": 0.3}));
    assert_eq!(
        trigger(&e, TriggerKind::LowBotConfidence).detail,
        "bot confidence 0.3 (bot_confidence) is below 0.5"
    );
    assert_eq!(e.level, EscalationLevel::L1);

    let e = escalation(json!({
        "description": "I need help with my invoice",
        "bot_confidence": 0.4,
        "metadata": {"bot_confidence": 0.2},
        "messages": [
            {"role": "user", "content": "invoice help"},
            {"role": "bot", "content": "Here is your invoice", "confidence": 0.35}
        ]
    }));
    assert_eq!(
        trigger(&e, TriggerKind::LowBotConfidence).detail,
        "bot confidence 0.2 (metadata.bot_confidence) is below 0.5"
    );

    let e = escalation(json!({
        "description": "Ayuda con la factura",
        "messages": [
            {"role": "user", "content": "factura"},
            {"role": "bot", "content": "Aquí tienes tu factura", "confidence": 0.1}
        ]
    }));
    assert!(trigger(&e, TriggerKind::LowBotConfidence)
        .detail
        .contains("(messages[1].confidence)"));

    let confident =
        escalation(json!({"description": "Ayuda con la factura", "bot_confidence": 0.9}));
    assert!(confident.triggers.is_empty());
}

#[test]
fn bot_checks_stop_once_an_agent_answers_after_the_bot() {
    let e = escalation(json!({
        "description": "Help with my invoice",
        "bot_confidence": 0.1,
        "messages": [
            {"role": "user", "content": "invoice"},
            {"role": "bot", "content": "Sorry, I didn't understand", "confidence": 0.1},
            {"role": "agent", "content": "Hi, I'm Ana, let me help"}
        ]
    }));
    assert!(e.triggers.is_empty(), "{:?}", e.triggers);
}

#[test]
fn bot_fallback_in_the_last_bot_message_in_both_languages() {
    for (said, words) in [
        ("Sorry, I didn't understand that.", "i didn't understand"),
        ("Lo siento, no te he entendido.", "no te he entendido"),
    ] {
        let e = escalation(json!({
            "description": "Ayuda / help",
            "messages": [{"role": "user", "content": "?"}, {"role": "bot", "content": said}]
        }));
        assert_eq!(
            trigger(&e, TriggerKind::BotFallback).detail,
            format!("last bot message (messages[1].content) says \"{words}\"")
        );
    }
}

#[test]
fn bot_repeating_itself_is_a_loop() {
    for (answer, user) in [
        (
            "¿Quieres consultar tus facturas?",
            "No, me han cobrado dos veces",
        ),
        ("Here is an article about API keys.", "That is not it"),
    ] {
        let e = escalation(json!({"description": "Ayuda / help", "messages": [
            {"role": "user", "content": "Hola / hi"},
            {"role": "bot", "content": answer},
            {"role": "user", "content": user},
            {"role": "bot", "content": answer}
        ]}));
        assert_eq!(
            trigger(&e, TriggerKind::BotRepeating).detail,
            "last bot message (messages[3].content) repeats messages[1].content"
        );
    }
}

#[test]
fn many_bot_turns_without_resolution() {
    let transcript = |bots: usize, status: &str| {
        let mut messages = Vec::new();
        for i in 0..bots {
            messages.push(json!({"role": "user", "content": format!("pregunta {i}")}));
            messages.push(json!({"role": "bot", "content": format!("respuesta {i}")}));
        }
        escalation(
            json!({"description": "Consulta sobre mi pedido", "status": status, "messages": messages}),
        )
    };
    let e = transcript(3, "open");
    assert_eq!(kinds(&e), [TriggerKind::BotTurns]);
    assert!(trigger(&e, TriggerKind::BotTurns)
        .detail
        .starts_with("3 bot turns"));
    assert!(transcript(2, "open").triggers.is_empty(), "2 of 3 turns");
    assert!(transcript(4, "resolved").triggers.is_empty(), "resolved");
}

#[test]
fn customer_asking_for_a_person_in_both_languages() {
    let cases = [
        ("Quiero hablar con un agente", "hablar con un agente"),
        (
            "¿Puedo hablar con alguien, por favor?",
            "hablar con alguien",
        ),
        ("Quiero una persona, no un bot", "quiero una persona"),
        ("Let me talk to a human", "talk to a human"),
        ("Is there a real person there?", "real person"),
        ("I want to speak to an agent", "speak to an agent"),
        ("Representative!", "representative"),
    ];
    for (text, words) in cases {
        let e = escalation(
            json!({"subject": "Ayuda", "messages": [{"role": "user", "content": text}]}),
        );
        assert_eq!(
            trigger(&e, TriggerKind::HumanRequested).detail,
            format!("customer asks for a person: \"{words}\" in messages[0].content")
        );
        assert_eq!(e.level, EscalationLevel::L1, "{text}");
    }
}

#[test]
fn worsening_sentiment_from_the_earlier_result() {
    let e = escalation(json!({
        "description": "Still waiting",
        "sentiment": {"score": -0.5, "frustration": 0.4, "trend": "worsening"}
    }));
    assert_eq!(
        trigger(&e, TriggerKind::WorseningSentiment).detail,
        "sentiment is worsening over the conversation (from the earlier sentiment result)"
    );
    let stable = escalation(json!({
        "description": "Still waiting",
        "sentiment": {"score": -0.5, "frustration": 0.4, "trend": "stable"}
    }));
    assert!(stable.triggers.is_empty());
}

#[test]
fn worsening_sentiment_is_computed_when_absent() {
    for (first, second, third) in [
        (
            "Hola, tengo una duda sobre mi pedido",
            "Sigo esperando respuesta",
            "¡Esto es una vergüenza, pésimo servicio, estoy harto!",
        ),
        (
            "Hi, a quick question about my order",
            "Still waiting for an answer",
            "This is outrageous, the worst service ever, I am furious!",
        ),
    ] {
        let m = object(json!({"subject": "Pedido / order", "messages": [
            {"role": "user", "content": first},
            {"role": "agent", "content": "Lo miramos / we'll check"},
            {"role": "user", "content": second},
            {"role": "user", "content": third}
        ]}));
        let expected = Analyzer::default()
            .analyze(&Ticket::from_map(&m).unwrap())
            .trend;
        let e = decide(&m);
        let worsening = e
            .triggers
            .iter()
            .find(|t| t.kind == TriggerKind::WorseningSentiment);
        assert_eq!(
            worsening.is_some(),
            expected == Some(Trend::Worsening),
            "{first}"
        );
        if let Some(t) = worsening {
            assert!(t.detail.ends_with("(computed)"));
        }
    }
}

#[test]
fn critical_words_in_both_languages() {
    let cases = [
        (
            "Si no lo arreglan hablaré con mi abogado",
            "legal threat",
            EscalationLevel::Manager,
        ),
        (
            "Voy a poner una demanda",
            "legal threat",
            EscalationLevel::Manager,
        ),
        (
            "My lawyer will contact you",
            "legal threat",
            EscalationLevel::Manager,
        ),
        ("Expect a lawsuit", "legal threat", EscalationLevel::Manager),
        (
            "Lo voy a contar a la prensa",
            "press exposure",
            EscalationLevel::Manager,
        ),
        (
            "I will complain to the regulator",
            "regulator complaint",
            EscalationLevel::Manager,
        ),
        (
            "Lo denunciaré ante la OCU",
            "regulator complaint",
            EscalationLevel::Manager,
        ),
        ("Esto es un fraude", "fraud", EscalationLevel::L2),
        ("This is a scam", "fraud", EscalationLevel::L2),
    ];
    for (text, group, level) in cases {
        let e = escalation(json!({"description": text}));
        let found = e.triggers.iter().find(|t| {
            t.kind == TriggerKind::CriticalWords && t.detail.starts_with(&format!("{group}: "))
        });
        assert!(
            found.is_some(),
            "{text:?} should be {group}: {:?}",
            e.triggers
        );
        assert_eq!(e.level, level, "{text}");
    }
}

#[test]
fn vip_alone_does_not_escalate_but_raises_any_other_trigger_to_l2() {
    let alone = escalation(
        json!({"description": "Una pregunta sobre la factura", "customer": {"tier": "VIP"}}),
    );
    assert_eq!(kinds(&alone), [TriggerKind::Vip]);
    assert!(!alone.escalate);
    assert!(
        alone.reasons[0].ends_with("(does not escalate alone)."),
        "{:?}",
        alone.reasons
    );

    for text in ["Quiero hablar con una persona", "I want to talk to a human"] {
        let e = escalation(json!({"description": text, "customer": {"tier": "vip"}}));
        assert_eq!(kinds(&e), [TriggerKind::HumanRequested, TriggerKind::Vip]);
        assert_eq!(e.level, EscalationLevel::L2, "{text}");
        assert!(e.reasons.contains(
            &"Rule \"VIP customer with any other trigger\" raises the level to L2.".to_string()
        ));
        assert!(notified(&e).contains(&"account-manager"));
    }
}

#[test]
fn three_triggers_at_once_reach_l2() {
    let e = escalation(json!({
        "description": "Quiero hablar con una persona",
        "bot_confidence": 0.2,
        "sentiment": {"score": -0.6, "frustration": 0.7, "trend": "worsening"}
    }));
    assert_eq!(e.triggers.len(), 3);
    assert!(e.triggers.iter().all(|t| t.level == EscalationLevel::L1));
    assert_eq!(e.level, EscalationLevel::L2);
}

#[test]
fn actions_reassign_raise_priority_and_notify_each_once() {
    let e = escalation(json!({
        "description": "Mi abogado presentará una queja ante la OCU",
        "priority": prior_priority("medium", json!({"target_minutes": 480}), json!({"target_minutes": 2880}))
    }));
    assert_eq!(e.level, EscalationLevel::Manager);
    assert_eq!(
        e.actions,
        [
            Action::Reassign {
                queue: "escalations".into()
            },
            Action::RaisePriority {
                from: Level::Medium,
                to: Level::Critical
            },
            Action::Notify {
                who: "support-manager".into()
            },
            Action::Notify {
                who: "legal".into()
            },
        ],
        "legal is named by two triggers but notified once"
    );
    assert_eq!(
        e.reasons.last().unwrap(),
        "Escalate to manager: reassign to escalations, raise priority from medium to critical, \
         notify support-manager, notify legal."
    );

    let already_critical = escalation(json!({
        "description": "Talk to a human",
        "priority": prior_priority("critical", json!({"target_minutes": 15}), json!({"target_minutes": 240}))
    }));
    assert!(
        !already_critical
            .actions
            .iter()
            .any(|a| matches!(a, Action::RaisePriority { .. })),
        "priority is never lowered"
    );
}

#[test]
fn deadlines_follow_the_sla_and_the_level() {
    let e = escalation(json!({
        "description": "I want to speak to an agent", "created_at": "2026-11-24T11:00:00Z",
        "priority": prior_priority(
            "high",
            running("2026-11-24T12:10:00Z", "at_risk"),
            running("2026-11-24T18:00:00Z", "on_track")
        )
    }));
    assert_eq!(
        kinds(&e),
        [
            TriggerKind::FirstResponseSlaAtRisk,
            TriggerKind::HumanRequested
        ]
    );
    assert_eq!(e.level, EscalationLevel::L1);
    let due: Vec<(DeadlineKind, Timestamp)> = e.deadlines.iter().map(|d| (d.kind, d.due)).collect();
    assert_eq!(
        due,
        [
            (DeadlineKind::Acknowledge, ts("2026-11-24T13:00:00Z")),
            (DeadlineKind::FirstResponse, ts("2026-11-24T12:10:00Z")),
            (DeadlineKind::Resolution, ts("2026-11-24T18:00:00Z")),
        ]
    );

    let breached = escalation(json!({
        "description": "Quiero hablar con un agente", "created_at": "2026-11-24T10:00:00Z",
        "priority": prior_priority(
            "high",
            running("2026-11-24T11:00:00Z", "breached"),
            running("2026-11-24T20:00:00Z", "on_track")
        )
    }));
    let first = breached
        .deadlines
        .iter()
        .find(|d| d.kind == DeadlineKind::FirstResponse)
        .unwrap();
    assert_eq!(
        first.due,
        ts("2026-11-24T12:30:00Z"),
        "breached: 30 min grace from now"
    );
    assert_eq!(
        first.basis,
        "first response SLA breached at 2026-11-24T11:00:00Z: 30 min from now"
    );
}

#[test]
fn missing_created_at_skips_the_sla_and_lowers_confidence() {
    let e = escalation(json!({"description": "Una consulta sobre mi pedido"}));
    assert!(e.triggers.is_empty());
    assert!(e
        .reasons
        .contains(&"No SLA due times (no created_at): SLA clocks not checked.".to_string()));
    assert_eq!(e.confidence, 0.7, "0.85 less 0.15 for the unknown SLA");
}

#[test]
fn resolved_ticket_is_not_escalated() {
    let e = escalation(json!({"description": "Hablaré con mi abogado", "status": "closed"}));
    assert_eq!(kinds(&e), [TriggerKind::CriticalWords]);
    assert!(!e.escalate);
    assert_eq!(e.level, EscalationLevel::None);
    assert!(e.actions.is_empty());
    assert_eq!(
        e.reasons.last().unwrap(),
        "No escalation: the ticket is resolved (it would be manager)."
    );
}

#[test]
fn confidence_combines_the_weights() {
    let e = escalation(json!({"description": "Ayuda", "messages": [
        {"role": "user", "content": "hola"},
        {"role": "bot", "content": "¿Quieres ver tus facturas?"},
        {"role": "user", "content": "No. Quiero hablar con una persona"},
        {"role": "bot", "content": "¿Quieres ver tus facturas?"}
    ]}));
    assert_eq!(
        kinds(&e),
        [TriggerKind::BotRepeating, TriggerKind::HumanRequested]
    );
    assert_eq!(e.confidence, 0.94, "1 - (1 - 0.7) × (1 - 0.8)");
}

#[test]
fn output_shape() {
    let e = escalation(json!({"description": "Talk to a human", "customer": {"tier": "vip"}}));
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["level"], "L2");
    assert_eq!(v["escalate"], true);
    assert_eq!(v["triggers"][0]["kind"], "human_requested");
    assert_eq!(v["triggers"][0]["level"], "L1");
    assert_eq!(
        v["actions"][0],
        json!({"action": "reassign", "queue": "support-l2"})
    );
    assert_eq!(
        v["actions"][1],
        json!({"action": "raise_priority", "from": "medium", "to": "urgent"}),
        "base 10 + vip 20 is medium"
    );
    assert_eq!(
        v["actions"][2],
        json!({"action": "notify", "who": "support-lead"})
    );
    assert_eq!(v["deadlines"][0]["kind"], "acknowledge");
    assert_eq!(serde_json::from_value::<Escalation>(v).unwrap(), e);
}

#[test]
fn an_earlier_answer_says_whether_an_agent_must_reply() {
    let reasons = |answer: Value| {
        escalation(json!({"description": "¿Dónde está mi factura?", "answer": answer})).reasons
    };
    let unanswered = reasons(json!({"auto_reply": false, "confidence": 0.41}));
    assert!(
        unanswered
            .iter()
            .any(|r| r
                == "Knowledge base: no confident answer (confidence 0.41); an agent must reply."),
        "{unanswered:?}"
    );
    let answered = reasons(json!({"auto_reply": true, "confidence": 0.93}));
    assert!(
        answered
            .iter()
            .any(|r| r.contains("a confident answer (confidence 0.93)")),
        "{answered:?}"
    );
    let without = escalation(json!({"description": "¿Dónde está mi factura?"})).reasons;
    assert!(
        !without.iter().any(|r| r.starts_with("Knowledge base")),
        "{without:?}"
    );
}
