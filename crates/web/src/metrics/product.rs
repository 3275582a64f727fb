//! What the product is for, in the Prometheus text format: leads received,
//! routing decisions, claims, time to assignment and to first contact
//! (counted by the use cases, `leadteam_app::metrics`), the unassigned
//! backlog and the outbox queue (read from the database at scrape time) and
//! the live streams open.

use leadteam_app::metrics::{Gauges, HistogramSnapshot, Snapshot, TIME_BUCKETS_S};
use std::fmt::Write;

fn head(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot) {
    head(out, name, "histogram", help);
    for (bound, n) in TIME_BUCKETS_S.iter().zip(&h.cumulative) {
        let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
    }
    let all = h.cumulative.last().copied().unwrap_or(0);
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {all}");
    let _ = writeln!(out, "{name}_sum {}", h.sum_seconds);
    let _ = writeln!(out, "{name}_count {}", h.count);
}

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The product's figures.
pub(crate) fn render_product(s: &Snapshot, gauges: Option<Gauges>, streams_open: usize) -> String {
    let mut out = String::new();
    head(
        &mut out,
        "leadteam_leads_received_total",
        "counter",
        "Leads delivered to the lead-source webhooks, by source kind and outcome (accepted, duplicate, refused).",
    );
    for (kind, outcome, n) in &s.leads {
        let _ = writeln!(
            out,
            "leadteam_leads_received_total{{source_kind=\"{}\",outcome=\"{outcome}\"}} {n}",
            label(kind)
        );
    }
    head(
        &mut out,
        "leadteam_routing_decisions_total",
        "counter",
        "Automatic routing decisions: assigned, or unassigned by reason.",
    );
    for (outcome, reason, n) in &s.routed {
        if reason.is_empty() {
            let _ = writeln!(
                out,
                "leadteam_routing_decisions_total{{outcome=\"{outcome}\"}} {n}"
            );
        } else {
            let _ = writeln!(
                out,
                "leadteam_routing_decisions_total{{outcome=\"{outcome}\",reason=\"{reason}\"}} {n}"
            );
        }
    }
    head(
        &mut out,
        "leadteam_claims_total",
        "counter",
        "Claims of unassigned clients: won, or lost to a quicker member.",
    );
    let _ = writeln!(
        out,
        "leadteam_claims_total{{result=\"won\"}} {}",
        s.claims_won
    );
    let _ = writeln!(
        out,
        "leadteam_claims_total{{result=\"lost\"}} {}",
        s.claims_lost
    );
    histogram(
        &mut out,
        "leadteam_time_to_assignment_seconds",
        "From a client's arrival to its first assignee (0 when routing assigned it at once).",
        &s.to_assignment,
    );
    histogram(
        &mut out,
        "leadteam_time_to_first_contact_seconds",
        "From a client's assignment to its assignee's first note, message, update or delivery.",
        &s.to_first_contact,
    );
    head(
        &mut out,
        "leadteam_streams_open",
        "gauge",
        "Live notification streams (server-sent events) open on this node.",
    );
    let _ = writeln!(out, "leadteam_streams_open {streams_open}");
    head(
        &mut out,
        "leadteam_database_up",
        "gauge",
        "1 when the figures below could be read from the database.",
    );
    let _ = writeln!(out, "leadteam_database_up {}", u8::from(gauges.is_some()));
    if let Some(g) = gauges {
        let ms = |v: i64| v as f64 / 1000.0;
        for (name, kind, help, value) in [
            (
                "leadteam_unassigned_backlog",
                "gauge",
                "Clients without an assignee, in every account.",
                g.unassigned as f64,
            ),
            (
                "leadteam_unassigned_oldest_age_seconds",
                "gauge",
                "Age of the oldest client without an assignee (0 when none).",
                ms(g.unassigned_oldest_ms),
            ),
            (
                "leadteam_outbox_pending",
                "gauge",
                "Outbox messages not sent yet (and not given up).",
                g.outbox_pending as f64,
            ),
            (
                "leadteam_outbox_oldest_age_seconds",
                "gauge",
                "Age of the oldest outbox message not sent yet (0 when none).",
                ms(g.outbox_oldest_ms),
            ),
            (
                "leadteam_outbox_gave_up",
                "gauge",
                "Outbox messages given up after every attempt failed.",
                g.outbox_gave_up as f64,
            ),
        ] {
            head(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {value}");
        }
    }
    out
}
