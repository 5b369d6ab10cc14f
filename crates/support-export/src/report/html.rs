//! The HTML report: headline tiles, then charts, then the people (agents and
//! what customers said). One file: styles inline, charts inline SVG.

use std::fmt::Write;

use jiff::tz::TimeZone;

use super::svg::{self, escape, Bar, Column, RatePair, Series};
use super::{
    count, date_time, duration, percent, period_label, rating, shorten, stars, volume_buckets,
    FAILED_ARTICLES_SHOWN, QUERIES_SHOWN,
};
use crate::config::ExportConfig;
use crate::metrics::PRIORITIES;
use crate::Summary;

const STYLE: &str = r#"
:root { --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --card: #ffffff; --page: #f8fafc;
        --good: #15803d; --warn: #b45309; --bad: #b91c1c; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--page); color: var(--ink);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 40px; }
header h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
header p { margin: 0; color: var(--muted); }
h2 { font-size: 15px; margin: 0 0 10px; }
h2 small { font-weight: normal; color: var(--muted); }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 22px 0 16px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px;
        border-top: 4px solid #cbd5e1; }
.tile.good { border-top-color: var(--good); } .tile.warn { border-top-color: var(--warn); } .tile.bad { border-top-color: var(--bad); }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.tile .value { font-size: 28px; font-weight: 650; margin: 2px 0; font-variant-numeric: tabular-nums; }
.tile .note { color: var(--muted); font-size: 12.5px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.wide { grid-column: 1 / -1; }
svg text { font-family: inherit; fill: var(--ink); }
svg .axis { font-size: 11px; fill: var(--muted); }
svg .label { font-size: 12.5px; }
svg .value { font-size: 12.5px; font-weight: 600; }
svg .small { font-size: 11px; }
svg .muted { fill: var(--muted); }
svg .legend { font-size: 12px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: 0.03em; }
td.num, th.num { text-align: right; }
.meter { display: inline-block; width: 60px; height: 8px; background: #f1f5f9; border-radius: 4px; vertical-align: middle; margin-left: 6px; }
.meter i { display: block; height: 100%; border-radius: 4px; background: #f59e0b; }
.meter i.good { background: #22c55e; } .meter i.bad { background: #ef4444; }
.feedback { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.quote { border-left: 4px solid #cbd5e1; padding: 6px 10px; background: #f8fafc; border-radius: 0 6px 6px 0; }
.quote.low { border-left-color: var(--bad); } .quote.high { border-left-color: var(--good); }
.quote .stars { color: #f59e0b; letter-spacing: 1px; }
.quote .meta { color: var(--muted); font-size: 12px; }
.quote p { margin: 2px 0 0; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 18px; color: var(--muted); font-size: 12px; }
@media screen and (max-width: 760px) { .tiles { grid-template-columns: repeat(2, 1fr); } .grid, .feedback { grid-template-columns: 1fr; } }
@media print {
  @page { size: A4 landscape; margin: 10mm; }
  body { background: #fff; font-size: 12px; }
  .tile .value { font-size: 22px; }
  main { max-width: none; padding: 0; }
  .card, .tile { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"#;

/// Colors by priority, most pressing first (as [`PRIORITIES`]).
const PRIORITY_COLORS: [&str; 5] = ["#b91c1c", "#ea580c", "#f59e0b", "#3b82f6", "#94a3b8"];
const BOT: &str = "#0d9488";
const AGENT: &str = "#6366f1";
const OPEN: &str = "#cbd5e1";
/// SLA compliance a service should reach (the dashed line).
const SLA_TARGET: f64 = 0.9;

pub fn html(summary: &Summary, config: &ExportConfig) -> String {
    let d = &summary.dashboard;
    let k = &summary.kpis;
    let m = &d.metrics;
    let period = period_label(d.period.since, d.period.until, d.generated_at);
    let mut page = String::with_capacity(64 << 10);
    let _ = write!(
        page,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {period}</title><style>{STYLE}</style></head>
<body><main>
<header><h1>{title}</h1><p>{period}: {since} – {until} · {source}</p></header>
"#,
        title = escape(&config.report.title),
        period = escape(&period),
        since = date_time(d.period.since),
        until = date_time(d.period.until),
        source = escape(&summary.source),
    );

    // Headline tiles.
    page.push_str(r#"<section class="tiles">"#);
    tile(
        &mut page,
        "Tickets",
        &count(m.total_tickets),
        &format!("{} critical or urgent", count(m.critical_urgent)),
        "",
    );
    tile(
        &mut page,
        "Resolved by the bot",
        &percent(Some(m.chatbot_resolution_rate)),
        &format!(
            "{} of {} tickets",
            count(m.chatbot_resolved),
            count(m.total_tickets)
        ),
        "",
    );
    tile(
        &mut page,
        "Still open",
        &count(m.pending),
        &format!(
            "{} of tickets",
            percent((m.total_tickets > 0).then(|| m.pending as f64 / m.total_tickets as f64))
        ),
        "",
    );
    tile(
        &mut page,
        "First response",
        &duration(m.avg_first_response_minutes),
        "average, all priorities",
        "",
    );
    let sla = &k.sla_overall;
    tile(
        &mut page,
        "First response SLA",
        &percent(sla.first_response_rate),
        &format!("met, of {} decided", count(sla.first_response_decided)),
        grade(sla.first_response_rate, SLA_TARGET, 0.75),
    );
    tile(
        &mut page,
        "Resolution SLA",
        &percent(sla.resolution_rate),
        &format!("met, of {} decided", count(sla.resolution_decided)),
        grade(sla.resolution_rate, SLA_TARGET, 0.75),
    );
    tile(
        &mut page,
        "Customer satisfaction",
        &format!("{} <small>/ 5</small>", rating(k.csat.average)),
        &format!(
            "{} satisfied · {} ratings",
            percent(k.csat.satisfied_rate),
            count(k.csat.ratings)
        ),
        grade(k.csat.average.map(|a| a / 5.0), 0.8, 0.6),
    );
    tile(
        &mut page,
        "Feedback response",
        &percent(k.feedback_response_rate),
        "of resolved tickets were rated",
        "",
    );
    page.push_str("</section>\n<section class=\"grid\">\n");

    // Volume over time.
    let (buckets, hourly) = volume_buckets(&d.trends);
    let label_every = (buckets.len() / 12).max(1);
    let columns: Vec<Column> = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let local = b.start.to_zoned_datetime(TimeZone::UTC);
            let label = if i % label_every != 0 {
                String::new()
            } else if hourly {
                local.strftime("%H:00").to_string()
            } else {
                local.strftime("%a %-d").to_string()
            };
            let when = if hourly {
                local.strftime("%-d %b %H:00").to_string()
            } else {
                local.strftime("%a %-d %b").to_string()
            };
            Column {
                label,
                values: vec![b.bot_resolved, b.agent_resolved(), b.open()],
                title: format!(
                    "{when}: {} tickets, {} resolved by the bot, {} by agents, {} open",
                    b.tickets,
                    b.bot_resolved,
                    b.agent_resolved(),
                    b.open()
                ),
            }
        })
        .collect();
    card(
        &mut page,
        "wide",
        &format!(
            "Tickets created {} <small>· by what has become of them</small>",
            if hourly { "per hour" } else { "per day" }
        ),
        &svg::stacked_columns(
            &columns,
            &[
                Series {
                    name: "resolved by the bot",
                    color: BOT,
                },
                Series {
                    name: "resolved by agents",
                    color: AGENT,
                },
                Series {
                    name: "open",
                    color: OPEN,
                },
            ],
            1000.0,
            250.0,
        ),
    );

    // Priorities.
    let max_priority = d
        .priority_distribution
        .iter()
        .map(|p| p.tickets)
        .max()
        .unwrap_or(0);
    let priority_bars: Vec<Bar> = d
        .priority_distribution
        .iter()
        .zip(PRIORITY_COLORS)
        .map(|(p, color)| Bar {
            label: p.priority.clone(),
            value: p.tickets as f64,
            text: format!("{} · {}", count(p.tickets), percent(Some(p.share))),
            color: color.into(),
        })
        .collect();
    card(
        &mut page,
        "",
        "Tickets by priority",
        &svg::bars(&priority_bars, max_priority as f64, 480.0, 80.0),
    );

    // SLA compliance.
    let pairs: Vec<RatePair> = k
        .sla_compliance
        .iter()
        .filter(|s| s.tickets > 0)
        .map(|s| RatePair {
            label: s.priority.clone(),
            rates: [s.first_response_rate, s.resolution_rate],
            titles: [
                format!(
                    "{}: first response met {} of {} decided",
                    s.priority, s.first_response_met, s.first_response_decided
                ),
                format!(
                    "{}: resolution met {} of {} decided",
                    s.priority, s.resolution_met, s.resolution_decided
                ),
            ],
        })
        .collect();
    card(
        &mut page,
        "",
        "SLA met, by priority",
        &if pairs.is_empty() {
            empty("No prioritized tickets in this period.")
        } else {
            svg::rate_pairs(
                &pairs,
                [
                    Series {
                        name: "first response",
                        color: "#0f766e",
                    },
                    Series {
                        name: "resolution",
                        color: "#7c3aed",
                    },
                ],
                SLA_TARGET,
                480.0,
            )
        },
    );

    // First response by priority.
    let responses: Vec<&crate::metrics::PriorityResponse> = k
        .first_response_by_priority
        .iter()
        .filter(|p| p.avg_first_response_minutes.is_some())
        .collect();
    let max_minutes = responses
        .iter()
        .filter_map(|p| p.avg_first_response_minutes)
        .fold(0.0, f64::max);
    let response_bars: Vec<Bar> = responses
        .iter()
        .map(|p| Bar {
            label: p.priority.clone(),
            value: p.avg_first_response_minutes.unwrap_or(0.0),
            text: duration(p.avg_first_response_minutes),
            color: PRIORITY_COLORS[PRIORITIES
                .iter()
                .position(|l| *l == p.priority)
                .unwrap_or(4)]
            .into(),
        })
        .collect();
    card(
        &mut page,
        "",
        "Average first response, by priority",
        &if response_bars.is_empty() {
            empty("No first responses in this period.")
        } else {
            svg::bars(&response_bars, max_minutes, 480.0, 80.0)
        },
    );

    // Categories.
    let max_category = d.top_categories.first().map_or(0, |c| c.tickets);
    let category_bars: Vec<Bar> = d
        .top_categories
        .iter()
        .map(|c| Bar {
            label: c.category.replace('_', " "),
            value: c.tickets as f64,
            text: format!("{} · {}", count(c.tickets), percent(Some(c.share))),
            color: "#0ea5e9".into(),
        })
        .collect();
    card(
        &mut page,
        "",
        "Top categories",
        &if category_bars.is_empty() {
            empty("No categorized tickets in this period.")
        } else {
            svg::bars(&category_bars, max_category as f64, 480.0, 120.0)
        },
    );

    // Conversations by channel.
    let c = &summary.conversations;
    let channel_pairs: Vec<RatePair> = c
        .by_channel
        .iter()
        .map(|g| RatePair {
            label: g.name.clone(),
            rates: [g.figures.resolution_rate, g.figures.bot_resolution_rate],
            titles: [
                format!(
                    "{}: {} of {} conversations resolved",
                    g.name, g.figures.resolved, g.figures.conversations
                ),
                format!("{}: {} resolved by the bot", g.name, g.figures.bot_resolved),
            ],
        })
        .collect();
    let o = &c.overall;
    card(
        &mut page,
        "",
        &format!(
            "Conversations <small>· {} transcripts, {} turns, {} on average</small>",
            count(o.conversations),
            o.avg_turns
                .map_or_else(|| "–".into(), |t| format!("{t:.1}")),
            duration(o.avg_duration_minutes)
        ),
        &if channel_pairs.is_empty() {
            empty("No transcripts in this period.")
        } else {
            svg::rate_pairs(
                &channel_pairs,
                [
                    Series {
                        name: "resolved",
                        color: AGENT,
                    },
                    Series {
                        name: "by the bot",
                        color: BOT,
                    },
                ],
                SLA_TARGET,
                480.0,
            )
        },
    );

    // Ratings.
    let max_stars = k.csat.distribution.iter().copied().max().unwrap_or(0);
    let star_bars: Vec<Bar> = (1..=5u8)
        .rev()
        .map(|r| {
            let n = k.csat.distribution[usize::from(r - 1)];
            Bar {
                label: stars(r),
                value: n as f64,
                text: count(n),
                color: if r >= config.csat.satisfied_from {
                    "#22c55e"
                } else if r == 3 {
                    "#f59e0b"
                } else {
                    "#ef4444"
                }
                .into(),
            }
        })
        .collect();
    card(
        &mut page,
        "",
        &format!(
            "Ratings <small>· {} average</small>",
            rating(k.csat.average)
        ),
        &if k.csat.ratings == 0 {
            empty("No ratings in this period.")
        } else {
            svg::bars(&star_bars, max_stars as f64, 480.0, 90.0)
        },
    );

    // Agents.
    let mut agents = String::from(
        r#"<table><thead><tr><th>Agent</th><th class="num">Tickets</th><th class="num">Resolved</th><th class="num">First response</th><th class="num">Resolution</th><th class="num">CSAT</th></tr></thead><tbody>"#,
    );
    for a in &d.top_agents {
        let csat = match a.csat_avg {
            Some(avg) => format!(
                r#"{avg:.1}<span class="meter"><i class="{grade}" style="width:{w:.0}%"></i></span>"#,
                w = avg / 5.0 * 100.0,
                grade = grade(Some(avg / 5.0), 0.8, 0.6),
            ),
            None => "–".into(),
        };
        let _ = write!(
            agents,
            r#"<tr><td>{name}</td><td class="num">{tickets}</td><td class="num">{resolved}</td><td class="num">{first}</td><td class="num">{resolution}</td><td class="num">{csat}</td></tr>"#,
            name = escape(a.name.as_deref().unwrap_or(&a.agent_id)),
            tickets = count(a.tickets),
            resolved = count(a.resolved),
            first = duration(a.avg_first_response_minutes),
            resolution = duration(a.avg_resolution_minutes),
        );
    }
    agents.push_str("</tbody></table>");
    card(
        &mut page,
        "wide",
        "Agents <small>· by tickets resolved</small>",
        &if d.top_agents.is_empty() {
            empty("No assigned tickets in this period.")
        } else {
            agents
        },
    );

    // Knowledge-base answers that failed (only the store knows).
    if !summary.failed_articles.is_empty() {
        let mut table = String::from(
            r#"<table><thead><tr><th>Article</th><th class="num">Answered</th><th class="num">Failed</th><th class="num">Rate</th><th>What customers asked</th></tr></thead><tbody>"#,
        );
        for a in summary.failed_articles.iter().take(FAILED_ARTICLES_SHOWN) {
            let queries: String = a
                .failed_queries
                .iter()
                .take(QUERIES_SHOWN)
                .map(|q| format!("<p>“{}”</p>", escape(&shorten(q))))
                .collect();
            let _ = write!(
                table,
                r#"<tr><td>{id}</td><td class="num">{answered}</td><td class="num">{failed}</td><td class="num bad">{rate}</td><td>{queries}</td></tr>"#,
                id = escape(&a.article_id),
                answered = count(a.answered as u64),
                failed = count(a.failed as u64),
                rate = percent(Some(a.failure_rate)),
            );
        }
        table.push_str("</tbody></table>");
        card(
            &mut page,
            "wide",
            "Knowledge base <small>· automatic answers rated 2 or less, or corrected to another article</small>",
            &table,
        );
    }

    // What customers said.
    let mut quotes = String::from(r#"<div class="feedback">"#);
    for f in &d.recent_feedback {
        let class = match f.rating {
            1 | 2 => "low",
            r if r >= config.csat.satisfied_from => "high",
            _ => "",
        };
        let _ = write!(
            quotes,
            r#"<div class="quote {class}"><span class="stars">{stars}</span> <span class="meta">{ticket}{when}</span>{comment}</div>"#,
            stars = stars(f.rating),
            ticket = escape(&f.ticket_id),
            when = f
                .created_at
                .map_or_else(String::new, |t| format!(" · {}", date_time(t))),
            comment = f
                .comment
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .map_or_else(String::new, |c| format!("<p>{}</p>", escape(c))),
        );
    }
    quotes.push_str("</div>");
    card(
        &mut page,
        "wide",
        "Latest feedback",
        &if d.recent_feedback.is_empty() {
            empty("No feedback in this period.")
        } else {
            quotes
        },
    );

    let _ = write!(
        page,
        r#"</section>
<footer>Generated {generated} by support-export from {source}. Tickets are counted by creation time. Open: not resolved or closed.
Resolved by the bot: resolved_by is “bot”. An SLA target counts once it is met, missed, or overdue. Ratings are of this period's tickets.</footer>
</main></body></html>
"#,
        generated = date_time(d.generated_at),
        source = escape(&summary.source),
    );
    page
}

fn tile(page: &mut String, label: &str, value: &str, note: &str, grade: &str) {
    let _ = write!(
        page,
        r#"<div class="tile {grade}"><div class="label">{label}</div><div class="value">{value}</div><div class="note">{note}</div></div>"#,
        label = escape(label),
        note = escape(note),
    );
}

/// `good`, `warn` or `bad` for a rate against thresholds; nothing without a rate.
fn grade(rate: Option<f64>, good: f64, warn: f64) -> &'static str {
    match rate {
        Some(r) if r >= good => "good",
        Some(r) if r >= warn => "warn",
        Some(_) => "bad",
        None => "",
    }
}

fn card(page: &mut String, class: &str, title: &str, body: &str) {
    let _ = writeln!(
        page,
        r#"<div class="card {class}"><h2>{title}</h2>{body}</div>"#
    );
}

fn empty(text: &str) -> String {
    format!(r#"<p class="empty">{}</p>"#, escape(text))
}
