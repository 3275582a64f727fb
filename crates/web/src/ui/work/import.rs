//! Importing clients from a CSV file (I2, I3), for members `decide` allows
//! `ImportClients` (`integrations.manage`). The page's script sends the file
//! as the raw body (`ui::upload`), which is streamed into the same use case
//! as `POST /api/v1/clients/import`; the answer is the form's panel with the
//! errors next to their fields, or the report: counts, the column mapping,
//! every rejected row by line, duplicates and who got the clients.

use super::members_of;
use crate::AppState;
use crate::ui::layout::{Layout, render};
use crate::ui::upload::{RawUpload, drain};
use crate::ui::{FormErrors, SignedIn, UiError};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use leadteam_app::AppError;
use leadteam_app::import::{self, ImportOptions, ImportReport, MAX_FILE_BYTES};
use leadteam_app::me;
use leadteam_domain::authz::{Action, decide};
use serde::Deserialize;

/// The path of the page and of its POST (exempt from the handler time limit,
/// like the API's import: a large file takes minutes).
pub(crate) const IMPORT_PATH: &str = "/clients/import";

/// Rejected rows and duplicates listed on the page (all are counted; the CLI's
/// `--report` saves every one).
const SHOWN: usize = 500;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route(IMPORT_PATH, get(show).post(run))
}

/// The form's choices, sent by the script in the query.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ImportQuery {
    dry_run: Option<String>,
    route: Option<String>,
    skip_duplicates: Option<String>,
    map: Option<String>,
    /// The chosen file's name (shown in the report).
    name: Option<String>,
}

fn ticked(v: &Option<String>) -> bool {
    super::non_empty(v).is_some_and(|v| !matches!(v, "0" | "false" | "no"))
}

/// What the form shows as chosen.
pub(super) struct Choices {
    route: bool,
    skip_duplicates: bool,
    map: String,
    /// The next step is the real import (after a good check): its button is
    /// the primary one; otherwise checking the file is.
    import_next: bool,
}

pub(super) struct RowErrorView {
    line: u64,
    field: String,
    reason: String,
}

pub(super) struct DuplicateView {
    line: u64,
    field: &'static str,
    value: String,
}

/// The report as the page shows it.
pub(super) struct ReportView {
    file: Option<String>,
    dry_run: bool,
    routed: bool,
    rows: u64,
    stored: u64,
    rejected: u64,
    blank_rows: u64,
    duplicates: u64,
    skip_duplicates: bool,
    skipped: u64,
    columns: Vec<(String, String)>,
    errors: Vec<RowErrorView>,
    errors_not_shown: u64,
    duplicate_rows: Vec<DuplicateView>,
    duplicates_not_shown: u64,
    assigned: Vec<(String, u64)>,
    unassigned: u64,
}

/// The form and, after a run, its report: the part the script swaps.
pub(super) struct Panel {
    csrf: String,
    choices: Choices,
    errors: FormErrors,
    report: Option<ReportView>,
    max_bytes: u64,
}

impl Panel {
    /// The chosen file stays chosen (after a refusal or a dry run), but not
    /// after the real import, so it is not imported twice by accident.
    pub fn keep_file(&self) -> bool {
        self.report.as_ref().is_none_or(|r| r.dry_run)
    }
}

#[derive(Template)]
#[template(path = "clients_import.html")]
struct ImportPage {
    page: Layout,
    panel: Panel,
    team_tab: bool,
}

#[derive(Template)]
#[template(path = "import_panel.html")]
struct PanelOnly {
    panel: Panel,
}

/// Where a column went, in words.
fn target_words(t: &str) -> String {
    match t {
        "name" => "Name".into(),
        "first_name" => "First name".into(),
        "last_name" => "Last name".into(),
        "email" => "Email".into(),
        "phone" => "Phone".into(),
        "status" => "Status".into(),
        "-" => "Ignored".into(),
        other => match other.strip_prefix("field:") {
            Some(f) => format!("Custom field “{f}”"),
            None => other.to_owned(),
        },
    }
}

async fn report_view(
    s: &AppState,
    who: &SignedIn,
    r: ImportReport,
    file: Option<String>,
) -> Result<ReportView, UiError> {
    let names = if r.assigned.is_empty() {
        Vec::new()
    } else {
        members_of(s, who).await?
    };
    let assigned = r
        .assigned
        .iter()
        .map(|(id, n)| {
            let name = names
                .iter()
                .find(|m| m.id == *id)
                .map_or_else(|| format!("Member #{}", id.0), |m| m.name.clone());
            (name, *n)
        })
        .collect();
    let listed = |n: usize, total: u64| total.saturating_sub(n.min(SHOWN) as u64);
    Ok(ReportView {
        file,
        dry_run: r.dry_run,
        routed: r.routed,
        rows: r.rows,
        stored: r.stored,
        rejected: r.rejected,
        blank_rows: r.blank_rows,
        duplicates: r.duplicates,
        skip_duplicates: r.skip_duplicates,
        skipped: r.skipped,
        errors_not_shown: listed(r.errors.len(), r.rejected),
        duplicates_not_shown: listed(r.duplicate_rows.len(), r.duplicates),
        columns: r
            .columns
            .into_iter()
            .map(|(h, t)| (h, target_words(&t)))
            .collect(),
        errors: r
            .errors
            .into_iter()
            .take(SHOWN)
            .map(|e| RowErrorView {
                line: e.line,
                field: e.field,
                reason: e.reason,
            })
            .collect(),
        duplicate_rows: r
            .duplicate_rows
            .into_iter()
            .take(SHOWN)
            .map(|d| DuplicateView {
                line: d.line,
                field: d.field,
                value: d.value,
            })
            .collect(),
        assigned,
        unassigned: r.unassigned,
    })
}

/// The page (or, for the script, the panel alone).
async fn answer(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    fragment: bool,
    panel: Panel,
) -> Result<Response, UiError> {
    if fragment {
        return Ok(render(status, &PanelOnly { panel }));
    }
    let v = me::me(&s.app, &who.caller).await?;
    let page = Layout::signed_in("Import clients", IMPORT_PATH, who, &v);
    let body = ImportPage {
        team_tab: page.may(Action::ViewTeamOverview),
        page,
        panel,
    };
    Ok(render(status, &body))
}

fn panel(who: &SignedIn, choices: Choices) -> Panel {
    Panel {
        csrf: crate::ui::csrf::token_for(&who.token),
        choices,
        errors: FormErrors::default(),
        report: None,
        max_bytes: MAX_FILE_BYTES,
    }
}

async fn show(State(s): State<AppState>, who: SignedIn) -> Result<Response, UiError> {
    // Refused: the 403 page, as for any other action `decide` denies.
    decide(super::actor_of(&who)?, &Action::ImportClients).map_err(AppError::from)?;
    let choices = Choices {
        route: false,
        skip_duplicates: false,
        map: String::new(),
        import_next: false,
    };
    answer(&s, &who, StatusCode::OK, false, panel(&who, choices)).await
}

async fn run(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<ImportQuery>,
    up: RawUpload,
) -> Result<Response, UiError> {
    let dry_run = ticked(&q.dry_run);
    let choices = Choices {
        route: ticked(&q.route),
        skip_duplicates: ticked(&q.skip_duplicates),
        map: q.map.clone().unwrap_or_default(),
        import_next: !dry_run,
    };
    let fragment = up.htmx;
    let media = up.media_type();
    let result = if up.is_empty() {
        Err(AppError::field("file", "Choose the CSV file to import."))
    } else {
        let options = ImportOptions {
            dry_run,
            route: choices.route,
            skip_duplicates: choices.skip_duplicates,
            map: super::non_empty(&q.map).map(str::to_owned),
            content_type: media.clone(),
            length: up.length,
        };
        let mut reader = up.reader();
        let r = import::import(&s.app, &who.caller, options, &mut reader).await;
        if r.is_err() {
            drain(&mut reader).await;
        }
        r
    };
    let mut p = panel(&who, choices);
    match result {
        Ok(r) => {
            p.choices.import_next = r.dry_run && r.stored > 0;
            p.report = Some(report_view(&s, &who, r, q.name).await?);
            answer(&s, &who, StatusCode::OK, fragment, p).await
        }
        Err(e) => {
            let status = crate::ui::upload::refusal_status(&e);
            let e = match e {
                AppError::TooLarge(m) => AppError::field("file", m),
                AppError::UnsupportedType(_) => AppError::field(
                    "file",
                    format!(
                        "This is not a CSV file (the browser sent it as {media}). \
                         Choose a .csv file; from a spreadsheet, use Save as CSV"
                    ),
                ),
                // Refused: the 403 page, as at the address itself.
                e @ AppError::Denied(_) => return Err(e.into()),
                e => e,
            };
            let (st, errors) = FormErrors::from_app(e, &[])?;
            p.errors = errors;
            answer(&s, &who, status.unwrap_or(st), fragment, p).await
        }
    }
}
