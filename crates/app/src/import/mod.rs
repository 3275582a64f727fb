//! CSV import of clients (I2, I3). The file is read as it arrives, a batch of
//! rows at a time, so memory stays bounded whatever its length: each batch of
//! good rows is stored in one transaction (and routed through the rules when
//! asked); every rejected row is reported with its line number and the field
//! at fault. A dry run reads and checks the whole file and stores nothing.

mod row_limit;

pub use row_limit::{MAX_ROW_BYTES, RowTooLong};

use crate::App;
use crate::auth::Caller;
use crate::bus::Alerts;
use crate::error::AppError;
use crate::router::Router;
use leadteam_domain::authz::{Action, Actor};
use leadteam_domain::import::{Columns, ImportRow, parse_mapping};
use leadteam_domain::routing::{LeadFacts, SourceKind};
use leadteam_domain::{FieldError, MemberId};
use leadteam_store::import::{self as store_import, ImportedClient};
use leadteam_store::{clients, rules};
use std::collections::BTreeMap;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Good rows stored per transaction.
pub const BATCH_ROWS: usize = 1000;
/// Rejected rows and duplicates listed one by one in a report (all are counted).
pub const MAX_LISTED: usize = 10_000;
/// The largest file accepted.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Check and report only; store nothing.
    pub dry_run: bool,
    /// Route each stored client through the assignment rules; otherwise the
    /// importing member gets them (P6).
    pub route: bool,
    /// `Column:target` pairs (see [`leadteam_domain::import::parse_mapping`]).
    pub map: Option<String>,
    /// Leave out the rows whose email or phone a client the importer may see
    /// already has (counted as skipped); otherwise they are stored and flagged.
    pub skip_duplicates: bool,
    /// The media type the file was sent as (without parameters).
    pub content_type: String,
    /// The declared length of the file, when known.
    pub length: Option<u64>,
}

/// The media types a CSV file may be sent as.
pub const CSV_TYPES: [&str; 5] = [
    "text/csv",
    "text/plain",
    "application/csv",
    "application/vnd.ms-excel",
    "application/octet-stream",
];

/// A row that was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    pub field: String,
    pub reason: String,
}

/// A row whose email or phone a client the importer may see already has
/// (stored all the same and flagged, or skipped when asked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub line: u64,
    pub field: &'static str,
    pub value: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub dry_run: bool,
    pub routed: bool,
    /// Duplicates were skipped rather than stored.
    pub skip_duplicates: bool,
    /// Each column of the header and where it went.
    pub columns: Vec<(String, String)>,
    /// Data rows read (blank rows not counted).
    pub rows: u64,
    /// Rows stored as clients (in a dry run: that would be).
    pub stored: u64,
    /// Rows refused.
    pub rejected: u64,
    /// The refused rows, by line (at most [`MAX_LISTED`]).
    pub errors: Vec<RowError>,
    pub duplicates: u64,
    /// The flagged rows, by line (at most [`MAX_LISTED`]).
    pub duplicate_rows: Vec<Duplicate>,
    /// Duplicates left out, not stored (in a dry run: that would be); all of
    /// them when `skip_duplicates`, else none.
    pub skipped: u64,
    /// Rows with only empty cells, skipped.
    pub blank_rows: u64,
    /// Stored clients per assignee.
    pub assigned: BTreeMap<MemberId, u64>,
    /// Stored clients left unassigned by the rules.
    pub unassigned: u64,
}

impl ImportReport {
    /// Whether the lists hold every rejected and flagged row.
    pub fn complete(&self) -> bool {
        self.errors.len() as u64 == self.rejected
            && self.duplicate_rows.len() as u64 == self.duplicates
    }

    fn reject(&mut self, line: u64, e: FieldError) {
        self.rejected += 1;
        if self.errors.len() < MAX_LISTED {
            self.errors.push(RowError {
                line,
                field: e.field,
                reason: e.message,
            });
        }
    }
}

/// Imports the CSV read from `input` into the caller's account.
pub async fn import<R>(
    app: &App,
    caller: &Caller,
    options: ImportOptions,
    input: R,
) -> Result<ImportReport, AppError>
where
    R: AsyncRead + Unpin + Send,
{
    let actor = caller.may(&Action::ImportClients)?.clone();
    let media = options.content_type.trim().to_ascii_lowercase();
    if !CSV_TYPES.contains(&media.as_str()) {
        return Err(AppError::UnsupportedType(format!(
            "`{media}` is not CSV; send text/csv"
        )));
    }
    if options.length.is_some_and(|n| n > MAX_FILE_BYTES) {
        return Err(AppError::TooLarge(format!(
            "the file is over {} MiB; split it",
            MAX_FILE_BYTES / 1024 / 1024
        )));
    }
    let mapping = parse_mapping(options.map.as_deref().unwrap_or(""))?;
    let limited = row_limit::RowLimit::new(input.take(MAX_FILE_BYTES + 1), MAX_ROW_BYTES);
    // The separator is read from the first line (`,`, `;` or tab): files
    // saved by spreadsheets in many countries use `;`.
    let mut limited = tokio::io::BufReader::with_capacity(64 * 1024, limited);
    let delimiter = {
        use tokio::io::AsyncBufReadExt;
        let head = limited
            .fill_buf()
            .await
            .map_err(|e| AppError::field("file", format!("the file could not be read: {e}")))?;
        leadteam_domain::import::sniff_delimiter(head)
    };
    let mut reader = csv_async::AsyncReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        // Lines end at \n (a \r before it is trimmed with the cell): CRLF
        // files then number their rows exactly as LF files do.
        .terminator(csv_async::Terminator::Any(b'\n'))
        .create_reader(limited);
    let headers = reader
        .byte_headers()
        .await
        .map_err(|e| read_failure(&e, 1))?
        .clone();
    let mut names = Vec::with_capacity(headers.len());
    for (i, h) in headers.iter().enumerate() {
        let mut name = std::str::from_utf8(h)
            .map_err(|_| AppError::field("file", "the header is not UTF-8 text"))?
            .trim()
            .to_owned();
        if i == 0 {
            name = name.trim_start_matches('\u{feff}').to_owned();
        }
        names.push(name);
    }
    let columns = Columns::resolve(names, &mapping)?;
    let mut report = ImportReport {
        dry_run: options.dry_run,
        routed: options.route,
        skip_duplicates: options.skip_duplicates,
        columns: columns
            .headers
            .iter()
            .zip(&columns.targets)
            .map(|(h, t)| (h.clone(), t.describe()))
            .collect(),
        ..ImportReport::default()
    };
    // Rows go through the rules (read again by each batch's transaction).
    let routed = options.route && !options.dry_run;

    let mut batch: Vec<(u64, ImportRow)> = Vec::with_capacity(BATCH_ROWS);
    let mut record = csv_async::ByteRecord::new();
    loop {
        let line_hint = report.rows + report.blank_rows + 2;
        let more = match reader.read_byte_record(&mut record).await {
            Ok(more) => more,
            Err(e) => match too_long(&e) {
                // The rest of the file cannot be read row by row: the row
                // is refused with its line, and the rows before are kept.
                Some(t) => {
                    report.rows += 1;
                    report.reject(
                        t.line,
                        FieldError::new(
                            "row",
                            format!(
                                "is longer than {} KiB from here on (an unclosed quote?); the rest of the file was not read",
                                t.max / 1024
                            ),
                        ),
                    );
                    break;
                }
                None => return Err(read_failure(&e, line_hint)),
            },
        };
        if !more {
            break;
        }
        let line = record.position().map_or(line_hint, |p| p.line());
        if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
            report.blank_rows += 1;
            continue;
        }
        report.rows += 1;
        let cells: Result<Vec<&str>, _> = record.iter().map(std::str::from_utf8).collect();
        let row = match cells {
            Ok(cells) => columns.row(&cells),
            Err(_) => Err(FieldError::new("row", "is not UTF-8 text")),
        };
        match row {
            Ok(r) => batch.push((line, r)),
            Err(e) => report.reject(line, e),
        }
        if batch.len() >= BATCH_ROWS {
            flush(app, &actor, routed, &mut batch, &mut report).await?;
        }
    }
    let total_read = reader.into_inner().into_inner().into_inner().limit();
    if total_read == 0 {
        // `take` stopped: the file is over the limit.
        return Err(AppError::TooLarge(format!(
            "the file is over {} MiB; {} rows were stored before the limit",
            MAX_FILE_BYTES / 1024 / 1024,
            report.stored
        )));
    }
    flush(app, &actor, routed, &mut batch, &mut report).await?;
    if !options.dry_run && report.stored > 0 {
        finish(app, &actor, &report).await?;
    }
    Ok(report)
}

/// The overlong row that stopped the read, if that is what stopped it.
fn too_long(e: &csv_async::Error) -> Option<RowTooLong> {
    match e.kind() {
        csv_async::ErrorKind::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<RowTooLong>())
            .copied(),
        _ => None,
    }
}

fn read_failure(e: &csv_async::Error, line: u64) -> AppError {
    match e.kind() {
        csv_async::ErrorKind::Io(io) => {
            AppError::field("file", format!("reading stopped near line {line}: {io}"))
        }
        _ => AppError::field("file", format!("line {line}: {e}")),
    }
}

/// Stores (or, in a dry run, only checks) the rows of `batch`, and empties it.
async fn flush(
    app: &App,
    actor: &Actor,
    routed: bool,
    batch: &mut Vec<(u64, ImportRow)>,
    report: &mut ImportReport,
) -> Result<(), AppError> {
    if batch.is_empty() {
        return Ok(());
    }
    let rows = std::mem::take(batch);
    // Duplicates are looked for among the clients the importer may see.
    let scope = leadteam_domain::authz::client_scope(actor);
    let emails: Vec<&str> = rows
        .iter()
        .filter_map(|(_, r)| r.email.as_deref())
        .collect();
    let phones: Vec<&str> = rows
        .iter()
        .filter_map(|(_, r)| r.phone.as_deref())
        .collect();
    if report.dry_run {
        let mut c = app.db.read().await?;
        app.db.prefer_indexes(&mut c).await?;
        let (e, p) =
            clients::existing_contacts(&mut c, actor.account, &scope, &emails, &phones).await?;
        drop(c);
        let kept = flag_duplicates(rows, &e, &p, report);
        report.stored += kept.len() as u64;
        return Ok(());
    }
    let now = app.now();
    let mut tx = app.db.write().await?;
    app.db.prefer_indexes(&mut tx).await?;
    let (e, p) =
        clients::existing_contacts(&mut tx, actor.account, &scope, &emails, &phones).await?;
    let rows = flag_duplicates(rows, &e, &p, report);
    if rows.is_empty() {
        return Ok(());
    }
    let decisions = match routed {
        true => route(app, &mut tx, actor, &rows).await?,
        false => rows
            .iter()
            .map(|_| {
                (
                    Some(actor.member),
                    "imported by the member".to_owned(),
                    None,
                    None,
                )
            })
            .collect(),
    };
    let clients: Vec<ImportedClient> = rows
        .iter()
        .zip(&decisions)
        .map(
            |((_, r), (assignee, reason, record, waiting))| ImportedClient {
                name: r.display_name().to_owned(),
                email: r.email.clone(),
                phone: r.phone.clone(),
                status: r.status.clone().unwrap_or_else(|| "open".to_owned()),
                fields_json: serde_json::to_string(&r.fields).unwrap_or_else(|_| "{}".to_owned()),
                assignee: *assignee,
                routing_reason: reason.clone(),
                routing_json: record.clone(),
                waiting_rule: waiting.clone(),
            },
        )
        .collect();
    let stored =
        store_import::insert_clients(&mut tx, actor.account, actor.member, &clients, now).await?;
    tx.commit().await?;
    report.stored += stored;
    for (assignee, reason, _, _) in &decisions {
        if routed {
            app.metrics.routed(assignee.is_some(), reason);
        }
        match assignee {
            Some(m) => *report.assigned.entry(*m).or_default() += 1,
            None => report.unassigned += 1,
        }
    }
    Ok(())
}

/// Flags the rows whose email or phone is among `emails` / `phones` (what
/// clients the importer may see have); gives the rows to store: all of
/// them, or, when duplicates are skipped, the others.
fn flag_duplicates(
    rows: Vec<(u64, ImportRow)>,
    emails: &std::collections::HashSet<String>,
    phones: &std::collections::HashSet<String>,
    report: &mut ImportReport,
) -> Vec<(u64, ImportRow)> {
    let mut kept = Vec::with_capacity(rows.len());
    for (line, r) in rows {
        let hit = r
            .email
            .as_ref()
            .filter(|e| emails.contains(*e))
            .map(|e| ("email", e))
            .or_else(|| {
                r.phone
                    .as_ref()
                    .filter(|p| phones.contains(*p))
                    .map(|p| ("phone", p))
            });
        let Some((field, value)) = hit else {
            kept.push((line, r));
            continue;
        };
        report.duplicates += 1;
        if report.duplicate_rows.len() < MAX_LISTED {
            report.duplicate_rows.push(Duplicate {
                line,
                field,
                value: value.clone(),
            });
        }
        if report.skip_duplicates {
            report.skipped += 1;
        } else {
            kept.push((line, r));
        }
    }
    kept
}

/// What routing gave one row: its assignee, the reason, the decision's
/// record (A12) and, when nobody could take it, the rule that will (A11).
type RowRouting = (Option<MemberId>, String, Option<String>, Option<String>);

/// Routes a batch through the rules (A1-A13) inside its transaction, with
/// the one routing engine of intake (`crate::router`): states and
/// candidates read once, each assignment counting for the next rows.
async fn route(
    app: &App,
    tx: &mut leadteam_store::Conn,
    actor: &Actor,
    rows: &[(u64, ImportRow)],
) -> Result<Vec<RowRouting>, AppError> {
    let mut router = Router::prepare(&app.routing_settings, tx, [actor.account], app.now()).await?;
    let needs: Vec<(
        leadteam_domain::AccountId,
        leadteam_domain::routing::RuleRef,
    )> = rows
        .iter()
        .map(|(_, r)| {
            let facts = LeadFacts {
                source_kind: SourceKind::Import,
                source_id: None,
                facebook_page_id: None,
                facebook_form_id: None,
                fields: r.fields.clone(),
            };
            (actor.account, router.rule_for(actor.account, &facts))
        })
        .collect();
    router.load(tx, &needs).await?;
    let out = needs
        .iter()
        .map(|(account, rule)| {
            let r = router.decide(*account, *rule, &[]);
            let record = serde_json::to_string(&r.decision).ok();
            let waiting = r
                .decision
                .nobody_could
                .then(|| serde_json::to_string(&r.decision.rule).unwrap_or_default());
            (r.assignee(), r.decision.reason.clone(), record, waiting)
        })
        .collect();
    router.finish(tx).await?;
    Ok(out)
}

/// The audit row of the import (X1) and one alert per member who got leads
/// from someone else, or may see the unassigned ones (C7, A6): one per
/// import, not one per row.
async fn finish(app: &App, actor: &Actor, report: &ImportReport) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.write().await?;
    let assigned: serde_json::Map<String, serde_json::Value> = report
        .assigned
        .iter()
        .map(|(m, n)| (m.0.to_string(), serde_json::json!(n)))
        .collect();
    crate::trail::record(
        &mut tx,
        actor,
        "clients.imported",
        "account",
        actor.account.0,
        None,
        Some(serde_json::json!({
            "rows": report.rows,
            "stored": report.stored,
            "rejected": report.rejected,
            "duplicates": report.duplicates,
            "skipped": report.skipped,
            "routed": report.routed,
            "assigned": assigned,
            "unassigned": report.unassigned,
        })),
        now,
    )
    .await?;
    let mut alerts = Alerts::default();
    if report.routed {
        for (m, n) in &report.assigned {
            if *m != actor.member {
                let text = format!("Import: {n} new client{} assigned to you", plural(*n));
                alerts
                    .add(&mut tx, actor.account, *m, "new_lead", None, &text, now)
                    .await?;
            }
        }
        if report.unassigned > 0 {
            let n = report.unassigned;
            let text = format!("Import: {n} new unassigned client{}", plural(n));
            for m in rules::members_seeing_unassigned(&mut tx, actor.account).await? {
                if m != actor.member {
                    alerts
                        .add(&mut tx, actor.account, m, "new_lead", None, &text, now)
                        .await?;
                }
            }
        }
    }
    tx.commit().await?;
    alerts.publish(&app.bus);
    if report.routed && report.unassigned > 0 {
        // Rows nobody could take wait for someone to free up (A11).
        app.routing_changed(actor.account);
    }
    Ok(())
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
