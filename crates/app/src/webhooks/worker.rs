//! Delivers due events: each delivery is claimed under a lease, its URL
//! checked again (DNS can change since it was saved) and the request sent to
//! the very address that was checked, without following redirects, signed
//! (see `leadteam_domain::webhooks`). A 2xx answer delivers it; anything else
//! is retried with backoff, and a subscription whose deliveries keep being
//! given up is switched off and its admin alerted.

use super::target;
use crate::App;
use crate::bus::Alerts;
use crate::error::AppError;
use leadteam_domain::webhooks::signature_header;
use leadteam_domain::{MemberId, Timestamp};
use leadteam_store::webhooks::{self, Due};
use serde_json::{Value, json};
use std::time::Duration;

/// How long a claimed delivery is held before another node may take it.
const LEASE_MS: i64 = 5 * 60_000;

/// The body of a delivery: the event's id, type, time and data.
pub fn body_of(d: &Due) -> String {
    let data: Value = serde_json::from_str(&d.payload_json).unwrap_or(Value::Null);
    json!({
        "id": format!("evt_{}", d.event),
        "type": d.kind,
        "created_at": crate::integrations::rfc3339(d.event_created_at),
        "data": data,
    })
    .to_string()
}

/// Sends what is due now; answers how many deliveries were attempted.
pub async fn run_once(app: &App) -> Result<usize, AppError> {
    let due = webhooks::claim_due(&app.db, app.now(), 16, LEASE_MS).await?;
    let n = due.len();
    let sends = due.into_iter().map(|d| {
        let app = app.clone();
        async move {
            let outcome = send(&app, &d).await;
            if let Err(e) = record(&app, &d, outcome).await {
                tracing::warn!(error = %e, delivery = d.id, "recording a webhook delivery failed");
            }
        }
    });
    let tasks: Vec<_> = sends.map(tokio::spawn).collect();
    for t in tasks {
        let _ = t.await;
    }
    Ok(n)
}

/// What became of one attempt.
enum Outcome {
    Delivered(u16),
    Failed(Option<u16>, String),
}

async fn send(app: &App, d: &Due) -> Outcome {
    let t = match target::resolve(app, &d.url).await {
        Ok(t) => t,
        Err(e) => return Outcome::Failed(None, format!("refused: the URL {e}")),
    };
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_millis(
            app.config.integrations.request_timeout_ms,
        ))
        .user_agent(concat!("leadteam-webhooks/", env!("CARGO_PKG_VERSION")));
    // Connect to the checked addresses only (no second lookup to rebind).
    builder = builder.resolve_to_addrs(&t.host, &t.addrs);
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(None, format!("no HTTP client: {e}")),
    };
    let body = body_of(d);
    let now_secs = app.now().0.div_euclid(1000);
    let answer = client
        .post(t.url)
        .header("content-type", "application/json")
        .header("leadteam-event-id", format!("evt_{}", d.event))
        .header("leadteam-event-type", &d.kind)
        .header(
            "leadteam-signature",
            signature_header(d.secret.as_bytes(), now_secs, body.as_bytes()),
        )
        .body(body)
        .send()
        .await;
    match answer {
        Ok(r) if r.status().is_success() => Outcome::Delivered(r.status().as_u16()),
        Ok(r) => {
            let status = r.status();
            let hint = if status.is_redirection() {
                " (redirects are not followed)"
            } else {
                ""
            };
            Outcome::Failed(Some(status.as_u16()), format!("answered {status}{hint}"))
        }
        Err(e) => Outcome::Failed(None, format!("could not deliver: {e}")),
    }
}

async fn record(app: &App, d: &Due, outcome: Outcome) -> Result<(), AppError> {
    let now = app.now();
    let mut tx = app.db.write().await?;
    let mut alerts = Alerts::default();
    let mut switched_off = false;
    match outcome {
        Outcome::Delivered(status) => {
            webhooks::delivered(&mut tx, d, i64::from(status), now).await?;
        }
        Outcome::Failed(status, error) => {
            let policy = &app.config.integrations;
            let retry = policy.retry_at(d.attempts, now);
            let failures =
                webhooks::failed(&mut tx, d, status.map(i64::from), &error, retry).await?;
            if retry.is_none() && failures >= policy.failures_to_disable {
                switch_off(&mut tx, &mut alerts, d, failures, &error, now).await?;
                switched_off = true;
            }
        }
    }
    tx.commit().await?;
    if switched_off {
        app.webhooks_changed(d.account);
    }
    alerts.publish(&app.bus);
    Ok(())
}

/// Switches a failing subscription off and alerts the admin who made it.
async fn switch_off(
    tx: &mut leadteam_store::Conn,
    alerts: &mut Alerts,
    d: &Due,
    failures: i64,
    error: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    let reason =
        format!("switched off after {failures} deliveries failed in a row; the last: {error}");
    if !webhooks::switch_off(tx, d.webhook, &reason, now).await? {
        return Ok(());
    }
    let hook = webhooks::get(tx, d.account, d.webhook).await?;
    let body = format!(
        "Webhook to {} was switched off: {failures} deliveries failed in a row",
        d.url
    );
    let mut told: Vec<MemberId> = Vec::new();
    if let Some(m) = hook.and_then(|h| h.created_by) {
        told.push(m);
    }
    if let Some(owner) = webhooks::owner_member(tx, d.account).await?
        && !told.contains(&owner)
    {
        told.push(owner);
    }
    for m in told {
        // The admin may have been removed meanwhile: alert who is left.
        let _ = alerts
            .add(tx, d.account, m, "webhook_disabled", None, &body, now)
            .await;
    }
    leadteam_store::intake::insert_audit(
        tx,
        &[leadteam_store::intake::SystemAudit {
            account: d.account,
            action: "webhook.switched_off",
            target_kind: "webhook",
            target_id: d.webhook,
            after_json: json!({"enabled": false, "reason": reason}).to_string(),
        }],
        now,
    )
    .await?;
    Ok(())
}
