//! The names of the Facebook pages and lead forms a source has seen (I6;
//! issue 17: the rule form offers a page or a form by name, not as a raw
//! id). Having completed a lead, the Graph worker asks the Graph API for the
//! name of its page and of its form (`GET {graph}/{id}?fields=id,name` with
//! the page access token) when the source does not know it yet. A failure
//! never fails the lead: the id is kept without a name, and the name is
//! asked for again with a later lead, at most once an hour.

use super::facebook::graph_get;
use crate::App;
use crate::auth::Caller;
use crate::error::AppError;
use leadteam_domain::authz::Action;
use leadteam_domain::intake::parse_graph_name;
use leadteam_domain::{SourceId, Timestamp};
use leadteam_store::facebook_names::{self, FacebookKind, KnownName};
use leadteam_store::sources::SourceRow;

/// How long an unknown name waits before it is asked for again.
const RETRY_MS: i64 = 60 * 60 * 1000;

/// Learns the names of the pages and forms in `seen` that `src` does not
/// know yet. Errors are logged, never returned: the lead is already stored.
pub(crate) async fn learn(
    app: &App,
    src: &SourceRow,
    token: &str,
    seen: &[(FacebookKind, String)],
) {
    for (kind, id) in seen {
        if let Err(e) = learn_one(app, src, token, *kind, id).await {
            tracing::info!(source = src.id.0, kind = ?kind, error = %e, "a Facebook page or form name was not learned");
        }
    }
}

async fn learn_one(
    app: &App,
    src: &SourceRow,
    token: &str,
    kind: FacebookKind,
    id: &str,
) -> Result<(), String> {
    let now = app.now();
    let retry_before = Timestamp(now.0.saturating_sub(RETRY_MS));
    {
        let mut c = app.db.conn().await.map_err(|e| e.to_string())?;
        if !facebook_names::needs_name(&mut c, src.id, kind, id, retry_before)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(());
        }
    }
    let asked = if graph_id(id) {
        graph_get(app, id, token, "id,name").await
    } else {
        Err("not a Graph API id".to_owned())
    };
    let name = asked.as_deref().ok().and_then(parse_graph_name);
    let mut tx = app.db.write().await.map_err(|e| e.to_string())?;
    facebook_names::record(&mut tx, src.account, src.id, kind, id, name.as_deref(), now)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    asked.map(|_| ())
}

/// Whether `id` may go in a Graph API path as Graph ids do: digits (and
/// the stand-ins' letters); anything else is kept without asking.
pub(super) fn graph_id(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A page or a lead form by id, with its name when the Graph API gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub name: Option<String>,
}

/// The pages and forms an account's Facebook sources have seen, each once
/// (named ones first, by name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FacebookNames {
    pub pages: Vec<Named>,
    pub forms: Vec<Named>,
}

impl FacebookNames {
    fn add(&mut self, k: KnownName) {
        let list = match k.kind {
            FacebookKind::Page => &mut self.pages,
            FacebookKind::Form => &mut self.forms,
        };
        match list.iter_mut().find(|n| n.id == k.external_id) {
            Some(n) if n.name.is_none() => n.name = k.name,
            Some(_) => {}
            None => list.push(Named {
                id: k.external_id,
                name: k.name,
            }),
        }
    }

    /// The name of a page (or, with `form`, of a form) by id, when known.
    pub fn name_of(&self, form: bool, id: &str) -> Option<&str> {
        let list = if form { &self.forms } else { &self.pages };
        list.iter()
            .find(|n| n.id == id.trim())
            .and_then(|n| n.name.as_deref())
    }
}

/// The pages and forms the caller's Facebook sources have seen, for those
/// who manage the rules (`integrations.manage`).
pub async fn known(app: &App, caller: &Caller) -> Result<FacebookNames, AppError> {
    collect(app, caller, None).await
}

/// The pages and forms one source has seen (`integrations.manage`).
pub async fn known_of(
    app: &App,
    caller: &Caller,
    source: SourceId,
) -> Result<FacebookNames, AppError> {
    collect(app, caller, Some(source)).await
}

async fn collect(
    app: &App,
    caller: &Caller,
    only: Option<SourceId>,
) -> Result<FacebookNames, AppError> {
    let actor = caller.may(&Action::ManageIntegrations)?;
    let mut c = app.db.conn().await?;
    let mut out = FacebookNames::default();
    for k in facebook_names::of_account(&mut c, actor.account).await? {
        if only.is_none_or(|s| s == k.source) {
            out.add(k);
        }
    }
    let by_name = |a: &Named, b: &Named| match (&a.name, &b.name) {
        (Some(x), Some(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.id.cmp(&b.id),
    };
    out.pages.sort_by(by_name);
    out.forms.sort_by(by_name);
    Ok(out)
}
