//! The Markdown report: the same figures as the HTML page, as a headline and
//! tables that chat tools and issue trackers render.

use std::fmt::Write;

use super::{
    count, date_time, duration, percent, period_label, rating, shorten, stars, volume_buckets,
    FAILED_ARTICLES_SHOWN, QUERIES_SHOWN,
};
use crate::config::ExportConfig;
use crate::Summary;

/// Longest bar of the text charts, in blocks.
const BAR_WIDTH: u64 = 20;

pub fn markdown(summary: &Summary, config: &ExportConfig) -> String {
    let d = &summary.dashboard;
    let k = &summary.kpis;
    let m = &d.metrics;
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# {}: {}\n\n{} – {} · {}\n",
        inline(&config.report.title),
        period_label(d.period.since, d.period.until, d.generated_at).to_lowercase(),
        date_time(d.period.since),
        date_time(d.period.until),
        inline(&summary.source),
    );
    let _ = writeln!(
        md,
        "- **{}** tickets · **{}** resolved by the bot ({}) · **{}** open · **{}** critical or urgent\n\
         - First response **{}** on average · SLA met: first response **{}**, resolution **{}**\n\
         - CSAT **{}**/5 from {} ratings ({} satisfied) · feedback on **{}** of resolved tickets\n",
        count(m.total_tickets),
        count(m.chatbot_resolved),
        percent(Some(m.chatbot_resolution_rate)),
        count(m.pending),
        count(m.critical_urgent),
        duration(m.avg_first_response_minutes),
        percent(k.sla_overall.first_response_rate),
        percent(k.sla_overall.resolution_rate),
        rating(k.csat.average),
        count(k.csat.ratings),
        percent(k.csat.satisfied_rate),
        percent(k.feedback_response_rate),
    );

    let (buckets, hourly) = volume_buckets(&d.trends);
    let busiest = buckets.iter().map(|b| b.tickets).max().unwrap_or(0);
    let _ = writeln!(
        md,
        "## Tickets {}\n\n| {} | Tickets | Bot | Agents | Open | |\n|---|---:|---:|---:|---:|---|",
        if hourly { "per hour" } else { "per day" },
        if hourly { "Hour" } else { "Day" },
    );
    for b in &buckets {
        let when = b.start.to_zoned_datetime(jiff::tz::TimeZone::UTC);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            if hourly {
                when.strftime("%-d %b %H:00").to_string()
            } else {
                when.strftime("%a %-d %b").to_string()
            },
            count(b.tickets),
            count(b.bot_resolved),
            count(b.agent_resolved()),
            count(b.open()),
            bar(b.tickets, busiest),
        );
    }

    let _ = writeln!(
        md,
        "\n## By priority\n\n| Priority | Tickets | Share | First response | SLA first response | SLA resolution |\n|---|---:|---:|---:|---:|---:|"
    );
    for ((share, response), sla) in d
        .priority_distribution
        .iter()
        .zip(&k.first_response_by_priority)
        .zip(&k.sla_compliance)
    {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} ({}/{}) | {} ({}/{}) |",
            share.priority,
            count(share.tickets),
            percent(Some(share.share)),
            duration(response.avg_first_response_minutes),
            percent(sla.first_response_rate),
            sla.first_response_met,
            sla.first_response_decided,
            percent(sla.resolution_rate),
            sla.resolution_met,
            sla.resolution_decided,
        );
    }

    if !d.top_categories.is_empty() {
        let top = d.top_categories[0].tickets;
        let _ = writeln!(
            md,
            "\n## Top categories\n\n| Category | Tickets | Share | |\n|---|---:|---:|---|"
        );
        for c in &d.top_categories {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                inline(&c.category),
                count(c.tickets),
                percent(Some(c.share)),
                bar(c.tickets, top)
            );
        }
    }

    if !d.top_agents.is_empty() {
        let _ = writeln!(
            md,
            "\n## Agents\n\n| Agent | Tickets | Resolved | First response | Resolution | CSAT |\n|---|---:|---:|---:|---:|---:|"
        );
        for a in &d.top_agents {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                inline(a.name.as_deref().unwrap_or(&a.agent_id)),
                count(a.tickets),
                count(a.resolved),
                duration(a.avg_first_response_minutes),
                duration(a.avg_resolution_minutes),
                rating(a.csat_avg),
            );
        }
    }

    let c = &summary.conversations;
    if c.overall.conversations > 0 {
        let _ = writeln!(
            md,
            "\n## Conversations\n\n| Channel | Conversations | Resolved | By the bot | CSAT | Turns | Duration |\n|---|---:|---:|---:|---:|---:|---:|"
        );
        for g in &c.by_channel {
            let f = &g.figures;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                inline(&g.name),
                count(f.conversations),
                percent(f.resolution_rate),
                percent(f.bot_resolution_rate),
                rating(f.csat_avg),
                f.avg_turns
                    .map_or_else(|| "–".into(), |t| format!("{t:.1}")),
                duration(f.avg_duration_minutes),
            );
        }
    }

    if !summary.failed_articles.is_empty() {
        let _ = writeln!(
            md,
            "\n## Knowledge base: automatic answers that failed\n\nRated 2 or less, or corrected to another article.\n\n| Article | Answered | Failed | Rate | What customers asked |\n|---|---:|---:|---:|---|"
        );
        for a in summary.failed_articles.iter().take(FAILED_ARTICLES_SHOWN) {
            let queries: Vec<String> = a
                .failed_queries
                .iter()
                .take(QUERIES_SHOWN)
                .map(|q| format!("“{}”", inline(&shorten(q))))
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                inline(&a.article_id),
                count(a.answered as u64),
                count(a.failed as u64),
                percent(Some(a.failure_rate)),
                queries.join(" · "),
            );
        }
    }

    if !d.recent_feedback.is_empty() {
        let _ = writeln!(md, "\n## Latest feedback\n");
        for f in &d.recent_feedback {
            let _ = write!(md, "- {} {}", stars(f.rating), inline(&f.ticket_id));
            if let Some(when) = f.created_at {
                let _ = write!(md, " · {}", date_time(when));
            }
            match f.comment.as_deref().filter(|c| !c.trim().is_empty()) {
                Some(comment) => {
                    let _ = writeln!(md, ": “{}”", inline(comment));
                }
                None => md.push('\n'),
            }
        }
    }
    md
}

/// Text for one line of Markdown (a table cell or a list item): no line
/// breaks, and `|` and markup characters escaped.
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A bar of blocks, `value` of `max`.
fn bar(value: u64, max: u64) -> String {
    if max == 0 {
        return String::new();
    }
    let blocks = (value * BAR_WIDTH).div_ceil(max);
    "█".repeat(blocks as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_a_table() {
        assert_eq!(inline("a|b\n*c*"), r"a\|b \*c\*");
        assert_eq!(bar(10, 20), "█".repeat(10));
        assert_eq!(bar(1, 20), "█");
        assert_eq!(bar(0, 20), "");
        assert_eq!(bar(0, 0), "");
    }
}
