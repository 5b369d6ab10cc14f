use super::*;
use jiff::Timestamp;
use serde_json::{json, Value};
use std::path::Path;
use support_agents::AgentsFormat;

const AGENTS: &str = r#"
agents:
  - {id: ana, name: Ana, skills: [billing, refund], languages: [es, en], capacity: 5, load: 1, satisfaction: 4.5,
     hours: {time_zone: Europe/Madrid, shifts: [{days: mon-fri, start: "09:00", end: "17:00"}]}}
  - {id: bob, name: Bob, skills: [billing], languages: [en], capacity: 5, load: 1, satisfaction: 4.5,
     hours: {time_zone: America/New_York, shifts: [{days: mon-fri, start: "09:00", end: "17:00"}]}}
  - {id: cruz, name: Cruz, skills: [billing, refund], languages: [es], capacity: 3, load: 3, satisfaction: 5,
     hours: {time_zone: Europe/Madrid, shifts: [{days: mon-fri, start: "09:00", end: "17:00"}]}}
  - {id: dana, name: Dana, skills: [billing], languages: [es-ES], capacity: 10, load: 1, satisfaction: 3,
     hours: {time_zone: Europe/Madrid, shifts: [{days: mon-fri, start: "09:00", end: "17:00"}]}}
"#;

use support_core::testing::object;

fn at(now: &str) -> Context {
    Context {
        now: now.parse::<Timestamp>().unwrap(),
    }
}

fn route(router: &Router, ticket: Value, now: &str) -> Route {
    let map = object(ticket);
    router.route(&Ticket::from_map(&map).unwrap(), &at(now))
}

fn roster(yaml: &str) -> Roster {
    Roster::parse("agents.yaml", yaml, AgentsFormat::Yaml).unwrap()
}

fn with_agents(yaml: &str) -> Router {
    Router::new(RouteConfig::default(), Some(roster(yaml))).unwrap()
}

fn queue_only() -> Router {
    Router::new(RouteConfig::default(), None).unwrap()
}

fn ids(route: &Route) -> Vec<&str> {
    route.candidates.iter().map(|c| c.id.as_str()).collect()
}

/// A Spanish billing ticket as support-tags leaves it.
fn spanish_billing() -> Value {
    json!({
        "subject": "Cobro duplicado",
        "description": "Me habéis cobrado dos veces la factura de octubre",
        "tags": {"tags": [{"name": "billing", "confidence": 0.9}, {"name": "refund", "confidence": 0.8}]}
    })
}

fn english_billing() -> Value {
    json!({
        "subject": "Charged twice",
        "description": "I was charged twice for my invoice, please help",
        "tags": {"tags": [{"name": "billing", "confidence": 0.9}]}
    })
}

// 2026-11-24 is a Tuesday; Madrid is UTC+1 and New York UTC-5 then.
const TUESDAY_MADRID_10: &str = "2026-11-24T09:00:00Z";

#[test]
fn embedded_config_parses_and_compiles() {
    let config = RouteConfig::default();
    assert_eq!(config.default_queue, "general");
    let router = Router::new(config, None).unwrap();
    for queue in [
        "billing",
        "technical",
        "accounts",
        "shipping",
        "retention",
        "vip",
        "spanish-support",
        "general",
    ] {
        assert!(router.queue_skills.contains_key(queue), "{queue}");
    }
}

#[test]
fn example_agents_file_loads_and_routes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/agents.yaml");
    let roster = Roster::load(&path).unwrap();
    assert!(roster.agents.len() >= 8);
    let router = Router::new(RouteConfig::default(), Some(roster)).unwrap();
    let r = route(&router, spanish_billing(), TUESDAY_MADRID_10);
    assert_eq!(
        (r.queue.as_str(), r.agent.as_deref()),
        ("billing", Some("lucia.martin"))
    );
}

#[test]
fn rules_are_tried_in_order() {
    let router = queue_only();
    let tagged = |tags: &[&str]| {
        let tags: Vec<Value> = tags
            .iter()
            .map(|t| json!({"name": t, "confidence": 0.8}))
            .collect();
        json!({"subject": "Hello", "tags": {"tags": tags}})
    };
    // Leaving beats money: the retention rule comes before the billing rule.
    let r = route(
        &router,
        tagged(&["billing", "cancellation"]),
        TUESDAY_MADRID_10,
    );
    assert_eq!((r.queue.as_str(), r.rule), ("retention", Some(2)));
    // ...and a service down beats someone leaving.
    let r = route(
        &router,
        tagged(&["cancellation", "outage"]),
        TUESDAY_MADRID_10,
    );
    assert_eq!((r.queue.as_str(), r.rule), ("technical", Some(1)));
    let r = route(&router, tagged(&["billing", "bug"]), TUESDAY_MADRID_10);
    assert_eq!((r.queue.as_str(), r.rule), ("billing", Some(8)));
    assert_eq!(r.confidence, 0.8, "the matching tag's confidence");
    assert!(
        r.reasons[1].starts_with("rules[8] -> queue billing: tag billing (0.8)"),
        "{:?}",
        r.reasons
    );

    // The categorizer's answer comes before keyword tags.
    let mut categorized = tagged(&["login"]);
    categorized["category"] =
        json!({"name": "Billing", "subcategory": "invoice", "confidence": 0.7});
    let r = route(&router, categorized, TUESDAY_MADRID_10);
    assert_eq!(
        (r.queue.as_str(), r.rule, r.confidence),
        ("billing", Some(3), 0.7)
    );
}

#[test]
fn vip_first_then_spanish_then_default() {
    let router = queue_only();
    let mut vip = spanish_billing();
    vip["customer"] = json!({"tier": "VIP"});
    let r = route(&router, vip, TUESDAY_MADRID_10);
    assert_eq!(
        (r.queue.as_str(), r.rule, r.confidence),
        ("vip", Some(0), 1.0)
    );

    let spanish =
        json!({"subject": "Hola", "description": "Tengo una pregunta sobre mi cuenta, gracias"});
    let r = route(&router, spanish, TUESDAY_MADRID_10);
    assert_eq!(
        (r.queue.as_str(), r.language.as_str()),
        ("spanish-support", "es")
    );
    assert!(
        r.reasons[0].starts_with("language es detected from the text"),
        "{:?}",
        r.reasons
    );
    assert!(
        r.confidence > 0.5 && r.confidence < 1.0,
        "the detector's confidence: {}",
        r.confidence
    );

    let english =
        json!({"subject": "Hello", "description": "I have a question about my plan, thanks"});
    let r = route(&router, english, TUESDAY_MADRID_10);
    assert_eq!(
        (r.queue.as_str(), r.rule, r.confidence),
        ("general", None, 0.5)
    );
    assert_eq!(r.reasons[1], "no rule matched -> default queue general");
    assert_eq!(r.reasons[2], "queue only: no agents file given (--agents)");
    assert_eq!((r.agent, r.candidates.len()), (None, 0));
}

#[test]
fn language_field_then_sentiment_then_detection() {
    let router = queue_only();
    let mut ticket =
        json!({"subject": "Hola, necesito ayuda por favor", "sentiment": {"language": "en"}});
    let r = route(&router, ticket.clone(), TUESDAY_MADRID_10);
    assert_eq!((r.language.as_str(), r.queue.as_str()), ("en", "general"));
    assert_eq!(r.reasons[0], "language en from sentiment.language");
    ticket["language"] = json!("es-MX");
    let r = route(&router, ticket, TUESDAY_MADRID_10);
    assert_eq!(
        (r.language.as_str(), r.queue.as_str()),
        ("es", "spanish-support")
    );
}

#[test]
fn a_ticket_in_another_language_is_not_sent_to_spanish_or_english_support() {
    let router = queue_only();
    let text = "Bonjour, je n'arrive pas à accéder à mon compte depuis hier, merci";
    let r = route(&router, json!({"description": text}), TUESDAY_MADRID_10);
    assert_eq!((r.language.as_str(), r.queue.as_str()), ("fr", "general"));
    let earlier =
        json!({"description": text, "sentiment": {"language": "es", "detected_language": "fr"}});
    let r = route(&router, earlier, TUESDAY_MADRID_10);
    assert_eq!(r.language, "fr");
    assert_eq!(r.reasons[0], "language fr from sentiment.detected_language");
}

#[test]
fn match_all_takes_weakest_evidence_and_any_the_strongest() {
    let mut config = RouteConfig::default();
    config.rules = support_core::config::parse_yaml(
        "test rules",
        r#"
- {queue: urgent-es, priority: [urgent, critical], language: [es]}
- {queue: money, match: any, category: [refund], tags: [billing]}
"#,
    )
    .unwrap();
    let router = Router::new(config, None).unwrap();
    let r = route(
        &router,
        json!({"subject": "Ayuda", "language": "es", "priority": {"level": "Urgent", "confidence": 0.6}}),
        TUESDAY_MADRID_10,
    );
    assert_eq!((r.queue.as_str(), r.confidence), ("urgent-es", 0.6));
    let r = route(
        &router,
        json!({"subject": "Refund", "category": {"name": "refund", "confidence": 0.55},
                   "tags": {"tags": [{"name": "billing", "confidence": 0.9}]}}),
        TUESDAY_MADRID_10,
    );
    assert_eq!((r.queue.as_str(), r.confidence), ("money", 0.9));
    assert!(
        r.reasons[1].contains("category is refund (0.55), tag billing (0.9)"),
        "{:?}",
        r.reasons
    );
}

#[test]
fn queue_without_skills_is_refused() {
    let mut config = RouteConfig::default();
    config
        .queue_skills
        .insert("billing".to_string(), Vec::new());
    let err = Router::new(config, None).err().unwrap().to_string();
    assert!(err.contains("queue_skills.billing is empty"), "{err}");
}

#[test]
fn rule_without_condition_is_refused() {
    let mut config = RouteConfig::default();
    config.rules = support_core::config::parse_yaml("test", "- {queue: everything}").unwrap();
    let err = Router::new(config, None).err().unwrap().to_string();
    assert!(
        err.contains("rules[0] (queue everything) has no condition"),
        "{err}"
    );
}

#[test]
fn agents_are_filtered_by_language_capacity_and_shift_then_ranked() {
    let router = with_agents(AGENTS);
    let r = route(&router, spanish_billing(), TUESDAY_MADRID_10);
    assert_eq!(r.queue, "billing");
    // bob speaks no Spanish (and is asleep in New York); cruz is full.
    assert_eq!(ids(&r), ["ana", "dana"]);
    assert_eq!(r.agent.as_deref(), Some("ana"));
    // ana: both wanted skills, 4/5 free, satisfaction 4.5 → 0.5 + 0.3·0.8 + 0.2·0.875.
    assert_eq!(r.candidates[0].score, 0.915);
    // dana: half the skills, 9/10 free, satisfaction 3 → 0.25 + 0.27 + 0.1.
    assert_eq!(r.candidates[1].score, 0.62);
    let reasons = &r.candidates[1].reasons;
    assert_eq!(
        reasons[0],
        "skills 1 of 2 wanted (has billing; lacks refund)"
    );
    assert_eq!(reasons[1], "free capacity 9 of 10");
    assert_eq!(
        reasons[3],
        "speaks es; on shift 09:00-17:00 Europe/Madrid, now Tue 10:00 local"
    );
    assert_eq!(r.reasons[2], "agent ana: best of 2 available (score 0.915)");
}

#[test]
fn shift_boundaries_follow_each_agents_time_zone() {
    // One router asked at several times: each answer is for its own time,
    // not the one an agent's shift was first worked out for.
    let router = with_agents(AGENTS);
    // 08:59 in New York: bob is not on shift yet; at 09:00 he is.
    assert_eq!(
        ids(&route(&router, english_billing(), "2026-11-24T13:59:00Z")),
        ["ana"]
    );
    assert_eq!(
        ids(&route(&router, english_billing(), "2026-11-24T14:00:00Z")),
        ["ana", "bob"]
    );
    // 17:00 in Madrid ends ana's shift (the end is excluded).
    assert_eq!(
        ids(&route(&router, english_billing(), "2026-11-24T15:59:00Z")),
        ["ana", "bob"]
    );
    assert_eq!(
        ids(&route(&router, english_billing(), "2026-11-24T16:00:00Z")),
        ["bob"]
    );
    // Madrid moves to summer time on 2026-03-29: 07:30 UTC is 08:30 local
    // the Monday before and 09:30 local the Monday after.
    assert!(route(&router, spanish_billing(), "2026-03-23T07:30:00Z")
        .agent
        .is_none());
    assert_eq!(
        route(&router, spanish_billing(), "2026-03-30T07:30:00Z")
            .agent
            .as_deref(),
        Some("ana")
    );
}

#[test]
fn overnight_shift_counts_for_the_next_morning() {
    let night = r#"
agents:
  - {id: noa, name: Noa, skills: [general], languages: [en], capacity: 4, load: 0,
     hours: {time_zone: America/Argentina/Buenos_Aires, shifts: [{days: [mon], start: "22:00", end: "06:00"}]}}
"#;
    let router = with_agents(night);
    let ticket = json!({"subject": "Hello", "description": "a question about my plan"});
    // Buenos Aires is UTC-3: Tuesday 05:59 local is still Monday's night shift.
    let r = route(&router, ticket.clone(), "2026-11-24T08:59:00Z");
    assert_eq!(r.agent.as_deref(), Some("noa"));
    assert!(r.candidates[0]
        .reasons
        .contains(&"no satisfaction score (counted as 3 of 5)".to_string()));
    assert!(route(&router, ticket, "2026-11-24T09:00:00Z")
        .agent
        .is_none());
}

#[test]
fn no_agent_fits_routes_to_the_queue_only() {
    let router = with_agents(AGENTS);
    // Saturday: nobody works.
    let r = route(&router, spanish_billing(), "2026-11-28T11:00:00Z");
    assert_eq!(
        (r.queue.as_str(), r.agent.as_deref(), r.candidates.len()),
        ("billing", None, 0)
    );
    assert_eq!(
        r.reasons[2],
        "queue only: none of the 4 agents fits (1 not speaking es, 1 at capacity, 2 off shift)"
    );
    let technical =
        json!({"subject": "App", "tags": {"tags": [{"name": "bug", "confidence": 0.8}]}});
    let r = route(&router, technical, TUESDAY_MADRID_10);
    assert_eq!(r.queue, "technical");
    assert!(
        r.reasons[2].ends_with("(4 not serving technical)"),
        "{:?}",
        r.reasons
    );
}

#[test]
fn agents_listing_queues_serve_only_those() {
    let yaml = r#"
agents:
  - {id: eva, name: Eva, skills: [billing], languages: [es], capacity: 5, load: 0, queues: [spanish-support],
     hours: {time_zone: Europe/Madrid, shifts: [{days: mon-sun, start: "00:00", end: "24:00"}]}}
"#;
    let router = with_agents(yaml);
    assert!(route(&router, spanish_billing(), TUESDAY_MADRID_10)
        .agent
        .is_none());
    let general = json!({"subject": "Hola", "description": "una pregunta, gracias"});
    assert_eq!(
        route(&router, general, TUESDAY_MADRID_10).agent.as_deref(),
        Some("eva")
    );
}

#[test]
fn candidates_are_capped_and_ties_go_to_the_id() {
    let mut config = RouteConfig::default();
    config.agents.candidates = 1;
    let twins = AGENTS
        .replace("id: dana", "id: aaron")
        .replace(
            "capacity: 10, load: 1, satisfaction: 3",
            "capacity: 5, load: 1, satisfaction: 4.5",
        )
        .replace(
            "skills: [billing], languages: [es-ES]",
            "skills: [billing, refund], languages: [es]",
        );
    let router = Router::new(config, Some(roster(&twins))).unwrap();
    let r = route(&router, spanish_billing(), TUESDAY_MADRID_10);
    assert_eq!(ids(&r), ["aaron"], "aaron and ana score the same");
    assert_eq!(
        r.reasons[2],
        "agent aaron: best of 2 available (score 0.915)"
    );
}

fn load_error(yaml: &str) -> String {
    Roster::parse("agents file team.yaml", yaml, AgentsFormat::Yaml)
        .err()
        .unwrap()
        .to_string()
}

#[test]
fn bad_agents_files_are_explained() {
    let err = load_error(&AGENTS.replace("America/New_York", "Mars/Olympus"));
    assert!(err.starts_with("agents file team.yaml:"), "{err}");
    assert!(
        err.contains("agents[1].hours.time_zone") && err.contains("Mars/Olympus"),
        "{err}"
    );
    let err = load_error(&AGENTS.replace("id: bob", "id: ana"));
    assert_eq!(
        err,
        "agents file team.yaml: agent id `ana` appears more than once"
    );
    let err = load_error(&AGENTS.replace("satisfaction: 3", "satisfaction: 7"));
    assert!(
        err.contains("agents[3].satisfaction") && err.contains("not between 1 and 5"),
        "{err}"
    );
    let err = load_error(&AGENTS.replace("start: \"09:00\"", "start: \"9am\""));
    assert!(
        err.contains("shifts[0].start") && err.contains("9am"),
        "{err}"
    );
    let err = load_error(&AGENTS.replace("capacity", "capacidad"));
    assert!(err.contains("capacidad"), "{err}");
    assert!(load_error("agents: []").contains("`agents` is empty"));

    let err = Roster::load(Path::new("/nonexistent/agents.yaml"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("cannot read agents file /nonexistent/agents.yaml"),
        "{err}"
    );

    let json_err = Roster::parse(
            "agents file team.json",
            r#"{"agents": [{"id": "x", "name": "X", "skills": [], "languages": ["en"], "capacity": "lots"}]}"#,
            AgentsFormat::Json,
        )
        .err()
        .unwrap()
        .to_string();
    assert!(
        json_err.starts_with("agents file team.json: key `agents[0].capacity`"),
        "{json_err}"
    );

    let unknown_queue = roster(&AGENTS.replace(
        "skills: [billing], languages: [en]",
        "skills: [billing], queues: [biling], languages: [en]",
    ));
    let err = Router::new(RouteConfig::default(), Some(unknown_queue))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.starts_with("agents.yaml: agent `bob` serves unknown queue `biling`"),
        "{err}"
    );
}

#[test]
fn json_agents_file_works_like_yaml() {
    let json = r#"{"agents": [{"id": "ana", "name": "Ana", "skills": ["billing"], "languages": ["es"],
            "capacity": 2, "load": 0, "satisfaction": 4,
            "hours": {"time_zone": "Europe/Madrid", "shifts": [{"days": ["mon", "tue"], "start": "09:00", "end": "17:00"}]}}]}"#;
    let roster = Roster::parse("agents.json", json, AgentsFormat::Json).unwrap();
    let router = Router::new(RouteConfig::default(), Some(roster)).unwrap();
    assert_eq!(
        route(&router, spanish_billing(), TUESDAY_MADRID_10)
            .agent
            .as_deref(),
        Some("ana")
    );
}
