//! Content (`/api/v1/content`, P5, P8): message templates and pages (and the
//! files uploaded through the API), private or shared; `content.edit`
//! creates and edits, the owner and admins delete. The list shows what
//! `content_scope` admits and each action as `decide` says (`ContentView`).

use super::{may, notice};
use crate::AppState;
use crate::ui::layout::{Layout, render, see_other};
use crate::ui::{FormErrors, SignedIn, UiError, UiForm};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use leadteam_app::content::{self, ContentInput, ContentView};
use leadteam_app::me;
use leadteam_domain::ContentId;
use leadteam_domain::authz::Action;
use serde::Deserialize;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r.route("/content", get(show).post(create))
        .route("/content/{id}", get(edit_form).post(edit))
        .route("/content/{id}/delete", post(delete))
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
    can_edit: bool,
    can_delete: bool,
}

fn item(v: ContentView) -> ItemView {
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
        updated: super::when(r.updated_at),
        file: r.file.map(|f| f.name),
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
        items: rows.into_iter().map(item).collect(),
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

async fn edit_page(
    s: &AppState,
    who: &SignedIn,
    status: StatusCode,
    id: i64,
    form: Option<ContentForm>,
    errors: FormErrors,
) -> Result<Response, UiError> {
    let c = content::get(&s.app, &who.caller, ContentId(id)).await?;
    if !c.can_edit {
        let actor = super::actor_of(who)?;
        leadteam_domain::authz::decide(actor, &Action::EditContent(&c.row.facts()))
            .map_err(leadteam_app::AppError::from)?;
    }
    let v = me::me(&s.app, &who.caller).await?;
    let form = form.unwrap_or(ContentForm {
        kind: c.row.kind.clone(),
        title: c.row.title.clone(),
        subject: c.row.subject.clone().unwrap_or_default(),
        body: c.row.body.clone(),
        shared: c.row.shared.then(|| "1".to_owned()),
    });
    let page = ContentEditPage {
        page: Layout::signed_in(&format!("Edit {}", c.row.title), "/content", who, &v),
        id,
        kind: kind_words(&c.row.kind),
        form,
        errors,
    };
    Ok(render(status, &page))
}

async fn edit_form(
    State(s): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, UiError> {
    edit_page(&s, &who, StatusCode::OK, id, None, FormErrors::default()).await
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
            edit_page(&s, &who, status, id, Some(f.data), errors).await
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
