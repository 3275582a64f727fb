//! Scenario 2: claim races. For each fresh unassigned client, all claimers
//! are released at once (a barrier) and claim it; exactly one may win.

use crate::Res;
use crate::seed::{Http, Member, World};
use crate::stats::{Part, Sample};
use leadteam_app::{App, AppError};
use leadteam_domain::ClientId;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Barrier;

/// What a race run measured, with the winners per client.
pub struct Races {
    pub sample: Sample,
    /// Number of winning claims of each client, in the order of `ids`.
    pub wins: Vec<u32>,
}

enum Outcome {
    Won,
    Lost,
}

async fn run<F, Fut>(claimers: &[Member], ids: &[i64], attempt: F) -> Res<Races>
where
    F: Fn(usize, i64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Res<Outcome>> + Send,
{
    let attempt = Arc::new(attempt);
    let barrier = Arc::new(Barrier::new(claimers.len()));
    let ids: Arc<Vec<i64>> = Arc::new(ids.to_vec());
    let start = Instant::now();
    let mut handles = Vec::new();
    for w in 0..claimers.len() {
        let attempt = attempt.clone();
        let barrier = barrier.clone();
        let ids = ids.clone();
        handles.push(tokio::spawn(async move {
            let mut part = Part::default();
            let mut won = Vec::with_capacity(ids.len());
            for &id in ids.iter() {
                barrier.wait().await;
                let t0 = Instant::now();
                let r = attempt(w, id).await;
                let took = t0.elapsed();
                won.push(matches!(r, Ok(Outcome::Won)));
                part.record(r.map(|_| ()), took);
            }
            (part, won)
        }));
    }
    let mut parts = Vec::new();
    let mut wins = vec![0u32; ids.len()];
    for h in handles {
        let (part, won) = h.await?;
        for (i, w) in won.into_iter().enumerate() {
            wins[i] += u32::from(w);
        }
        parts.push(part);
    }
    let elapsed = start.elapsed();
    Ok(Races {
        sample: Sample::from_parts(parts, elapsed),
        wins,
    })
}

/// Over HTTP: `POST /api/v1/clients/{id}/claim`; 200 wins, 409 loses.
pub async fn http(h: &Http, w: &World, ids: &[i64]) -> Res<Races> {
    let claimers = w.claimers().to_vec();
    let tokens: Arc<Vec<String>> = Arc::new(claimers.iter().map(|m| m.token.clone()).collect());
    let client = h.client.clone();
    let base = h.base.clone();
    run(&claimers, ids, move |w, id| {
        let rb = client
            .post(format!("{base}/api/v1/clients/{id}/claim"))
            .bearer_auth(&tokens[w])
            .header("content-type", "application/json")
            .body("{}");
        async move {
            let r = rb.send().await?;
            let status = r.status().as_u16();
            let text = r.text().await?;
            match status {
                200 => Ok(Outcome::Won),
                409 => Ok(Outcome::Lost),
                _ => Err(format!("claim answered {status}: {text}").into()),
            }
        }
    })
    .await
}

/// In-process: authenticate the token, then the claim use case.
pub async fn direct(app: &App, w: &World, ids: &[i64]) -> Res<Races> {
    let claimers = w.claimers().to_vec();
    let tokens: Arc<Vec<String>> = Arc::new(claimers.iter().map(|m| m.token.clone()).collect());
    let app = app.clone();
    run(&claimers, ids, move |w, id| {
        let app = app.clone();
        let tokens = tokens.clone();
        async move {
            let caller = leadteam_app::auth::authenticate(&app, &tokens[w])
                .await
                .map_err(|e| format!("{e:?}"))?;
            match leadteam_app::clients::claim(&app, &caller, ClientId(id)).await {
                Ok(_) => Ok(Outcome::Won),
                Err(AppError::Conflict { .. }) => Ok(Outcome::Lost),
                Err(e) => Err(format!("{e:?}").into()),
            }
        }
    })
    .await
}

/// Exactly one winner per client, seen by the claimers and in the database
/// (assigned, one `client.claimed` audit row). Returns a summary.
pub async fn check(app: &App, races: &Races, ids: &[i64]) -> Res<String> {
    let bad: Vec<(i64, u32)> = ids
        .iter()
        .zip(&races.wins)
        .filter(|(_, n)| **n != 1)
        .map(|(id, n)| (*id, *n))
        .collect();
    if !bad.is_empty() {
        return Err(format!(
            "{} clients without exactly one winner, e.g. {:?}",
            bad.len(),
            &bad[..bad.len().min(5)]
        )
        .into());
    }
    let (lo, hi) = (ids[0], ids[ids.len() - 1]);
    let mut c = app.db.conn().await?;
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM clients WHERE id BETWEEN $1 AND $2 AND assignee_id IS NULL",
    )
    .bind(lo)
    .bind(hi)
    .fetch_one(&mut *c)
    .await?;
    let (rows, distinct): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT target_id) FROM audit_log WHERE action = 'client.claimed' AND target_id BETWEEN $1 AND $2",
    )
    .bind(lo)
    .bind(hi)
    .fetch_one(&mut *c)
    .await?;
    let n = ids.len() as i64;
    if open != 0 || rows != n || distinct != n {
        return Err(format!(
            "database disagrees: {open} still unassigned, {rows} claim audit rows for {distinct} clients (want {n})"
        )
        .into());
    }
    Ok(format!(
        "{n}/{n} clients with exactly one winner (claimers and database agree)"
    ))
}

/// The claim races of a full run (over HTTP, then in-process), with their
/// checks: exactly one winner per client.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn races(
    sizes: &crate::Sizes,
    h: &crate::seed::Http,
    app: &leadteam_app::App,
    db: &leadteam_store::Db,
    server_pid: u32,
    w: &crate::seed::World,
    peaks: &mut crate::Peaks<'_>,
    rows: &mut Vec<crate::report::Row>,
    checks: &mut Vec<String>,
) -> crate::Res<()> {
    crate::say(&format!(
        "claim races: {} clients × {} claimers",
        sizes.races,
        crate::seed::CLAIMERS
    ));
    let ids = crate::seed::unassigned(db, w, sizes.races, "http").await?;
    peaks.mark("before races");
    let postgres = db.engine() == leadteam_store::Engine::Postgres;
    let cpu0 = crate::cpu::Cpu::now(server_pid, postgres);
    let h = http(h, w, &ids).await?;
    let cpu1 = crate::cpu::Cpu::now(server_pid, postgres);
    let peak = peaks.mark("claims");
    h.sample.ensure_clean("claims over HTTP")?;
    let attempts = (ids.len() * crate::seed::CLAIMERS) as u64;
    checks.push(format!(
        "CPU per claim attempt over HTTP ({attempts} attempts): {}",
        cpu1.per_op(cpu0, attempts, crate::cpu::database(postgres))
    ));
    checks.push(format!("claims over HTTP: {}", check(app, &h, &ids).await?));
    let ids = crate::seed::unassigned(db, w, sizes.races, "direct").await?;
    let d = direct(app, w, &ids).await?;
    d.sample.ensure_clean("claims in-process")?;
    checks.push(format!(
        "claims in-process: {}",
        check(app, &d, &ids).await?
    ));
    rows.push(crate::report::Row {
        scenario: format!("claim races: {} unassigned clients", sizes.races),
        load: format!("{} claimers on each", crate::seed::CLAIMERS),
        unit: "attempts/s",
        http: Some(h.sample),
        direct: Some(d.sample),
        peak_kib: peak,
        target: "exactly one winner; p99 < 5 ms".into(),
    });

    Ok(())
}
