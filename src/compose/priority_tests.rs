//! Priority as support-priority decides it: from the ticket's earlier
//! sentiment result, or from one computed for it.

use serde_json::json;
use support_core::results::priority::FactorKind;
use support_core::testing::object;
use support_core::{round3, Context, Ticket, Tool};
use support_priority::PriorityConfig;
use support_sentiment::Analyzer;

use super::PriorityTool;

#[test]
fn sentiment_is_computed_when_absent_or_unreadable() {
    let tool = PriorityTool::default();
    let analyzer = Analyzer::default();
    let weights = PriorityConfig::default().sentiment;
    let ctx = Context {
        now: "2026-11-24T12:00:00Z".parse().unwrap(),
    };
    for extra in [
        json!(null),
        json!("not a sentiment result"),
        json!({"label": "negative"}),
    ] {
        let mut m =
            object(json!({"description": "¡¡Estoy harto, nadie me responde!! Terrible servicio"}));
        if !extra.is_null() {
            m.insert("sentiment".into(), extra);
        }
        let ticket = Ticket::from_map(&m).unwrap();
        let expected = analyzer.analyze(&ticket);
        let p = tool.decide(&ticket, &ctx).unwrap();
        let points = |kind| -> f64 {
            p.factors
                .iter()
                .filter(|f| f.kind == kind)
                .map(|f| f.points)
                .sum()
        };
        assert_eq!(
            points(FactorKind::Negativity),
            round3(weights.negativity_points * (-expected.score).max(0.0))
        );
        assert_eq!(
            points(FactorKind::Frustration),
            round3(weights.frustration_points * expected.frustration)
        );
        assert!(p
            .factors
            .iter()
            .all(|f| !f.cause.contains("earlier sentiment")));
    }
}

#[test]
fn an_earlier_sentiment_result_is_read_not_recomputed() {
    let m = object(json!({
        "description": "Todo bien, gracias",
        "sentiment": {"label": "negative", "score": -0.8, "frustration": 0.5}
    }));
    let ticket = Ticket::from_map(&m).unwrap();
    let ctx = Context {
        now: "2026-11-24T12:00:00Z".parse().unwrap(),
    };
    let p = PriorityTool::default().decide(&ticket, &ctx).unwrap();
    assert!(p
        .factors
        .iter()
        .any(|f| f.cause == "frustration 0.5 (from the earlier sentiment result)"));
}
