//! CSV import of clients (I2, I3): the body is read as a stream, so a file of
//! a million rows is imported in bounded memory.

use crate::AppState;
use crate::error::{ApiError, too_large, unsupported_type};
use crate::extract::ApiQuery;
use crate::extract::Authed;
use crate::registry::{Api, RouteSpec, Verb};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use futures::TryStreamExt;
use leadteam_app::AppError;
use leadteam_app::import::{self, CSV_TYPES, ImportOptions, ImportReport, MAX_FILE_BYTES};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The path of the import; exempt from the handler time limit (it may run
/// for minutes on a large file).
pub const IMPORT_PATH: &str = "/api/v1/clients/import";

pub(super) fn routes(api: Api) -> Api {
    api.add(
        RouteSpec::new(Verb::Post, IMPORT_PATH, "clients", "Import clients from a CSV file (I2, I3): a report of the rows stored and of every row rejected, with its line")
            .raw_body("text/csv")
            .query(&[
                ("dry_run", "true: check and report, store nothing"),
                ("route", "true: route each client through the assignment rules; otherwise the caller gets them (P6)"),
                ("skip_duplicates", "true: leave out the rows whose email or phone a client the caller may see already has (counted in `skipped`); otherwise they are stored and flagged"),
                ("map", "Column:target pairs, comma separated; targets: name, first_name, last_name, email, phone, status, field:<Name>, - (ignore). Unmapped columns are recognised by name or become custom fields"),
            ])
            .returns::<ImportOut>(),
        import_csv,
    )
}

#[derive(Debug, Deserialize)]
struct ImportQuery {
    dry_run: Option<String>,
    route: Option<String>,
    skip_duplicates: Option<String>,
    map: Option<String>,
}

fn flag(name: &str, v: Option<&str>) -> Result<bool, ApiError> {
    match v.map(str::trim) {
        None | Some("" | "false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(_) => Err(AppError::field(name, "must be true or false").into()),
    }
}

/// One column of the file and where it went.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ColumnOut {
    pub header: String,
    /// name, first_name, last_name, email, phone, status, field:<Name>, or - (ignored).
    pub target: String,
}

/// A row that was not stored.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RowErrorOut {
    /// The line the row starts on; the header is line 1.
    pub line: u64,
    pub field: String,
    pub reason: String,
}

/// A row whose email or phone a client the caller may see already has:
/// stored and flagged, or skipped with `skip_duplicates`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DuplicateOut {
    pub line: u64,
    pub field: String,
    pub value: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct AssignedOut {
    pub member_id: i64,
    pub clients: u64,
}

/// What the import did, or in a dry run would do.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ImportOut {
    pub dry_run: bool,
    /// The clients were routed through the assignment rules.
    pub routed: bool,
    pub columns: Vec<ColumnOut>,
    /// Data rows read (blank rows are skipped and counted apart).
    pub rows: u64,
    /// Rows stored (in a dry run: rows that would be stored).
    pub stored: u64,
    pub rejected: u64,
    /// Every rejected row, by line (the first 10,000 when there are more).
    pub errors: Vec<RowErrorOut>,
    /// Rows flagged because a client the caller may see has the same email
    /// or phone.
    pub duplicates: u64,
    pub duplicate_rows: Vec<DuplicateOut>,
    /// Duplicates were left out rather than stored (`skip_duplicates`).
    pub skip_duplicates: bool,
    /// Duplicate rows left out (in a dry run: that would be); not in `stored`.
    pub skipped: u64,
    pub blank_rows: u64,
    /// False when `errors` or `duplicate_rows` had to be cut at 10,000.
    pub complete: bool,
    /// Stored clients per assignee.
    pub assigned: Vec<AssignedOut>,
    /// Stored clients the rules left unassigned.
    pub unassigned: u64,
}

fn out(r: &ImportReport) -> ImportOut {
    ImportOut {
        dry_run: r.dry_run,
        routed: r.routed,
        columns: r
            .columns
            .iter()
            .map(|(h, t)| ColumnOut {
                header: h.clone(),
                target: t.clone(),
            })
            .collect(),
        rows: r.rows,
        stored: r.stored,
        rejected: r.rejected,
        errors: r
            .errors
            .iter()
            .map(|e| RowErrorOut {
                line: e.line,
                field: e.field.clone(),
                reason: e.reason.clone(),
            })
            .collect(),
        duplicates: r.duplicates,
        duplicate_rows: r
            .duplicate_rows
            .iter()
            .map(|d| DuplicateOut {
                line: d.line,
                field: d.field.to_owned(),
                value: d.value.clone(),
            })
            .collect(),
        skip_duplicates: r.skip_duplicates,
        skipped: r.skipped,
        blank_rows: r.blank_rows,
        complete: r.complete(),
        assigned: r
            .assigned
            .iter()
            .map(|(m, n)| AssignedOut {
                member_id: m.0,
                clients: *n,
            })
            .collect(),
        unassigned: r.unassigned,
    }
}

async fn import_csv(
    State(s): State<AppState>,
    Authed(c): Authed,
    ApiQuery(q): ApiQuery<ImportQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<ImportOut>), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_owned();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let options = ImportOptions {
        dry_run: flag("dry_run", q.dry_run.as_deref())?,
        route: flag("route", q.route.as_deref())?,
        skip_duplicates: flag("skip_duplicates", q.skip_duplicates.as_deref())?,
        map: q.map,
        content_type,
        length,
    };
    let reader =
        tokio_util::io::StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    match import::import(&s.app, &c, options, reader).await {
        Ok(r) => {
            let status = if r.dry_run || r.stored == 0 {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok((status, Json(out(&r))))
        }
        Err(AppError::TooLarge(msg)) => Err(too_large(msg, MAX_FILE_BYTES)),
        Err(AppError::UnsupportedType(msg)) => Err(unsupported_type(
            msg,
            "Send the file as text/csv",
            json!(CSV_TYPES),
        )),
        Err(e) => Err(e.into()),
    }
}
