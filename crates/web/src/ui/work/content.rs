//! Content (`/api/v1/content`, P5, P8): message templates, pages and files,
//! private or shared; `content.edit` creates and edits (and uploads a file's
//! bytes), the owner and admins delete. The list shows what `content_scope`
//! admits and each action as `decide` says (`ContentView`). A file is sent
//! by the page's script as the raw body (`ui::upload`) into the same
//! `content::upload` as `POST /api/v1/content/{id}/file`, and downloaded from
//! that API address (the session cookie is its credential).

use super::{may, notice};
use crate::AppState;
use crate::ui::layout::{Layout, render, see_other};
use crate::ui::upload::{RawUpload, drain};
use crate::ui::{FormErrors, SignedIn, UiError, UiForm};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::AppError;
use leadteam_app::content::{self, ContentInput, ContentView, Upload};
use leadteam_app::me;
use leadteam_domain::ContentId;
use leadteam_domain::authz::Action;
use leadteam_domain::content::{FILE_TYPES, FileType, MAX_FILE_BYTES};
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/content", get(show).post(create))
        .route("/content/{id}", get(edit_form).post(edit))
        .route("/content/{id}/delete", post(delete))
        .route("/content/{id}/file", post(upload))
}

/// The kinds as the filter and the form name them.
const KINDS: [(&str, &str); 3] = [
    ("template", "Message template"),
    ("page", "Page"),
    ("file", "File"),
];

fn kind_words(k: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(v, _)| *v == k)
        .map(|(_, n)| *n)
        .unwrap_or("Content")
}

pub(super) struct ItemView {
    id: i64,
    kind: &'static str,
    title: String,
    subject: Option<String>,
    excerpt: String,
    shared: bool,
    author: Option<String>,
    updated: String,
    file: Option<String>,
    is_file: bool,
    can_edit: bool,
    can_delete: bool,
}

fn item(v: ContentView, zone: &str) -> ItemView {
    let r = v.row;
    let mut excerpt: String = r.body.chars().take(140).collect();
    if r.body.chars().count() > 140 {
        excerpt.push('…');
    }
    ItemView {
        id: r.id.0,
        kind: kind_words(&r.kind),
        title: r.title,
        subject: r.subject,
        excerpt,
        shared: r.shared,
        author: r.author.map(|(_, n)| n),
        updated: super::when(r.updated_at, zone),
        file: r.file.map(|f| f.name),
        is_file: r.kind == "file",
        can_edit: v.can_edit,
        can_delete: v.can_delete,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ContentForm {
    kind: String,
    title: String,
    subject: String,
    body: String,
    shared: Option<String>,
}

impl ContentForm {
    fn input(&self, with_kind: bool) -> ContentInput<'_> {
        let subject = self.subject.trim();
        ContentInput {
            kind: with_kind.then_some(self.kind.as_str()),
            title: Some(&self.title),
            subject: Some((!subject.is_empty()).then_some(subject)),
            body: Some(&self.body),
            shared: Some(self.shared.is_some()),
        }
    }
}

#[derive(Template)]
#[template(path = "content.html")]
struct ContentPage {
    page: Layout,
    kind: String,
    kinds: [(&'static str, &'static str); 3],
    items: Vec<ItemView>,
    can_create: bool,
    form: ContentForm,
    errors: FormErrors,
    alert: FormErrors,
}

#[derive(Template)]
#[template(path = "content_edit.html")]
struct ContentEditPage {
    page: Layout,
    id: i64,
    kind: &'static str,
    form: ContentForm,
    errors: FormErrors,
    /// The file and its upload form (content of kind file).
    file_panel: Option<FilePanel>,
}

/// The stored file of a content, as the page shows it.
pub(super) struct FileView {
    name: String,
    mime: String,
    size: String,
}

/// The file of a `file` content and the form that uploads it: the part
/// `upload.js` swaps when an upload is refused.
pub(super) struct FilePanel {
    csrf: String,
    id: i64,
    file: Option<FileView>,
    errors: FormErrors,
    accept: String,
    max_bytes: u64,
}

#[derive(Template)]
#[template(path = "content_file_panel.html")]
struct FilePanelOnly {
    panel: FilePanel,
}

/// "2.4 MiB", "830 KiB", "12 bytes".
fn size_words(n: i64) -> String {
    const KIB: i64 = 1024;
    match n {
        n if n >= KIB * KIB => format!("{:.1} MiB", n as f64 / (KIB * KIB) as f64),
        n if n >= KIB => format!("{} KiB", (n + KIB / 2) / KIB),
        1 => "1 byte".to_owned(),
        n => format!("{n} bytes"),
    }
}

fn file_panel(who: &SignedIn, c: &ContentView, errors: FormErrors) -> FilePanel {
    let accept = FILE_TYPES
        .iter()
        .flat_map(|t| [format!(".{}", t.ext), t.mime.to_owned()])
        .collect::<Vec<_>>()
        .join(",");
    FilePanel {
        csrf: crate::ui::csrf::token_for(&who.token),
        id: c.row.id.0,
        file: c.row.file.as_ref().map(|f| FileView {
            name: f.name.clone(),
            mime: f.mime.clone(),
            size: size_words(f.size),
        }),
        errors,
        accept,
        max_bytes: MAX_FILE_BYTES,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    kind: Option<String>,
    notice: Option<String>,
}

#[derive(Default)]
struct Extra {
    form: Option<ContentForm>,
    errors: FormErrors,
    alert: FormErrors,
}

async fn content_page(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    q: &ListQuery,
    extra: Extra,
) -> Result<Response, UiError> {
    let actor = super::actor_of(who)?.clone();
    let kind = super::non_empty(&q.kind)
        .filter(|k| KINDS.iter().any(|(v, _)| v == k))
        .map(str::to_owned);
    let rows = content::list(&s.app, &who.caller, kind.as_deref()).await?;
    let v = me::me(&s.app, &who.caller).await?;
    let form = extra.form.unwrap_or(ContentForm {
        kind: "template".into(),
        ..ContentForm::default()
    });
    let page = ContentPage {
        page: Layout::signed_in("Content", "/content", who, &v)
            .with_notice(notice(q.notice.as_deref())),
        kind: kind.unwrap_or_default(),
        kinds: KINDS,
        items: rows
            .into_iter()
            .map(|r| item(r, &who.caller.time_zone))
            .collect(),
        can_create: may(&actor, &Action::CreateContent),
        form,
        errors: extra.errors,
        alert: extra.alert,
    };
    Ok(render(status, &page))
}

async fn show(
    State(s): State<AppState>,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Result<Response, UiError> {
    content_page(&s, &who, StatusCode::OK, &q, Extra::default()).await
}

async fn create(
    State(s): State<AppState>,
    who: SignedIn,
    f: UiForm<ContentForm>,
) -> Result<Response, UiError> {
    match content::create(&s.app, &who.caller, f.data.input(true)).await {
        // A file is uploaded on its own page, the next step.
        Ok(v) if v.row.kind == "file" => Ok(see_other(
            &format!("/content/{}?notice=file_next", v.row.id.0),
            f.htmx,
        )),
        Ok(_) => Ok(see_other("/content?notice=content_added", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let extra = Extra {
                form: Some(f.data),
                errors,
                ..Extra::default()
            };
            content_page(&s, &who, status, &ListQuery::default(), extra).await
        }
    }
}

#[derive(Default)]
struct EditExtra {
    form: Option<ContentForm>,
    errors: FormErrors,
    file_errors: FormErrors,
    notice: Option<String>,
}

async fn edit_page(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    id: i64,
    x: EditExtra,
) -> Result<Response, UiError> {
    let c = content::get(&s.app, &who.caller, ContentId(id)).await?;
    if !c.can_edit {
        let actor = super::actor_of(who)?;
        leadteam_domain::authz::decide(actor, &Action::EditContent(&c.row.facts()))
            .map_err(leadteam_app::AppError::from)?;
    }
    let v = me::me(&s.app, &who.caller).await?;
    let file_panel = (c.row.kind == "file").then(|| file_panel(who, &c, x.file_errors));
    let form = x.form.unwrap_or(ContentForm {
        kind: c.row.kind.clone(),
        title: c.row.title.clone(),
        subject: c.row.subject.clone().unwrap_or_default(),
        body: c.row.body.clone(),
        shared: c.row.shared.then(|| "1".to_owned()),
    });
    let page = ContentEditPage {
        page: Layout::signed_in(&format!("Edit {}", c.row.title), "/content", who, &v)
            .with_notice(notice(x.notice.as_deref())),
        id,
        kind: kind_words(&c.row.kind),
        form,
        errors: x.errors,
        file_panel,
    };
    Ok(render(status, &page))
}

async fn edit_form(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Result<Response, UiError> {
    let x = EditExtra {
        notice: q.notice,
        ..EditExtra::default()
    };
    edit_page(&s, &who, StatusCode::OK, id, x).await
}

async fn edit(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<ContentForm>,
) -> Result<Response, UiError> {
    match content::edit(&s.app, &who.caller, ContentId(id), f.data.input(false)).await {
        Ok(_) => Ok(see_other("/content?notice=content_saved", f.htmx)),
        Err(e) => {
            let (status, errors) = FormErrors::from_app(e, &[])?;
            let x = EditExtra {
                form: Some(f.data),
                errors,
                ..EditExtra::default()
            };
            edit_page(&s, &who, status, id, x).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct NoFields {}

async fn delete(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    f: UiForm<NoFields>,
) -> Result<Response, UiError> {
    match content::delete(&s.app, &who.caller, ContentId(id)).await {
        Ok(()) => Ok(see_other("/content?notice=content_deleted", f.htmx)),
        Err(e) => {
            let (status, alert) = FormErrors::from_app(e, &[])?;
            let extra = Extra {
                alert,
                ..Extra::default()
            };
            content_page(&s, &who, status, &ListQuery::default(), extra).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FileQuery {
    /// The chosen file's name.
    name: Option<String>,
}

/// Stores the file sent as the raw body; a refusal is shown next to the
/// file field (the panel alone for the script, else the whole page).
async fn upload(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Query(q): Query<FileQuery>,
    up: RawUpload,
) -> Result<Response, UiError> {
    let htmx = up.htmx;
    let content_type = up.content_type.clone();
    let result = if up.is_empty() {
        Err(AppError::field("file", "Choose the file to upload."))
    } else {
        let meta = Upload {
            content_type: &content_type,
            length: up.length,
            name: super::non_empty(&q.name),
        };
        let mut reader = up.reader();
        let r = content::upload(&s.app, &who.caller, ContentId(id), meta, &mut reader).await;
        if r.is_err() {
            drain(&mut reader).await;
        }
        r
    };
    let e = match result {
        Ok(_) => {
            return Ok(see_other(
                &format!("/content/{id}?notice=file_uploaded"),
                htmx,
            ));
        }
        Err(e) => e,
    };
    let status = crate::ui::upload::refusal_status(&e);
    let e = match e {
        AppError::TooLarge(m) => AppError::field("file", m),
        // In words, not media types: the hint above the field lists the kinds.
        AppError::UnsupportedType(_) => AppError::field(
            "file",
            match FileType::from_content_type(&content_type) {
                Some(t) => format!(
                    "This file's content is not {} as its name says: choose another file, \
                     or save it again in that format",
                    t.ext.to_uppercase()
                ),
                None => "This kind of file is not accepted: choose one of the kinds listed \
                         above"
                    .to_owned(),
            },
        ),
        // Not allowed, not found, not a file: the error page.
        e @ (AppError::Denied(_) | AppError::NotFound(_) | AppError::Conflict { .. }) => {
            return Err(e.into());
        }
        e => e,
    };
    let (st, errors) = FormErrors::from_app(e, &[])?;
    let status = status.unwrap_or(st);
    if htmx {
        let c = content::get(&s.app, &who.caller, ContentId(id)).await?;
        let panel = file_panel(&who, &c, errors);
        return Ok(render(status, &FilePanelOnly { panel }));
    }
    let x = EditExtra {
        file_errors: errors,
        ..EditExtra::default()
    };
    edit_page(&s, &who, status, id, x).await
}
