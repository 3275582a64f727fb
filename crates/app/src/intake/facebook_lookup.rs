//! Issue 17: the names of the Facebook pages and lead forms a source can
//! take leads from are learned as soon as its page access token is saved,
//! not only once a lead came through ([`super::facebook_names`]). Saving
//! the token queues a lookup in the transaction of the save; the Graph
//! worker ([`super::facebook::run_once`]) then asks the Graph API:
//!
//! - `GET {graph}/me/accounts?fields=id,name,access_token`: the pages a
//!   user token manages, each with its own page token;
//! - for a page token, which has no `accounts` (the Graph API answers with
//!   a client error), `GET {graph}/me?fields=id,name`: the page itself;
//! - `GET {graph}/{page}/leadgen_forms?fields=id,name` for each page, with
//!   that page's own token when `me/accounts` gave one.
//!
//! Every name found is stored (`facebook_names`). A failure never touches
//! the save (committed before) and is retried with the backoff of the
//! other Graph work, the names found so far kept. Each list is read up to
//! its first [`LIMIT`] entries (its first page of results).

use super::facebook::{graph_call, graph_get};
use super::facebook_names::graph_id;
use crate::App;
use crate::error::AppError;
use leadteam_domain::intake::{GraphNode, parse_graph_list, parse_graph_node};
use leadteam_domain::{SourceId, Timestamp};
use leadteam_store::Conn;
use leadteam_store::facebook_names::{self, FacebookKind};
use leadteam_store::graph_lookups::{self, Lookup};
use leadteam_store::sources::{self, SourceRow};

/// How many pages, and how many forms of each page, are read.
const LIMIT: usize = 100;

/// Queues the lookup of what `source`'s page token reaches (in the
/// transaction that saves the token; wake the worker after the commit).
pub(crate) async fn queue(tx: &mut Conn, source: SourceId, now: Timestamp) -> Result<(), AppError> {
    graph_lookups::enqueue(tx, source, now).await?;
    Ok(())
}

/// Runs the lookups due now; answers how many were attempted.
pub(super) async fn run_once(app: &App) -> Result<usize, AppError> {
    let due = graph_lookups::claim_due(&app.db, app.now(), 4, 5 * 60_000).await?;
    let n = due.len();
    for l in due {
        let result = look_up(app, &l).await;
        let now = app.now();
        let mut c = app.db.write().await?;
        match &result {
            Ok(()) => graph_lookups::finish(&mut c, &l, now, None, None).await?,
            Err(e) => {
                let retry = app.config.integrations.retry_at(l.attempts, now);
                tracing::info!(source = l.source.0, attempts = l.attempts, error = %e, "Graph API lookup of a page token failed");
                graph_lookups::finish(&mut c, &l, now, Some(e), retry).await?;
            }
        }
        c.commit().await?;
    }
    Ok(n)
}

async fn look_up(app: &App, l: &Lookup) -> Result<(), String> {
    let src = {
        let mut c = app.db.conn().await.map_err(|e| e.to_string())?;
        sources::by_id(&mut c, l.source)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("the lead source was deleted")?
    };
    let token = src
        .page_token
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or("no page access token is set on the source")?;
    let pages = pages_of(app, &token).await?;
    let mut found: Vec<(FacebookKind, GraphNode)> = Vec::new();
    let mut failed = None;
    for page in pages.into_iter().take(LIMIT) {
        if graph_id(&page.id) {
            let path = format!("{}/leadgen_forms", page.id);
            let with = page.access_token.as_deref().unwrap_or(&token);
            match list(app, &path, with, "id,name").await {
                Ok(forms) => found.extend(forms.into_iter().map(|f| (FacebookKind::Form, f))),
                Err(e) => {
                    failed.get_or_insert(format!("the lead forms of page {}: {e}", page.id));
                }
            }
        }
        found.push((FacebookKind::Page, page));
    }
    record(app, &src, &found).await?;
    failed.map_or(Ok(()), Err)
}

/// The pages of a user token (`me/accounts`), or the page a page token is
/// of (`me`, when `me/accounts` is refused as it is for a page token).
async fn pages_of(app: &App, token: &str) -> Result<Vec<GraphNode>, String> {
    let limit = LIMIT.to_string();
    let query = [
        ("fields", "id,name,access_token"),
        ("limit", limit.as_str()),
    ];
    let (status, body) = graph_call(app, "me/accounts", token, &query).await?;
    if (200..300).contains(&status) {
        return parse_graph_list(&body)
            .ok_or_else(|| "the Graph API's list of pages was not understood".to_owned());
    }
    if !(400..500).contains(&status) {
        return Err(format!("the Graph API answered {status} to me/accounts"));
    }
    let body = graph_get(app, "me", token, "id,name").await?;
    let page = serde_json::from_slice(&body)
        .ok()
        .as_ref()
        .and_then(parse_graph_node)
        .ok_or("the Graph API's answer about the page was not understood")?;
    Ok(vec![page])
}

/// The entries of a Graph API list (`{"data": [...]}`).
async fn list(app: &App, path: &str, token: &str, fields: &str) -> Result<Vec<GraphNode>, String> {
    let limit = LIMIT.to_string();
    let query = [("fields", fields), ("limit", limit.as_str())];
    let (status, body) = graph_call(app, path, token, &query).await?;
    if !(200..300).contains(&status) {
        let text: String = String::from_utf8_lossy(&body).chars().take(300).collect();
        return Err(format!("the Graph API answered {status}: {text}"));
    }
    parse_graph_list(&body).ok_or_else(|| "the Graph API's list was not understood".to_owned())
}

/// Stores every page and form found, with its name (a name already known
/// is kept when the answer gave none).
async fn record(
    app: &App,
    src: &SourceRow,
    found: &[(FacebookKind, GraphNode)],
) -> Result<(), String> {
    if found.is_empty() {
        return Ok(());
    }
    let now = app.now();
    let mut tx = app.db.write().await.map_err(|e| e.to_string())?;
    for (kind, node) in found {
        facebook_names::record(
            &mut tx,
            src.account,
            src.id,
            *kind,
            &node.id,
            node.name.as_deref(),
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())
}
