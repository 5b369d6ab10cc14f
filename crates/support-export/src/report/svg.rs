//! The charts of the HTML report, as inline SVG: stacked columns over time
//! and horizontal bars. Sizes are in the viewBox; the page scales them.

use std::fmt::Write;

/// Escapes text for HTML and SVG.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// One series of a stacked chart.
pub struct Series<'a> {
    pub name: &'a str,
    pub color: &'a str,
}

/// One column: its x label (empty: none drawn) and a value per series, bottom first.
pub struct Column {
    pub label: String,
    pub values: Vec<u64>,
    /// Shown when hovering the column.
    pub title: String,
}

/// Stacked columns with a y axis and a legend.
pub fn stacked_columns(
    columns: &[Column],
    series: &[Series<'_>],
    width: f64,
    height: f64,
) -> String {
    let (left, right, top, bottom) = (44.0, 8.0, 30.0, 26.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max = columns
        .iter()
        .map(|c| c.values.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    let (step, ticks) = nice_ticks(max as f64);
    let y_max = step * ticks as f64;
    let y = |v: f64| top + plot_h - v / y_max * plot_h;

    let mut svg = open_svg(width, height, "Tickets over time");
    legend(&mut svg, series, left, 14.0);
    for i in 0..=ticks {
        let value = step * i as f64;
        let at = y(value);
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{x2}" y1="{at:.1}" y2="{at:.1}" stroke="{stroke}" stroke-width="1"/><text x="{tx}" y="{ty:.1}" text-anchor="end" class="axis">{label}</text>"##,
            x2 = width - right,
            stroke = if i == 0 { "#94a3b8" } else { "#e2e8f0" },
            tx = left - 6.0,
            ty = at + 4.0,
            label = super::count(value as u64),
        );
    }
    let slot = plot_w / columns.len().max(1) as f64;
    let bar_w = (slot * 0.72).max(1.0);
    for (i, column) in columns.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let _ = write!(svg, "<g><title>{}</title>", escape(&column.title));
        let mut base = 0.0;
        for (value, s) in column.values.iter().zip(series) {
            if *value == 0 {
                continue;
            }
            let (y0, y1) = (y(base), y(base + *value as f64));
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y1:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{color}"/>"#,
                h = y0 - y1,
                color = s.color,
            );
            base += *value as f64;
        }
        svg.push_str("</g>");
        // Totals on top, while there is room to read them.
        if columns.len() <= 31 && base > 0.0 {
            let _ = write!(
                svg,
                r#"<text x="{cx:.1}" y="{ty:.1}" text-anchor="middle" class="small">{total}</text>"#,
                cx = x + bar_w / 2.0,
                ty = y(base) - 4.0,
                total = super::count(base as u64),
            );
        }
        if !column.label.is_empty() {
            let _ = write!(
                svg,
                r#"<text x="{cx:.1}" y="{ty:.1}" text-anchor="middle" class="axis">{label}</text>"#,
                cx = x + bar_w / 2.0,
                ty = height - 8.0,
                label = escape(&column.label),
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One horizontal bar.
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// Written at the end of the bar.
    pub text: String,
    pub color: String,
}

/// Horizontal bars on a common scale up to `max`, a label on the left of each.
pub fn bars(items: &[Bar], max: f64, width: f64, label_width: f64) -> String {
    let row = 26.0;
    let height = row * items.len().max(1) as f64 + 4.0;
    // Room for the longest value text (bold 12.5px: about 7.5px a character).
    let value_space = items
        .iter()
        .map(|i| i.text.chars().count() as f64 * 7.5 + 12.0)
        .fold(40.0, f64::max);
    let bar_area = width - label_width - value_space;
    let mut svg = open_svg(width, height, "Bar chart");
    for (i, item) in items.iter().enumerate() {
        let top = 2.0 + row * i as f64;
        let w = if max > 0.0 {
            item.value / max * bar_area
        } else {
            0.0
        };
        let _ = write!(
            svg,
            r##"<text x="{lx}" y="{ty:.1}" text-anchor="end" class="label">{label}</text><rect x="{label_width}" y="{by:.1}" width="{bar_area:.1}" height="16" rx="3" fill="#f1f5f9"/><rect x="{label_width}" y="{by:.1}" width="{w:.1}" height="16" rx="3" fill="{color}"/><text x="{vx:.1}" y="{ty:.1}" class="value">{text}</text>"##,
            lx = label_width - 8.0,
            ty = top + 13.0,
            label = escape(&item.label),
            by = top + 1.0,
            color = item.color,
            vx = label_width + w.max(0.0) + 6.0,
            text = escape(&item.text),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A pair of rates (0 to 1) per row against a target line, e.g. SLA compliance
/// by priority: the first of each pair above, the second below.
pub struct RatePair {
    pub label: String,
    pub rates: [Option<f64>; 2],
    /// Hover text for each bar.
    pub titles: [String; 2],
}

pub fn rate_pairs(rows: &[RatePair], series: [Series<'_>; 2], target: f64, width: f64) -> String {
    let (label_width, value_space, top) = (86.0, 56.0, 26.0);
    let row = 34.0;
    let height = top + row * rows.len().max(1) as f64 + 16.0;
    let bar_area = width - label_width - value_space;
    let mut svg = open_svg(width, height, "Rates against a target");
    legend(&mut svg, &series, label_width, 12.0);
    for (i, pair) in rows.iter().enumerate() {
        let y0 = top + row * i as f64;
        let _ = write!(
            svg,
            r#"<text x="{lx}" y="{ty:.1}" text-anchor="end" class="label">{label}</text>"#,
            lx = label_width - 8.0,
            ty = y0 + 17.0,
            label = escape(&pair.label),
        );
        for (k, (rate, s)) in pair.rates.iter().zip(&series).enumerate() {
            let by = y0 + 3.0 + 13.0 * k as f64;
            let _ = write!(
                svg,
                r##"<g><title>{title}</title><rect x="{label_width}" y="{by:.1}" width="{bar_area:.1}" height="11" fill="#f1f5f9"/>"##,
                title = escape(&pair.titles[k]),
            );
            match rate {
                Some(rate) => {
                    let _ = write!(
                        svg,
                        r#"<rect x="{label_width}" y="{by:.1}" width="{w:.1}" height="11" fill="{color}"/><text x="{vx:.1}" y="{ty:.1}" class="small">{text}</text>"#,
                        w = rate * bar_area,
                        color = s.color,
                        vx = label_width + bar_area + 6.0,
                        ty = by + 9.5,
                        text = super::percent(Some(*rate)),
                    );
                }
                None => {
                    let _ = write!(
                        svg,
                        r#"<text x="{vx:.1}" y="{ty:.1}" class="small muted">no data</text>"#,
                        vx = label_width + bar_area + 6.0,
                        ty = by + 9.5,
                    );
                }
            }
            svg.push_str("</g>");
        }
    }
    let tx = label_width + target * bar_area;
    let _ = write!(
        svg,
        r##"<line x1="{tx:.1}" x2="{tx:.1}" y1="{y1}" y2="{y2:.1}" stroke="#0f172a" stroke-width="1.5" stroke-dasharray="4 3"/><text x="{tx:.1}" y="{ly:.1}" text-anchor="middle" class="small">target {target}</text>"##,
        y1 = top - 2.0,
        y2 = height - 14.0,
        ly = height - 3.0,
        target = super::percent(Some(target)),
    );
    svg.push_str("</svg>");
    svg
}

fn open_svg(width: f64, height: f64, label: &str) -> String {
    format!(
        r#"<svg viewBox="0 0 {width} {height:.0}" width="100%" role="img" aria-label="{label}" xmlns="http://www.w3.org/2000/svg">"#
    )
}

fn legend(svg: &mut String, series: &[Series<'_>], x: f64, y: f64) {
    let mut at = x;
    for s in series {
        let _ = write!(
            svg,
            r#"<rect x="{at:.1}" y="{ry}" width="11" height="11" rx="2" fill="{color}"/><text x="{tx:.1}" y="{ty}" class="legend">{name}</text>"#,
            ry = y - 9.0,
            color = s.color,
            tx = at + 15.0,
            ty = y,
            name = escape(s.name),
        );
        at += 15.0 + 7.0 * s.name.chars().count() as f64 + 18.0;
    }
}

/// A round step (1, 2 or 5 × 10^k) and how many steps reach past `max` (at most about 5).
fn nice_ticks(max: f64) -> (f64, u32) {
    if max <= 0.0 {
        return (1.0, 1);
    }
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
        .max(1.0);
    (step, (max / step).ceil() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(nice_ticks(0.0), (1.0, 1));
        assert_eq!(nice_ticks(3.0), (1.0, 3));
        assert_eq!(nice_ticks(47.0), (10.0, 5));
        assert_eq!(nice_ticks(120.0), (50.0, 3));
        assert_eq!(nice_ticks(1000.0), (200.0, 5));
    }

    #[test]
    fn charts_scale_to_the_largest_value() {
        let svg = bars(
            &[
                Bar {
                    label: "refund".into(),
                    value: 10.0,
                    text: "10".into(),
                    color: "#000".into(),
                },
                Bar {
                    label: "order & <b>".into(),
                    value: 5.0,
                    text: "5".into(),
                    color: "#000".into(),
                },
            ],
            10.0,
            400.0,
            100.0,
        );
        // Bar area 400 - 100 - 40 (value texts are short) = 260: full and half width.
        assert!(
            svg.contains(r##"width="260.0" height="16" rx="3" fill="#000""##),
            "{svg}"
        );
        assert!(
            svg.contains(r##"width="130.0" height="16" rx="3" fill="#000""##),
            "{svg}"
        );
        assert!(svg.contains("order &amp; &lt;b&gt;"));
        let columns = [
            Column {
                label: "a".into(),
                values: vec![3, 1],
                title: "a".into(),
            },
            Column {
                label: String::new(),
                values: vec![0, 2],
                title: "b".into(),
            },
        ];
        let series = [
            Series {
                name: "x",
                color: "#111",
            },
            Series {
                name: "y",
                color: "#222",
            },
        ];
        let svg = stacked_columns(&columns, &series, 300.0, 200.0);
        assert_eq!(
            svg.matches(r##"fill="#111""##).count(),
            2,
            "legend and one segment: zeros draw nothing"
        );
        assert_eq!(svg.matches(r##"fill="#222""##).count(), 3);
        assert_eq!(svg.matches("<title>").count(), 2);
    }
}
