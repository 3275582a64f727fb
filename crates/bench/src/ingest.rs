//! Scenario 1: leads through the signed webhook, routed by the weighted
//! round robin of the default rule, at several numbers of concurrent senders.

use crate::Res;
use crate::seed::{Http, Source, World};
use crate::stats::{Op, Sample, run_load};
use leadteam_app::App;
use leadteam_app::intake::hooks::{self, Channel, Delivery};
use leadteam_domain::secret::hmac_sha256_hex;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

fn payload(tag: &str, w: usize, n: u64) -> String {
    json!({
        "name": format!("Lead {tag} {w}-{n}"),
        "email": format!("lead-{tag}-{w}-{n}@example.com"),
        "phone": "+1 555 0100",
        "lead_id": format!("{tag}-{w}-{n}"),
        "campaign": "spring",
    })
    .to_string()
}

/// Over HTTP: `POST /hooks/{id}` signed with the source's secret; 201 wanted.
pub async fn http(
    h: &Http,
    src: &Source,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
) -> Res<Sample> {
    let url = format!("{}/hooks/{}", h.base, src.id.0);
    let client = h.client.clone();
    let secret = src.secret.clone();
    let tag = format!("h{concurrency}");
    let op: Op = Arc::new(move |w, n| {
        let body = payload(&tag, w, n);
        let sig = format!(
            "sha256={}",
            hmac_sha256_hex(secret.as_bytes(), body.as_bytes())
        );
        let rb = client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-leadteam-signature", sig)
            .body(body);
        Box::pin(async move {
            let r = rb.send().await?;
            let status = r.status().as_u16();
            let text = r.text().await?;
            if status != 201 {
                return Err(format!("webhook answered {status}: {text}").into());
            }
            Ok(())
        })
    });
    run_load(concurrency, warmup, measure, op).await
}

/// In-process: what the webhook handler does without HTTP, through the
/// same use case (`intake::hooks::receive`: the source lookup, the
/// signature check, the payload, intake and the delivery log), so the same
/// SQL statements on the same pool settings.
pub async fn direct(
    app: &App,
    src: &Source,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
) -> Res<Sample> {
    let app = app.clone();
    let id = src.id;
    let secret = src.secret.clone();
    let tag = format!("d{concurrency}");
    let op: Op = Arc::new(move |w, n| {
        let app = app.clone();
        let body = payload(&tag, w, n);
        let sig = format!(
            "sha256={}",
            hmac_sha256_hex(secret.as_bytes(), body.as_bytes())
        );
        Box::pin(async move {
            let answers = hooks::receive(
                &app,
                Delivery {
                    source: id,
                    channel: Channel::Generic,
                    signature: Some(&sig),
                    idempotency_key: None,
                    content_type: Some("application/json"),
                    body: body.as_bytes(),
                },
            )
            .await
            .map_err(|e| format!("{e:?}"))?;
            match answers.as_slice() {
                [i] if !i.duplicate && i.assignee.is_some() => Ok(()),
                other => Err(format!("unexpected outcome: {other:?}").into()),
            }
        })
    });
    run_load(concurrency, warmup, measure, op).await
}

/// How many leads `src` has stored.
pub async fn stored(db: &leadteam_store::Db, src: &Source) -> Res<u64> {
    let mut c = db.conn().await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM clients WHERE source_id = $1")
        .bind(src.id.0)
        .fetch_one(&mut *c)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Checks the round robin held: every lead of the default rule was assigned,
/// and each member's share is its weight's share of the whole, within one
/// round (positions are handed out once each; PostgreSQL may skip a few).
/// Returns a one-line summary.
pub async fn check_round_robin(app: &App, w: &World) -> Res<String> {
    let mut c = app.db.conn().await?;
    let rows: Vec<(Option<i64>, i64)> = sqlx::query_as(
        "SELECT assignee_id, COUNT(*) FROM clients WHERE account_id = $1 AND source_id IN ($2, $3) GROUP BY assignee_id",
    )
    .bind(w.account.0)
    .bind(w.source_http.id.0)
    .bind(w.source_direct.id.0)
    .fetch_all(&mut *c)
    .await?;
    let counts: HashMap<Option<i64>, i64> = rows.into_iter().collect();
    if let Some(n) = counts.get(&None) {
        return Err(format!("{n} routed leads were left unassigned").into());
    }
    let total: i64 = counts.values().sum();
    let weights: i64 = w.round_robin.iter().map(|(_, wt)| i64::from(*wt)).sum();
    let rounds = total as f64 / weights as f64;
    let mut worst = 0f64;
    for (m, wt) in &w.round_robin {
        let got = counts.get(&Some(m.0)).copied().unwrap_or(0) as f64;
        let want = rounds * f64::from(*wt);
        let off = (got - want).abs();
        // One round of slack, plus what skipped positions may shift.
        if off > f64::from(*wt) + 1.0 + total as f64 * 0.002 {
            return Err(format!(
                "round robin off: member {} has {got} leads, expected {want:.1} (weight {wt})",
                m.0
            )
            .into());
        }
        worst = worst.max(off);
    }
    let outside = counts
        .keys()
        .filter(|k| k.is_some_and(|id| !w.round_robin.iter().any(|(m, _)| m.0 == id)));
    if outside.count() > 0 {
        return Err("leads were assigned outside the round robin".into());
    }
    Ok(format!(
        "{total} leads routed, all assigned, weighted shares within {worst:.1} lead(s) of exact"
    ))
}
