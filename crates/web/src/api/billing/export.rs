//! The invoice lines of a cycle as CSV (RFC 4180, formulas neutralised) and
//! as JSON, for an accountant or a payment system.

use super::{CycleOut, DayQuery, LineOut, cycle_out, day_of, line_out};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::extract::Authed;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use leadteam_app::billing::{self, BillingView};
use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Serialize, JsonSchema)]
pub struct InvoiceOut {
    pub cycle: CycleOut,
    pub currency: String,
    pub price_cents: i64,
    pub lines: Vec<LineOut>,
    pub total_cents: i64,
}

pub(super) async fn invoice_json(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> Result<Response, ApiError> {
    let v = billing::view(&s.app, &c, day_of(&q)?).await?;
    let out = InvoiceOut {
        cycle: cycle_out(&v),
        currency: v.plan.currency.clone(),
        price_cents: v.plan.price_cents,
        lines: v.lines.iter().map(line_out).collect(),
        total_cents: v.invoice.total_cents,
    };
    let name = format!("invoice-{}.json", v.cycle.start);
    Ok(attachment(Json(out).into_response(), &name))
}

const CSV_HEADER: [&str; 14] = [
    "cycle_start",
    "cycle_end",
    "member_id",
    "name",
    "email",
    "status",
    "active_days",
    "free_days",
    "charged_days",
    "cycle_days",
    "periods",
    "price_cents",
    "amount_cents",
    "currency",
];

/// One CSV cell: a cell a spreadsheet would run as a formula (starting with
/// `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`; a cell
/// with a comma, quote or line break is quoted with quotes doubled (RFC 4180).
pub fn csv_cell(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len() + 2);
    if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        s.push('\'');
    }
    s.push_str(raw);
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn csv_row(cells: &[String]) -> String {
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The invoice lines as CSV, one row per member, with a header row.
pub fn invoice_csv_text(v: &BillingView) -> String {
    let mut out = csv_row(&CSV_HEADER.map(str::to_owned));
    for l in v.lines.iter().map(line_out) {
        let periods = l
            .periods
            .iter()
            .map(|p| format!("{}..{}", p.from, p.through))
            .collect::<Vec<_>>()
            .join(" ");
        out.push_str(&csv_row(&[
            v.cycle.start.to_string(),
            v.cycle.end.to_string(),
            l.member_id.to_string(),
            l.name,
            l.email,
            l.status,
            l.active_days.to_string(),
            l.free_days.to_string(),
            l.charged_days.to_string(),
            l.cycle_days.to_string(),
            periods,
            v.plan.price_cents.to_string(),
            l.amount_cents.to_string(),
            v.plan.currency.clone(),
        ]));
    }
    out
}

fn attachment(mut resp: Response, filename: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

pub(super) async fn invoice_csv(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> Result<Response, ApiError> {
    let v = billing::view(&s.app, &c, day_of(&q)?).await?;
    let resp = (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        invoice_csv_text(&v),
    )
        .into_response();
    Ok(attachment(resp, &format!("invoice-{}.csv", v.cycle.start)))
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_cell("Ann"), "Ann");
        assert_eq!(csv_cell("Doe, Ann"), "\"Doe, Ann\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=1+2"), "'=1+2");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("\rx"), "\"'\rx\"");
        assert_eq!(
            csv_cell("=HYPERLINK(\"a\",\"b\")"),
            "\"'=HYPERLINK(\"\"a\"\",\"\"b\"\")\""
        );
        assert_eq!(csv_cell(""), "");
    }
}
