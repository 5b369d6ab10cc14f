//! Seven tickets whose every figure was worked out by hand (see each assertion).
use super::*;
use crate::row::tests::row_from;
use serde_json::{json, Value};

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn msgs(times: &[&str], roles: &[&str]) -> Value {
    times
        .iter()
        .zip(roles.iter().cycle())
        .map(
            |(t, r)| json!({"role": r, "content": "…", "timestamp": format!("2026-11-24T{t}:00Z")}),
        )
        .collect()
}

fn ticket(id: &str, created: &str, priority: &str, fields: Value, sla: (&str, &str)) -> TicketRow {
    let mut value = json!({
        "id": id, "created_at": format!("2026-11-24T{created}:00Z"),
        "priority": {"level": priority, "sla": {"first_response": {"due": sla.0}, "resolution": {"due": sla.1}}}
    });
    value
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    row_from(value).unwrap()
}

fn feedback(id: &str, rating: u8, at: &str, comment: &str) -> Feedback {
    Feedback {
        ticket_id: id.into(),
        message_position: None,
        rating,
        comment: Some(comment.into()),
        created_at: Some(ts(&format!("2026-11-24T{at}:00Z"))),
    }
}

fn aggregate() -> Aggregator {
    aggregate_with(ExportConfig::default())
}

/// Now is 12:00; the window is the day so far (12 hourly buckets).
fn aggregate_with(config: ExportConfig) -> Aggregator {
    let mut t1 = ticket(
        "T1",
        "01:10",
        "critical",
        json!({
            "status": "resolved", "resolved_by": "bot", "first_response_at": "2026-11-24T01:12:00Z",
            "resolved_at": "2026-11-24T01:20:00Z", "channel": "chat", "language": "es",
            "category": {"name": "order"}, "messages": msgs(&["01:10", "01:12", "01:15", "01:20"], &["user", "bot"])
        }),
        ("2026-11-24T01:25:00Z", "2026-11-24T05:10:00Z"),
    );
    t1.activity.feedback = vec![feedback("T1", 5, "01:30", "Genial")];
    let t2 = ticket(
        "T2",
        "02:30",
        "urgent",
        json!({
            "status": "open", "assigned_to": "ana", "first_response_at": "2026-11-24T03:30:00Z",
            "channel": "email", "language": "en", "category": {"name": "refund"}
        }),
        ("2026-11-24T03:00:00Z", "2026-11-24T06:30:00Z"),
    );
    let mut t3 = ticket(
        "T3",
        "02:45",
        "high",
        json!({
            "status": "closed", "assigned_to": "ana", "resolved_by": "ana",
            "first_response_at": "2026-11-24T02:55:00Z", "resolved_at": "2026-11-24T04:45:00Z",
            "channel": "chat", "language": "en", "category": {"name": "refund"},
            "messages": msgs(&["02:45", "02:55", "03:00", "03:05", "03:10", "03:15"], &["user", "agent"])
        }),
        ("2026-11-24T04:45:00Z", "2026-11-25T02:45:00Z"),
    );
    t3.activity.feedback = vec![
        feedback("T3", 2, "05:00", "Slow"),
        feedback("T3", 3, "06:00", ""),
    ];
    let t4 = ticket(
        "T4",
        "09:00",
        "high",
        json!({
            "status": "pending", "assigned_to": "luis", "channel": "web", "language": "es",
            "category": {"name": "account"}
        }),
        ("2026-11-24T11:00:00Z", "2026-11-25T09:00:00Z"),
    );
    let t5 = ticket(
        "T5",
        "11:59",
        "low",
        json!({"status": "open", "channel": "web", "language": "es"}),
        ("2026-11-24T19:59:00Z", "2026-11-27T11:59:00Z"),
    );
    // Resolved by the bot as its transcript shows; resolved without a resolution time.
    let t7 = ticket(
        "T7",
        "06:00",
        "medium",
        json!({
            "status": "resolved", "first_response_at": "2026-11-24T06:00:30Z", "channel": "whatsapp",
            "language": "es", "category": {"name": "order"}, "messages": msgs(&["06:00", "06:01"], &["user", "bot"])
        }),
        ("2026-11-24T06:30:00Z", "2026-11-24T14:00:00Z"),
    );
    let window = Window {
        since: ts("2026-11-24T00:00:00Z"),
        until: ts("2026-11-24T12:00:00Z"),
    };
    let mut aggregator = Aggregator::new(window, window.until, config);
    for row in [t1, t2, t3, t4, t5, t7] {
        aggregator.add(&row);
    }
    aggregator
}

#[test]
fn dashboard_figures() {
    let names = AgentNames::from([("ana".to_string(), "Ana Ruiz".to_string())]);
    let d = aggregate().dashboard(&names);
    assert_eq!(
        d.metrics,
        DashboardMetrics {
            total_tickets: 6,
            chatbot_resolved: 2, // T1 (resolved_by), T7 (transcript)
            pending: 3,          // T2 open, T4 pending, T5 open
            critical_urgent: 2,  // T1, T2
            avg_first_response_minutes: Some(18.13), // (2 + 60 + 10 + 0.5) / 4 = 18.125
            chatbot_resolution_rate: 0.3333,
        }
    );
    assert_eq!(d.trends.len(), 12);
    let hour = |h: usize| {
        let t = &d.trends[h];
        (t.tickets, t.resolved, t.bot_resolved, t.critical_urgent)
    };
    assert_eq!(d.trends[1].hour, ts("2026-11-24T01:00:00Z"));
    assert_eq!(hour(1), (1, 1, 1, 1));
    assert_eq!(hour(2), (2, 1, 0, 1));
    assert_eq!(hour(6), (1, 1, 1, 0));
    assert_eq!(hour(9), (1, 0, 0, 0));
    assert_eq!(hour(11), (1, 0, 0, 0));
    assert_eq!(d.trends.iter().map(|t| t.tickets).sum::<u64>(), 6);

    let priorities: Vec<(&str, u64, f64)> = d
        .priority_distribution
        .iter()
        .map(|p| (p.priority.as_str(), p.tickets, p.share))
        .collect();
    assert_eq!(
        priorities,
        [
            ("critical", 1, 0.1667),
            ("urgent", 1, 0.1667),
            ("high", 2, 0.3333),
            ("medium", 1, 0.1667),
            ("low", 1, 0.1667)
        ]
    );
    let categories: Vec<(&str, u64)> = d
        .top_categories
        .iter()
        .map(|c| (c.category.as_str(), c.tickets))
        .collect();
    assert_eq!(
        categories,
        [("order", 2), ("refund", 2), ("account", 1)],
        "ties by name"
    );

    assert_eq!(
        d.top_agents,
        [
            AgentFigures {
                agent_id: "ana".into(),
                name: Some("Ana Ruiz".into()),
                tickets: 2,
                resolved: 1,
                avg_first_response_minutes: Some(35.0), // (60 + 10) / 2
                avg_resolution_minutes: Some(120.0),    // T3 only
                csat_avg: Some(2.5),                    // 2 and 3
            },
            AgentFigures {
                agent_id: "luis".into(),
                name: None,
                tickets: 1,
                resolved: 0,
                avg_first_response_minutes: None,
                avg_resolution_minutes: None,
                csat_avg: None,
            },
        ]
    );
    let recent: Vec<(&str, u8)> = d
        .recent_feedback
        .iter()
        .map(|f| (f.ticket_id.as_str(), f.rating))
        .collect();
    assert_eq!(recent, [("T3", 3), ("T3", 2), ("T1", 5)], "newest first");
}

#[test]
fn kpi_figures() {
    let k = aggregate().kpis();
    assert_eq!((k.tickets, k.resolved), (6, 3));
    assert_eq!(k.bot_resolution_rate, 0.3333);
    let responses: Vec<(u64, u64, Option<f64>)> = k
        .first_response_by_priority
        .iter()
        .map(|p| (p.tickets, p.responded, p.avg_first_response_minutes))
        .collect();
    assert_eq!(
        responses,
        [
            (1, 1, Some(2.0)),
            (1, 1, Some(60.0)),
            (2, 1, Some(10.0)),
            (1, 1, Some(0.5)),
            (1, 0, None)
        ]
    );
    type Outcomes = (u64, u64, Option<f64>, u64, u64, Option<f64>);
    let sla: Vec<Outcomes> = k
        .sla_compliance
        .iter()
        .map(|s| {
            (
                s.first_response_met,
                s.first_response_decided,
                s.first_response_rate,
                s.resolution_met,
                s.resolution_decided,
                s.resolution_rate,
            )
        })
        .collect();
    assert_eq!(
        sla,
        [
            (1, 1, Some(1.0), 1, 1, Some(1.0)), // critical T1: both in time
            (0, 1, Some(0.0), 0, 1, Some(0.0)), // urgent T2: answered late; unresolved past due
            (1, 2, Some(0.5), 1, 1, Some(1.0)), // high: T4 unanswered past due; T4 resolution not yet due
            (1, 1, Some(1.0), 0, 0, None),      // medium T7: no resolution time, not yet due
            (0, 0, None, 0, 0, None),           // low T5: nothing due yet
        ]
    );
    let all = &k.sla_overall;
    assert_eq!((all.priority.as_str(), all.tickets), ("all", 6));
    assert_eq!(
        (
            all.first_response_met,
            all.first_response_decided,
            all.first_response_rate
        ),
        (3, 5, Some(0.6))
    );
    assert_eq!(
        (
            all.resolution_met,
            all.resolution_decided,
            all.resolution_rate
        ),
        (2, 3, Some(0.6667))
    );
    assert_eq!(
        k.csat,
        Csat {
            ratings: 3,
            average: Some(3.33),
            satisfied_rate: Some(0.3333),
            distribution: [0, 1, 1, 0, 1]
        }
    );
    assert_eq!(
        k.feedback_response_rate,
        Some(0.6667),
        "T1 and T3 of T1, T3, T7"
    );
}

#[test]
fn conversation_figures() {
    let c = aggregate().conversations();
    let figures = |conversations,
                   resolved,
                   resolution_rate,
                   bot_resolved,
                   bot_rate,
                   ratings,
                   csat,
                   turns,
                   minutes| {
        ConversationFigures {
            conversations,
            resolved,
            resolution_rate: Some(resolution_rate),
            bot_resolved,
            bot_resolution_rate: Some(bot_rate),
            ratings,
            csat_avg: csat,
            avg_turns: Some(turns),
            avg_duration_minutes: Some(minutes),
        }
    };
    // T1 (chat, es, 4 turns, 10 min), T3 (chat, en, 6 turns, 30 min), T7 (whatsapp, es, 2 turns, 1 min).
    assert_eq!(
        c.overall,
        figures(3, 3, 1.0, 2, 0.6667, 3, Some(3.33), 4.0, 13.67)
    );
    let group = |g: &ConversationGroup| (g.name.clone(), g.figures.clone());
    assert_eq!(
        c.by_channel.iter().map(group).collect::<Vec<_>>(),
        [
            (
                "chat".to_string(),
                figures(2, 2, 1.0, 1, 0.5, 3, Some(3.33), 5.0, 20.0)
            ),
            (
                "whatsapp".to_string(),
                figures(1, 1, 1.0, 1, 1.0, 0, None, 2.0, 1.0)
            ),
        ]
    );
    assert_eq!(
        c.by_language.iter().map(group).collect::<Vec<_>>(),
        [
            (
                "es".to_string(),
                figures(2, 2, 1.0, 2, 1.0, 1, Some(5.0), 3.0, 5.5)
            ),
            (
                "en".to_string(),
                figures(1, 1, 1.0, 0, 0.0, 2, Some(2.5), 6.0, 30.0)
            ),
        ]
    );
}

#[test]
fn an_empty_window_gives_zeros_not_errors() {
    let window = Window {
        since: ts("2026-11-24T00:00:00Z"),
        until: ts("2026-11-24T01:30:00Z"),
    };
    let aggregator = Aggregator::new(window, window.until, ExportConfig::default());
    let d = aggregator.dashboard(&AgentNames::new());
    assert_eq!(d.metrics.total_tickets, 0);
    assert_eq!(d.metrics.chatbot_resolution_rate, 0.0);
    assert_eq!(d.metrics.avg_first_response_minutes, None);
    assert_eq!(d.trends.len(), 2, "a partial last hour has its bucket");
    let k = aggregator.kpis();
    assert_eq!((k.feedback_response_rate, k.csat.average), (None, None));
    assert_eq!(aggregator.conversations().overall.avg_turns, None);
}

#[test]
fn lists_are_cut_to_the_configured_length() {
    let mut config = ExportConfig::default();
    config.dashboard.top_categories = 1;
    config.dashboard.top_agents = 1;
    config.dashboard.recent_feedback = 2;
    let d = aggregate_with(config).dashboard(&AgentNames::new());
    assert_eq!(d.top_categories[0].category, "order");
    assert_eq!(d.top_categories.len(), 1);
    assert_eq!(d.top_agents.len(), 1);
    let recent: Vec<u8> = d.recent_feedback.iter().map(|f| f.rating).collect();
    assert_eq!(recent, [3, 2], "the two newest");
}
