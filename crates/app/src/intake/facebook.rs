//! Facebook leads completed from the Graph API (I6): Meta's webhook carries
//! ids only, so such a lead is stored at once "awaiting details" and queued
//! here; any node's worker fetches `GET {graph}/{leadgen_id}` with the page
//! access token, fills in the client and retries with backoff on failure.
//! The same worker looks up what a newly saved page token reaches
//! ([`super::facebook_lookup`]).

use crate::App;
use crate::error::AppError;
use leadteam_domain::intake::parse_facebook_details;
use leadteam_domain::validate::{Email, parse_phone};
use leadteam_domain::{ClientId, SourceId};
use leadteam_store::facebook_names::FacebookKind;
use leadteam_store::graph::{self, Fetch};
use leadteam_store::sources::{self, SourceRow};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Queues the fetch of the details of leads that came with ids only.
pub(crate) async fn queue(
    app: &App,
    src: &SourceRow,
    awaiting: &[(ClientId, String)],
) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.write().await?;
    for (client, leadgen) in awaiting {
        graph::enqueue(&mut tx, *client, src.id, leadgen, now).await?;
    }
    tx.commit().await?;
    app.events_queued();
    Ok(())
}

/// Fetches what is due now, then looks up the pages and forms of the page
/// tokens saved since (issue 17, [`super::facebook_lookup`]); answers how
/// many fetches and lookups were attempted.
pub async fn run_once(app: &App) -> Result<usize, AppError> {
    let fetched = fetch_due(app).await?;
    Ok(fetched + super::facebook_lookup::run_once(app).await?)
}

async fn fetch_due(app: &App) -> Result<usize, AppError> {
    let due = graph::claim_due(&app.db, app.now(), 8, 5 * 60_000).await?;
    let n = due.len();
    for f in due {
        let result = fetch(app, &f).await;
        let now = app.now();
        let mut c = app.db.write().await?;
        match result {
            Ok(()) => graph::finish(&mut c, f.client, now, None, None).await?,
            Err(e) => {
                let retry = app.config.integrations.retry_at(f.attempts, now);
                tracing::info!(client = f.client.0, attempts = f.attempts, error = %e, "Graph API fetch failed");
                graph::finish(&mut c, f.client, now, Some(&e), retry).await?;
            }
        }
        c.commit().await?;
    }
    Ok(n)
}

async fn source(app: &App, id: SourceId) -> Result<Option<SourceRow>, AppError> {
    let mut c = app.db.conn().await?;
    Ok(sources::by_id(&mut c, id).await?)
}

/// One fetch: the Graph API's answer written into the client.
async fn fetch(app: &App, f: &Fetch) -> Result<(), String> {
    let src = source(app, f.source)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the lead source was deleted")?;
    let token = src
        .page_token
        .clone()
        .filter(|t| !t.is_empty())
        .ok_or("no page access token is set on the source")?;
    let body = graph_get(
        app,
        &f.leadgen_id,
        &token,
        "id,created_time,field_data,form_id,ad_id",
    )
    .await?;
    let lead = parse_facebook_details(&body).map_err(|e| e.to_string())?;
    let now = app.now();
    let mut tx = app.db.write().await.map_err(|e| e.to_string())?;
    let stored = graph::fields_of(&mut tx, f.client)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the client was deleted")?;
    let mut fields: Map<String, Value> = serde_json::from_str(&stored).unwrap_or_default();
    fields.remove("awaiting_details");
    // The page and form the lead came through, whose names the source learns.
    let stored_id = |k: &str| fields.get(k).and_then(Value::as_str).map(str::to_owned);
    let seen = [
        (FacebookKind::Page, stored_id("facebook_page_id")),
        (
            FacebookKind::Form,
            stored_id("facebook_form_id").or_else(|| lead.facebook_form_id.clone()),
        ),
    ];
    let email = lead
        .email
        .as_deref()
        .and_then(|e| Email::parse("email", e).ok())
        .map(|e| e.into_string());
    if let (Some(raw), None) = (&lead.email, &email) {
        fields.insert("email (as sent)".into(), json!(raw));
    }
    let phone = lead
        .phone
        .as_deref()
        .and_then(|p| parse_phone("phone", p).ok());
    if let (Some(raw), None) = (&lead.phone, &phone) {
        fields.insert("phone (as sent)".into(), json!(raw));
    }
    for (k, v) in &lead.fields {
        fields.entry(k.clone()).or_insert_with(|| json!(v));
    }
    let name: Option<String> = lead
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(200).collect())
        .or_else(|| email.clone());
    graph::complete_client(
        &mut tx,
        f.client,
        name.as_deref(),
        email.as_deref(),
        phone.as_deref(),
        &Value::Object(fields).to_string(),
        now,
    )
    .await
    .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    let seen: Vec<(FacebookKind, String)> = seen
        .into_iter()
        .filter_map(|(k, id)| id.filter(|i| !i.trim().is_empty()).map(|i| (k, i)))
        .collect();
    super::facebook_names::learn(app, &src, &token, &seen).await;
    Ok(())
}

/// `GET {graph}/{path}?access_token=..&fields=..`: the answer's body, or
/// why there is none (the token never appears in it).
pub(super) async fn graph_get(
    app: &App,
    path: &str,
    token: &str,
    fields: &str,
) -> Result<Vec<u8>, String> {
    let (status, body) = graph_call(app, path, token, &[("fields", fields)]).await?;
    if !(200..300).contains(&status) {
        let text: String = String::from_utf8_lossy(&body).chars().take(300).collect();
        return Err(format!("the Graph API answered {status}: {text}"));
    }
    Ok(body)
}

/// `GET {graph}/{path}?access_token=..&{query}`: the answer's status and
/// body whatever the status, or why there is none (no answer; the token
/// never appears in the reason).
pub(super) async fn graph_call(
    app: &App,
    path: &str,
    token: &str,
    query: &[(&str, &str)],
) -> Result<(u16, Vec<u8>), String> {
    let base = app.config.integrations.graph_base_url.trim_end_matches('/');
    let mut url = url::Url::parse(&format!("{base}/{path}"))
        .map_err(|e| format!("bad Graph API address: {e}"))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("access_token", token);
        for (k, v) in query {
            q.append_pair(k, v);
        }
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(
            app.config.integrations.request_timeout_ms,
        ))
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("the Graph API did not answer: {}", e.without_url()))?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .map_err(|e| e.without_url().to_string())?;
    Ok((status, body.to_vec()))
}

/// Where a lead's details stand: (attempts, done, last error).
pub async fn fetch_state(
    app: &App,
    client: ClientId,
) -> Result<Option<(i64, bool, Option<String>)>, AppError> {
    let mut c = app.db.conn().await?;
    Ok(graph::state(&mut c, client).await?)
}
