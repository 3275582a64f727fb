//! Scenario 4: sign-in with email and password (argon2id on purpose).

use crate::Res;
use crate::seed::{Http, PASSWORD, World};
use crate::stats::{Op, Sample, run_load};
use leadteam_app::App;
use leadteam_app::auth::{ClientInfo, SigninInput};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

fn emails(w: &World) -> Arc<Vec<String>> {
    Arc::new(w.members.iter().map(|m| m.email.clone()).collect())
}

/// Over HTTP: `POST /api/v1/sessions`.
pub async fn http(
    h: &Http,
    w: &World,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
) -> Res<Sample> {
    let emails = emails(w);
    let client = h.client.clone();
    let url = format!("{}/api/v1/sessions", h.base);
    let op: Op = Arc::new(move |wk, n| {
        let email = &emails[(wk * 7 + n as usize) % emails.len()];
        let rb = client
            .post(&url)
            .json(&json!({"email": email, "password": PASSWORD}));
        Box::pin(async move {
            let r = rb.send().await?;
            let status = r.status().as_u16();
            let text = r.text().await?;
            if !(200..300).contains(&status) {
                return Err(format!("sign-in answered {status}: {text}").into());
            }
            Ok(())
        })
    });
    run_load(concurrency, warmup, measure, op).await
}

/// In-process: the sign-in use case (the same statements and the same
/// argon2 verification).
pub async fn direct(
    app: &App,
    w: &World,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
) -> Res<Sample> {
    let emails = emails(w);
    let app = app.clone();
    let op: Op = Arc::new(move |wk, n| {
        let email = emails[(wk * 7 + n as usize) % emails.len()].clone();
        let app = app.clone();
        Box::pin(async move {
            let info = ClientInfo {
                ip: Some("127.0.0.1".into()),
                user_agent: Some("leadteam-bench".into()),
            };
            leadteam_app::auth::signin(
                &app,
                SigninInput {
                    email: &email,
                    password: PASSWORD,
                    totp_code: None,
                    recovery_code: None,
                },
                &info,
            )
            .await
            .map_err(|e| format!("{e:?}"))?;
            Ok(())
        })
    });
    run_load(concurrency, warmup, measure, op).await
}
