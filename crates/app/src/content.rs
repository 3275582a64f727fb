//! Content (P5, P6, P8): message templates, files and pages. `content.edit`
//! creates and edits, only the owner and admins delete; content is private
//! (its author only) or shared with the account, and admins see all. Lists
//! use the one `content_scope`, single items the one `decide`.

use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use crate::files;
use leadteam_domain::authz::{Action, Actor, content_scope, decide};
use leadteam_domain::content::{
    ContentKind, FileType, MAX_BODY_CHARS, MAX_FILE_BYTES, MAX_TITLE_CHARS, SNIFF_BYTES, long_text,
    safe_file_name,
};
use leadteam_domain::validate::Name;
use leadteam_domain::{AccountId, ContentId, Timestamp, ValidationErrors};
use leadteam_store::Lock;
use leadteam_store::content::{self, ContentFields, ContentRow, StoredFile};
use leadteam_store::{Conn, Tx};
use serde_json::{Value, json};

/// A piece of content with what the caller may do with it.
#[derive(Debug, Clone)]
pub struct ContentView {
    pub row: ContentRow,
    pub can_edit: bool,
    pub can_delete: bool,
}

fn view(actor: &Actor, row: ContentRow) -> ContentView {
    let facts = row.facts();
    ContentView {
        can_edit: decide(actor, &Action::EditContent(&facts)).is_ok(),
        can_delete: decide(actor, &Action::DeleteContent).is_ok(),
        row,
    }
}

/// The audit picture of a content (before/after).
impl crate::trail::Audited for ContentRow {
    const KIND: &'static str = "content";

    fn audit_id(&self) -> i64 {
        self.id.0
    }

    fn picture(&self) -> Value {
        json!({
            "id": self.id.0,
            "kind": self.kind,
            "title": self.title,
            "subject": self.subject,
            "body_chars": self.body.chars().count(),
            "shared": self.shared,
            "author": self.author.as_ref().map(|a| a.0.0),
            "file": self.file.as_ref().map(|f| json!({"name": f.name, "type": f.mime, "size": f.size})),
        })
    }
}

async fn load(
    conn: &mut Conn,
    account: AccountId,
    id: ContentId,
    lock: Lock,
) -> Result<ContentRow, AppError> {
    content::get(conn, account, id, lock)
        .await?
        .ok_or(AppError::NotFound("content"))
}

/// The content the caller may see (P8), optionally of one kind.
pub async fn list(
    app: &App,
    caller: &Caller,
    kind: Option<&str>,
) -> Result<Vec<ContentView>, AppError> {
    let actor = caller.actor()?;
    let scope = content_scope(actor)?;
    let kind = match kind {
        None | Some("") => None,
        Some(k) => Some(ContentKind::parse("kind", k)?),
    };
    let mut c = app.db.conn().await?;
    let rows = content::list(&mut c, actor.account, scope, kind.map(ContentKind::as_str)).await?;
    Ok(rows.into_iter().map(|r| view(actor, r)).collect())
}

/// One piece of content: 404 unless the caller may see it.
pub async fn get(app: &App, caller: &Caller, id: ContentId) -> Result<ContentView, AppError> {
    let actor = caller.actor()?;
    let mut c = app.db.conn().await?;
    let row = load(&mut c, actor.account, id, Lock::None).await?;
    crate::auth::check(actor, &Action::ViewContent(&row.facts()))?;
    Ok(view(actor, row))
}

/// What a caller writes. On create `kind` and `title` are required (and
/// `subject` and `body` for a template); on edit `None` leaves a field as it
/// is, and `kind` cannot be given.
#[derive(Debug, Default)]
pub struct ContentInput<'a> {
    pub kind: Option<&'a str>,
    pub title: Option<&'a str>,
    /// `Some(None)`: no subject.
    pub subject: Option<Option<&'a str>>,
    pub body: Option<&'a str>,
    pub shared: Option<bool>,
}

/// The fields of a piece of content once parsed and checked as a whole.
struct Checked {
    title: String,
    subject: Option<String>,
    body: String,
    shared: bool,
}

/// Applies `input` over `base` (the stored fields, or empty ones) and checks
/// the result for its kind.
fn check(
    kind: ContentKind,
    base: Checked,
    input: &ContentInput<'_>,
) -> Result<Checked, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let title = match input.title {
        Some(t) => errs
            .take(Name::parse("title", t, MAX_TITLE_CHARS))
            .map(Name::into_string),
        None if base.title.is_empty() => {
            errs.push(leadteam_domain::FieldError::new("title", "is required"));
            None
        }
        None => Some(base.title),
    };
    let subject = match input.subject {
        Some(Some(s)) if kind == ContentKind::Template => errs
            .take(Name::parse("subject", s, MAX_TITLE_CHARS))
            .map(|n| Some(n.into_string())),
        Some(Some(_)) => {
            errs.push(leadteam_domain::FieldError::new(
                "subject",
                format!("only templates have a subject, not a {}", kind.as_str()),
            ));
            None
        }
        Some(None) => Some(None),
        None => Some(base.subject),
    };
    if kind == ContentKind::Template && matches!(subject, Some(None)) {
        errs.push(leadteam_domain::FieldError::new(
            "subject",
            "is required for a template",
        ));
    }
    let body = match input.body {
        Some(b) => errs.take(long_text("body", b, MAX_BODY_CHARS)),
        None => Some(base.body),
    };
    if kind == ContentKind::Template && body.as_deref().is_some_and(|b| b.trim().is_empty()) {
        errs.push(leadteam_domain::FieldError::new(
            "body",
            "is required for a template: the text of the message",
        ));
    }
    errs.into_result()?;
    match (title, subject, body) {
        (Some(title), Some(subject), Some(body)) => Ok(Checked {
            title,
            subject,
            body,
            shared: input.shared.unwrap_or(base.shared),
        }),
        _ => Err(ValidationErrors::single("body", "is invalid")),
    }
}

fn fields(c: &Checked) -> ContentFields<'_> {
    ContentFields {
        title: &c.title,
        subject: c.subject.as_deref(),
        body: &c.body,
        shared: c.shared,
    }
}

fn kind_of(row: &ContentRow) -> Result<ContentKind, AppError> {
    ContentKind::parse("kind", &row.kind).map_err(|_| {
        AppError::Internal(format!("content {} has kind {:?}", row.id, row.kind).into())
    })
}

/// Creates content authored by the caller (private unless `shared`).
pub async fn create(
    app: &App,
    caller: &Caller,
    input: ContentInput<'_>,
) -> Result<ContentView, AppError> {
    let actor = caller.may(&Action::CreateContent)?.clone();
    let kind = ContentKind::parse("kind", input.kind.unwrap_or(""))?;
    let empty = Checked {
        title: String::new(),
        subject: None,
        body: String::new(),
        shared: false,
    };
    let checked = check(kind, empty, &input)?;
    let now = app.now();
    let mut tx = app.db.write().await?;
    let id = content::insert(
        &mut tx,
        actor.account,
        kind.as_str(),
        actor.member,
        &fields(&checked),
        now,
    )
    .await?;
    let after = load(&mut tx, actor.account, id, Lock::None).await?;
    crate::trail::change(&mut tx, caller, "content.created", None, Some(&after), now).await?;
    tx.commit().await?;
    Ok(view(&actor, after))
}

pub async fn edit(
    app: &App,
    caller: &Caller,
    id: ContentId,
    input: ContentInput<'_>,
) -> Result<ContentView, AppError> {
    let actor = caller.actor()?.clone();
    if input.kind.is_some() {
        return Err(AppError::field(
            "kind",
            "cannot be changed: create new content instead",
        ));
    }
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    crate::auth::check(&actor, &Action::EditContent(&before.facts()))?;
    let base = Checked {
        title: before.title.clone(),
        subject: before.subject.clone(),
        body: before.body.clone(),
        shared: before.shared,
    };
    let checked = check(kind_of(&before)?, base, &input)?;
    content::update(&mut tx, id, &fields(&checked), now).await?;
    let after = load(&mut tx, actor.account, id, Lock::None).await?;
    crate::trail::change(
        &mut tx,
        caller,
        "content.updated",
        Some(&before),
        Some(&after),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(view(&actor, after))
}

/// Deletes content and its file (P5: the owner and admins only).
pub async fn delete(app: &App, caller: &Caller, id: ContentId) -> Result<(), AppError> {
    let actor = caller.may(&Action::DeleteContent)?.clone();
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    content::delete(&mut tx, id).await?;
    crate::trail::change(&mut tx, caller, "content.deleted", Some(&before), None, now).await?;
    tx.commit().await?;
    if before.file.is_some() {
        files::remove_quietly(&files::content_path(&app.config, actor.account, id)).await;
    }
    Ok(())
}

/// An upload as it arrives: its declared type, length and name.
#[derive(Debug, Default)]
pub struct Upload<'a> {
    pub content_type: &'a str,
    pub length: Option<u64>,
    pub name: Option<&'a str>,
}

fn too_large() -> AppError {
    AppError::TooLarge(format!(
        "a file may have at most {} MiB ({MAX_FILE_BYTES} bytes)",
        MAX_FILE_BYTES / (1024 * 1024)
    ))
}

fn unsupported(what: String) -> AppError {
    AppError::UnsupportedType(format!(
        "{what}; accepted types: {}",
        FileType::accepted().join(", ")
    ))
}

/// Who may upload to this content, checked before a byte is read and again
/// under the lock: an editor of it, and only content of kind `file`.
fn may_upload(actor: &Actor, row: &ContentRow) -> Result<(), AppError> {
    crate::auth::check(actor, &Action::EditContent(&row.facts()))?;
    if kind_of(row)? != ContentKind::File {
        return Err(AppError::conflict(
            None,
            format!(
                "only content of kind file holds a file; this one is a {}",
                row.kind
            ),
        ));
    }
    Ok(())
}

/// Stores the file of a `file` content (replacing any earlier one): at most
/// 10 MiB, of an allowed type whose bytes match it. The bytes are written
/// before the row is updated, and the write is undone if the update fails.
pub async fn upload<R: tokio::io::AsyncRead + Unpin>(
    app: &App,
    caller: &Caller,
    id: ContentId,
    up: Upload<'_>,
    body: R,
) -> Result<ContentView, AppError> {
    let actor = caller.actor()?.clone();
    let row = {
        let mut c = app.db.conn().await?;
        load(&mut c, actor.account, id, Lock::None).await?
    };
    may_upload(&actor, &row)?;
    let Some(ft) = FileType::from_content_type(up.content_type) else {
        let shown = if up.content_type.trim().is_empty() {
            "no Content-Type was given".to_owned()
        } else {
            format!("files of type {:?} are not accepted", up.content_type)
        };
        return Err(unsupported(shown));
    };
    if up.length.is_some_and(|n| n > MAX_FILE_BYTES) {
        return Err(too_large());
    }
    let dir = files::account_dir(&app.config, actor.account);
    let got = files::receive(&dir, body, MAX_FILE_BYTES, SNIFF_BYTES, too_large).await?;
    if got.size == 0 {
        return Err(AppError::field("file", "is empty"));
    }
    if !ft.matches(&got.head) {
        return Err(unsupported(format!(
            "the file's content is not {}",
            ft.mime
        )));
    }
    let name = up
        .name
        .and_then(safe_file_name)
        .or_else(|| safe_file_name(&format!("{}.{}", row.title, ft.ext)))
        .unwrap_or_else(|| format!("file.{}", ft.ext));
    let stored = StoredFile {
        name,
        mime: ft.mime.to_owned(),
        size: i64::try_from(got.size).unwrap_or(i64::MAX),
    };
    let now = app.now();
    let mut tx = app.db.write().await?;
    let before = load(&mut tx, actor.account, id, Lock::ForUpdate).await?;
    may_upload(&actor, &before)?;
    let dest = files::content_path(&app.config, actor.account, id);
    let placed = files::place(got.temp, &dest).await?;
    match record_upload(tx, caller, &before, &stored, now).await {
        Ok(after) => {
            placed.finish().await;
            Ok(view(&actor, after))
        }
        Err(e) => {
            placed.undo().await;
            Err(e)
        }
    }
}

async fn record_upload(
    mut tx: Tx,
    caller: &Caller,
    before: &ContentRow,
    stored: &StoredFile,
    now: Timestamp,
) -> Result<ContentRow, AppError> {
    content::set_file(&mut tx, before.id, stored, now).await?;
    let after = load(&mut tx, before.account, before.id, Lock::None).await?;
    crate::trail::change(
        &mut tx,
        caller,
        "content.file_uploaded",
        Some(before),
        Some(&after),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// A stored file to send: its description and the open file.
pub struct Download {
    pub file: StoredFile,
    pub data: tokio::fs::File,
}

/// The file of a piece of content the caller may see.
pub async fn download(app: &App, caller: &Caller, id: ContentId) -> Result<Download, AppError> {
    let actor = caller.actor()?;
    let row = {
        let mut c = app.db.conn().await?;
        load(&mut c, actor.account, id, Lock::None).await?
    };
    crate::auth::check(actor, &Action::ViewContent(&row.facts()))?;
    let Some(file) = row.file else {
        return Err(AppError::NotFound("file"));
    };
    let path = files::content_path(&app.config, actor.account, id);
    let data = tokio::fs::File::open(&path).await.map_err(|e| {
        AppError::Internal(crate::Fault::new(
            format!("cannot open {}", path.display()),
            e,
        ))
    })?;
    Ok(Download { file, data })
}
