//! Charts drawn on the server as inline SVG (D2): no script, no library.
//! Readable without colour: every bar carries its value as text, series
//! differ by pattern (solid, hatched, dotted ...) as well as by shade and
//! are named next to their swatch, and each chart's page shows the same
//! numbers in a table. Bars carry `data-value` for tests and tools.

use std::fmt::Write;

/// A rendered `<svg>` element, inserted into a page as is (every text in it
/// is escaped here).
#[derive(Debug, Clone, Default)]
pub(crate) struct Svg(pub String);

impl std::fmt::Display for Svg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Escapes text for SVG (XML) content and attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

/// A label cut to `n` characters.
fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

const INK: &str = "#1c2230";
const MUTED: &str = "#5b6475";
/// Series patterns: (shade, kind). Distinct by pattern first, shade second.
const PATTERNS: [(&str, &str); 6] = [
    ("#243b6b", "solid"),
    ("#2456c9", "hatch"),
    ("#0f766e", "dots"),
    ("#9cc3ff", "solid"),
    ("#5b6475", "cross"),
    ("#b36b00", "stripes"),
];

/// `<defs>` with the patterns of a chart, ids `{id}-p0` ...
fn defs(id: &str) -> String {
    let mut s = String::from("<defs>");
    for (i, (shade, kind)) in PATTERNS.iter().enumerate() {
        let body = match *kind {
            "hatch" => format!(
                "<rect width=\"6\" height=\"6\" fill=\"#ffffff\"/><path d=\"M-1,1 l2,-2 M0,6 l6,-6 M5,7 l2,-2\" stroke=\"{shade}\" stroke-width=\"2\"/>"
            ),
            "dots" => format!(
                "<rect width=\"6\" height=\"6\" fill=\"#ffffff\"/><circle cx=\"3\" cy=\"3\" r=\"1.6\" fill=\"{shade}\"/>"
            ),
            "cross" => format!(
                "<rect width=\"6\" height=\"6\" fill=\"#ffffff\"/><path d=\"M0,3 h6 M3,0 v6\" stroke=\"{shade}\" stroke-width=\"1.4\"/>"
            ),
            "stripes" => format!(
                "<rect width=\"6\" height=\"6\" fill=\"#ffffff\"/><path d=\"M0,1.5 h6 M0,4.5 h6\" stroke=\"{shade}\" stroke-width=\"1.4\"/>"
            ),
            _ => format!("<rect width=\"6\" height=\"6\" fill=\"{shade}\"/>"),
        };
        let _ = write!(
            s,
            "<pattern id=\"{id}-p{i}\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">{body}</pattern>"
        );
    }
    s.push_str("</defs>");
    s
}

fn fill(id: &str, series: usize) -> String {
    format!("url(#{id}-p{})", series % PATTERNS.len())
}

fn open(id: &str, title: &str, w: f64, h: f64) -> String {
    format!(
        "<svg class=\"chart\" id=\"{id}\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-labelledby=\"{id}-title\" \
         preserveAspectRatio=\"xMinYMin meet\" font-family=\"system-ui, sans-serif\" font-size=\"13\">\
         <title id=\"{id}-title\">{}</title>{}",
        esc(title),
        defs(id)
    )
}

/// A legend line: swatches with their names, from (x, y).
fn legend(out: &mut String, id: &str, items: &[(usize, String)], width: f64) -> f64 {
    let (mut x, mut y) = (0.0, 14.0);
    for (series, name) in items {
        let text = cut(name, 28);
        let need = 22.0 + text.chars().count() as f64 * 7.2 + 16.0;
        if x > 0.0 && x + need > width {
            x = 0.0;
            y += 20.0;
        }
        let _ = write!(
            out,
            "<g class=\"legend-item\"><rect x=\"{x}\" y=\"{}\" width=\"14\" height=\"14\" fill=\"{}\" stroke=\"{INK}\" stroke-width=\"0.75\"/>\
             <text x=\"{}\" y=\"{y}\" fill=\"{INK}\">{}</text></g>",
            y - 11.0,
            fill(id, *series),
            x + 20.0,
            esc(&text)
        );
        x += need;
    }
    y + 12.0
}

/// One row of a horizontal bar chart: a bar, and an optional second one
/// under it (speed to lead: the median, then the 90th percentile).
pub(crate) struct HBar {
    pub label: String,
    pub value: Option<f64>,
    pub value_text: String,
    pub second: Option<(f64, String)>,
    /// Said where there is no bar ("not contacted yet").
    pub missing: String,
}

/// How wide a chart is drawn: `Wide` for a page's width (labels beside
/// the bars), `Narrow` for a phone or a small card (labels above them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Size {
    Wide,
    Narrow,
}

/// Where things go in a row chart of a size.
struct Frame {
    width: f64,
    /// Labels above the bars (narrow) rather than beside them.
    stacked: bool,
    label_x: f64,
    plot_x: f64,
    plot_w: f64,
}

impl Size {
    fn frame(self) -> Frame {
        match self {
            Size::Wide => Frame {
                width: 640.0,
                stacked: false,
                label_x: 150.0,
                plot_x: 160.0,
                plot_w: 330.0,
            },
            Size::Narrow => Frame {
                width: 330.0,
                stacked: true,
                label_x: 0.0,
                plot_x: 0.0,
                plot_w: 205.0,
            },
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Size::Wide => "",
            Size::Narrow => "-narrow",
        }
    }
}

impl Frame {
    /// The row's label; answers how far down the bars start.
    fn label(&self, out: &mut String, y: f64, label: &str) -> f64 {
        if self.stacked {
            let _ = write!(
                out,
                "<text class=\"label\" x=\"0\" y=\"{}\" fill=\"{INK}\" font-weight=\"600\">{}</text>",
                y + 13.0,
                esc(&cut(label, 44))
            );
            y + 18.0
        } else {
            let _ = write!(
                out,
                "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{INK}\">{}</text>",
                self.label_x,
                y + 16.0,
                esc(&cut(label, 22))
            );
            y
        }
    }
}

/// A chart drawn twice, wide and narrow; the style sheet shows the one that
/// fits the screen.
pub(crate) struct Chart {
    pub wide: Svg,
    pub narrow: Svg,
}

impl std::fmt::Display for Chart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "<div class=\"chart-wide\">{}</div><div class=\"chart-narrow\">{}</div>",
            self.wide, self.narrow
        )
    }
}

impl Chart {
    pub fn both(draw: impl Fn(Size) -> Svg) -> Chart {
        Chart {
            wide: draw(Size::Wide),
            narrow: draw(Size::Narrow),
        }
    }
}

/// Horizontal bars, one row per item; `series` names the legend of the
/// first and second bars (empty: no legend).
pub(crate) fn hbars(id: &str, title: &str, rows: &[HBar], series: &[&str], size: Size) -> Svg {
    let id = &format!("{id}{}", size.suffix());
    let f = size.frame();
    let max = rows
        .iter()
        .flat_map(|r| r.value.into_iter().chain(r.second.as_ref().map(|s| s.0)))
        .fold(0.0_f64, f64::max);
    let scale = |v: f64| {
        if max <= 0.0 {
            0.0
        } else {
            (v / max * f.plot_w).max(if v > 0.0 { 2.0 } else { 0.0 })
        }
    };
    let two = rows.iter().any(|r| r.second.is_some());
    let label_h = if f.stacked { 18.0 } else { 0.0 };
    let row_h = label_h + if two { 40.0 } else { 28.0 };
    let mut body = String::new();
    let top = if series.is_empty() {
        4.0
    } else {
        let items: Vec<(usize, String)> = series
            .iter()
            .enumerate()
            .map(|(i, s)| (i, (*s).to_owned()))
            .collect();
        legend(&mut body, id, &items, f.width) + 4.0
    };
    for (i, r) in rows.iter().enumerate() {
        let _ = write!(body, "<g class=\"row\" data-label=\"{}\">", esc(&r.label));
        let y = f.label(&mut body, top + i as f64 * row_h, &r.label);
        let x = f.plot_x;
        match r.value {
            Some(v) => {
                let w = scale(v);
                let _ = write!(
                    body,
                    "<rect class=\"bar\" x=\"{x}\" y=\"{}\" width=\"{w:.1}\" height=\"16\" fill=\"{}\" stroke=\"{INK}\" stroke-width=\"0.75\" data-value=\"{v}\"><title>{}: {}</title></rect>\
                     <text class=\"value\" x=\"{:.1}\" y=\"{}\" fill=\"{INK}\">{}</text>",
                    y + 4.0,
                    fill(id, 0),
                    esc(&r.label),
                    esc(&r.value_text),
                    x + w + 6.0,
                    y + 16.5,
                    esc(&r.value_text)
                );
                if let Some((v2, text2)) = &r.second {
                    let w2 = scale(*v2);
                    let _ = write!(
                        body,
                        "<rect class=\"bar second\" x=\"{x}\" y=\"{}\" width=\"{w2:.1}\" height=\"12\" fill=\"{}\" stroke=\"{INK}\" stroke-width=\"0.75\" data-value=\"{v2}\"><title>{}: {}</title></rect>\
                         <text class=\"value second\" x=\"{:.1}\" y=\"{}\" fill=\"{MUTED}\" font-size=\"12\">{}</text>",
                        y + 22.0,
                        fill(id, 1),
                        esc(&r.label),
                        esc(text2),
                        x + w2 + 6.0,
                        y + 32.0,
                        esc(text2)
                    );
                }
            }
            None => {
                let _ = write!(
                    body,
                    "<text class=\"value missing\" x=\"{x}\" y=\"{}\" fill=\"{MUTED}\">{}</text>",
                    y + 16.5,
                    esc(&r.missing)
                );
            }
        }
        body.push_str("</g>");
    }
    let h = top + rows.len() as f64 * row_h + 4.0;
    let mut s = open(id, title, f.width, h);
    s.push_str(&body);
    s.push_str("</svg>");
    Svg(s)
}

/// One row of a gauge chart: `used` of `limit` (capacity in use).
pub(crate) struct Gauge {
    pub label: String,
    pub used: u32,
    pub limit: u32,
}

/// Gauges, one row per item: an outlined track for the limit, filled for
/// what is used, labelled "7 of 10".
pub(crate) fn gauges(id: &str, title: &str, rows: &[Gauge], size: Size) -> Svg {
    let id = &format!("{id}{}", size.suffix());
    let f = size.frame();
    let plot_w = f.plot_w;
    let row_h = if f.stacked { 46.0 } else { 28.0 };
    let mut body = String::new();
    for (i, g) in rows.iter().enumerate() {
        let _ = write!(body, "<g class=\"row\" data-label=\"{}\">", esc(&g.label));
        let y = f.label(&mut body, 4.0 + i as f64 * row_h, &g.label);
        let share = if g.limit == 0 {
            1.0
        } else {
            (f64::from(g.used) / f64::from(g.limit)).min(1.0)
        };
        let full = g.used >= g.limit;
        let text = format!(
            "{} of {}{}",
            g.used,
            g.limit,
            if full { ", full" } else { "" }
        );
        let x = f.plot_x;
        let _ = write!(
            body,
            "<rect x=\"{x}\" y=\"{}\" width=\"{plot_w}\" height=\"16\" fill=\"#ffffff\" stroke=\"{INK}\" stroke-width=\"0.75\"/>\
             <rect class=\"bar\" x=\"{x}\" y=\"{}\" width=\"{:.1}\" height=\"16\" fill=\"{}\" data-value=\"{}\" data-limit=\"{}\"><title>{}: {}</title></rect>\
             <text class=\"value\" x=\"{}\" y=\"{}\" fill=\"{INK}\"{}>{}</text></g>",
            y + 4.0,
            y + 4.0,
            share * plot_w,
            fill(id, if full { 1 } else { 0 }),
            g.used,
            g.limit,
            esc(&g.label),
            esc(&text),
            x + plot_w + 8.0,
            y + 16.5,
            if full { " font-weight=\"700\"" } else { "" },
            esc(&text)
        );
    }
    let mut s = open(id, title, f.width, rows.len() as f64 * row_h + 8.0);
    s.push_str(&body);
    s.push_str("</svg>");
    Svg(s)
}

/// Stacked columns: one per bucket (a day), one segment per series.
pub(crate) struct Columns {
    /// The bucket labels under the axis ("7 Dec") and their full names.
    pub buckets: Vec<(String, String)>,
    /// (series name, one value per bucket).
    pub series: Vec<(String, Vec<i64>)>,
}

/// A stacked column chart with the total over each column and the value
/// of each segment tall enough to hold it.
pub(crate) fn columns(id: &str, title: &str, c: &Columns, size: Size) -> Svg {
    let id = &format!("{id}{}", size.suffix());
    let width = size.frame().width;
    let narrow = size == Size::Narrow;
    let mut body = String::new();
    let items: Vec<(usize, String)> = c
        .series
        .iter()
        .enumerate()
        .map(|(i, (n, _))| (i, n.clone()))
        .collect();
    let top = legend(&mut body, id, &items, width) + 22.0;
    let plot_h = if narrow { 150.0 } else { 170.0 };
    let (x0, plot_w) = (30.0, width - 36.0);
    let n = c.buckets.len().max(1);
    let totals: Vec<i64> = (0..c.buckets.len())
        .map(|b| {
            c.series
                .iter()
                .map(|(_, v)| v.get(b).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
    let base = top + plot_h;
    // The axis with 0 and the largest total.
    let _ = write!(
        body,
        "<line x1=\"{x0}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"{INK}\"/>\
         <line x1=\"{x0}\" y1=\"{top}\" x2=\"{}\" y2=\"{top}\" stroke=\"#d9dde5\" stroke-dasharray=\"4 3\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{MUTED}\" font-size=\"11\">0</text>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{MUTED}\" font-size=\"11\">{}</text>",
        x0 + plot_w,
        x0 + plot_w,
        x0 - 6.0,
        base + 4.0,
        x0 - 6.0,
        top + 4.0,
        max
    );
    let slot = plot_w / n as f64;
    let bar_w = (slot * 0.7).min(48.0);
    let label_every = n.div_ceil(if narrow { 6 } else { 12 });
    let totals_shown = n <= if narrow { 16 } else { 62 };
    for (b, (short, full)) in c.buckets.iter().enumerate() {
        let x = x0 + slot * b as f64 + (slot - bar_w) / 2.0;
        let total = totals[b];
        let _ = write!(
            body,
            "<g class=\"column\" data-bucket=\"{}\" data-total=\"{total}\">",
            esc(full)
        );
        let mut y = base;
        for (i, (name, values)) in c.series.iter().enumerate() {
            let v = values.get(b).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let h = v as f64 / max * plot_h;
            y -= h;
            let _ = write!(
                body,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"{}\" stroke=\"{INK}\" stroke-width=\"0.75\" \
                 data-series=\"{}\" data-value=\"{v}\"><title>{}, {}: {v}</title></rect>",
                fill(id, i),
                esc(name),
                esc(name),
                esc(full)
            );
            // The segment's value on a white tag, where it fits.
            let digits = v.to_string().len() as f64;
            let tag_w = 7.0 * digits + 6.0;
            if h >= 17.0 && bar_w >= tag_w + 2.0 {
                let (cx, cy) = (x + bar_w / 2.0, y + h / 2.0);
                let _ = write!(
                    body,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{tag_w:.1}\" height=\"14\" rx=\"3\" fill=\"#ffffff\" stroke=\"{INK}\" stroke-width=\"0.5\"/>\
                     <text class=\"segment\" x=\"{cx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{INK}\" font-size=\"11\">{v}</text>",
                    cx - tag_w / 2.0,
                    cy - 7.0,
                    cy + 4.0
                );
            }
        }
        if total > 0 && totals_shown {
            let _ = write!(
                body,
                "<text class=\"total\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{INK}\" font-weight=\"600\"{}>{total}</text>",
                x + bar_w / 2.0,
                y - 5.0,
                if n > 31 { " font-size=\"9\"" } else { "" }
            );
        }
        if b % label_every == 0 {
            let _ = write!(
                body,
                "<text class=\"bucket\" x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"{MUTED}\" font-size=\"11\">{}</text>",
                x + bar_w / 2.0,
                base + 16.0,
                esc(short)
            );
        }
        body.push_str("</g>");
    }
    let mut s = open(id, title, width, base + 24.0);
    s.push_str(&body);
    s.push_str("</svg>");
    Svg(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_d2_bars_carry_their_values_and_labels_are_escaped() {
        let svg = hbars(
            "speed",
            "Speed to lead",
            &[
                HBar {
                    label: "Bea <b>".into(),
                    value: Some(120.0),
                    value_text: "2 min".into(),
                    second: Some((216.0, "p90 3 min 36 s".into())),
                    missing: String::new(),
                },
                HBar {
                    label: "Cy".into(),
                    value: None,
                    value_text: String::new(),
                    second: None,
                    missing: "not contacted yet".into(),
                },
            ],
            &["Median", "90th percentile"],
            Size::Wide,
        );
        assert!(svg.0.contains("Bea &lt;b&gt;"));
        assert!(!svg.0.contains("<b>"));
        assert!(svg.0.contains("data-value=\"120\""));
        assert!(svg.0.contains(">2 min</text>"));
        assert!(svg.0.contains(">p90 3 min 36 s</text>"));
        assert!(svg.0.contains(">not contacted yet</text>"));
        // The longest bar (the p90) fills the plot.
        assert!(svg.0.contains("width=\"330.0\" height=\"12\""));
    }

    #[test]
    fn r_d2_columns_stack_series_and_show_totals() {
        let svg = columns(
            "leads",
            "Leads per day",
            &Columns {
                buckets: vec![
                    ("6 Dec".into(), "2026-12-06".into()),
                    ("7 Dec".into(), "2026-12-07".into()),
                ],
                series: vec![("Site".into(), vec![0, 2]), ("Ads".into(), vec![0, 1])],
            },
            Size::Wide,
        );
        assert!(
            svg.0
                .contains("data-bucket=\"2026-12-07\" data-total=\"3\"")
        );
        assert!(svg.0.contains("data-series=\"Site\" data-value=\"2\""));
        assert!(svg.0.contains(">3</text>"));
        assert!(
            svg.0
                .contains("data-bucket=\"2026-12-06\" data-total=\"0\"")
        );
        let g = gauges(
            "cap",
            "Capacity",
            &[Gauge {
                label: "Bea".into(),
                used: 5,
                limit: 5,
            }],
            Size::Narrow,
        );
        assert!(g.0.contains(">5 of 5, full</text>"));
    }
}
