//! `leadteam-bench --engine E --reports`: the time of each report (D2) and
//! of the home (D1) on a book of clients (1,000,000 by default) that arrived
//! over the last 365 days from four sources, most contacted after a spread
//! of delays, 1 % reclaimed, a few waiting in the backlog. The use cases run
//! in-process (the same SQL and pool as the server, without HTTP); prints
//! the figures and the plans of the two statements that read the clients
//! of a period. Asserts nothing about time.

use crate::seed::{self, World};
use crate::server::{Server, Target};
use crate::stats::Rng;
use crate::{Res, SEED, say};
use leadteam_app::auth::Caller;
use leadteam_app::reports::{self, Asked};
use leadteam_app::{App, AppConfig, SystemClock, backlog, home};
use leadteam_domain::{SourceId, Timestamp};
use leadteam_store::reports::{self as store_reports, SpeedBy};
use leadteam_store::{Db, Engine, sources};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DAY: i64 = 86_400_000;
/// How often each figure is measured (after two warm-up runs).
const RUNS: usize = 15;

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Two more sources besides the bench's two webhooks.
async fn more_sources(db: &Db, w: &World) -> Res<Vec<SourceId>> {
    let mut tx = db.write().await?;
    let mut out = Vec::new();
    for (kind, name) in [("facebook", "Facebook ads"), ("form", "Website form")] {
        let id = sources::insert(
            &mut tx,
            sources::NewSource {
                account: w.account,
                kind,
                name,
                secret: "bench-secret",
                verify_token: None,
            },
            seed::now(),
        )
        .await?;
        out.push(id);
    }
    tx.commit().await?;
    Ok(out)
}

/// Writes `n` clients spread evenly over the last 365 days: sources 40 /
/// 30 / 20 % (webhook, Facebook, form) and 10 % imported; 5 % unassigned
/// (those of the last two days wait in the backlog), the rest over the 99
/// members; 85 % of the assigned ones contacted by their member after
/// 30 s to 2 days (log-uniform). Then 1 % of the assigned ones reclaimed.
async fn book(db: &Db, w: &World, n: usize, extra: &[SourceId]) -> Res<()> {
    let mut rng = Rng::new(SEED ^ 0x5eed);
    let now = seed::now().0;
    let t0 = now - 365 * DAY;
    let step = (365 * DAY) as f64 / n as f64;
    let srcs: [(Option<SourceId>, &str); 4] = [
        (Some(w.source_http.id), "webhook"),
        (extra.first().copied(), "facebook"),
        (extra.get(1).copied(), "form"),
        (None, "import"),
    ];
    let batch = 2_000;
    let mut done = 0;
    while done < n {
        let mut tx = db.write().await?;
        for _ in 0..20 {
            if done >= n {
                break;
            }
            let rows = batch.min(n - done);
            let mut sql = String::with_capacity(rows * 220);
            sql.push_str(
                "INSERT INTO clients (account_id, name, email, source, source_id, fields_json, status, team_id, \
                 assignee_id, ever_assigned, created_at, updated_at, assigned_at, first_contact_at, first_contact_by, \
                 contacted_at, waiting_rule, routing_reason) VALUES ",
            );
            for r in 0..rows {
                let i = done + r;
                let at = t0 + (i as f64 * step) as i64;
                let pick = rng.next_u64() % 100;
                let (src, kind) = srcs[match pick {
                    0..40 => 0,
                    40..70 => 1,
                    70..90 => 2,
                    _ => 3,
                }];
                let src = src.map_or("NULL".to_owned(), |s| s.0.to_string());
                let assigned = rng.next_u64() % 100 >= seed::UNASSIGNED_PCT;
                let (team, assignee, contact, waiting, reason) = if assigned {
                    let m = &w.members[(rng.next_u64() % w.members.len() as u64) as usize];
                    let contact = if rng.next_u64() % 100 < 85 {
                        // Log-uniform between 30 s and 2 days.
                        let u = (rng.next_u64() % 1_000_000) as f64 / 1_000_000.0;
                        let lo = (30_000f64).ln();
                        let hi = ((2 * DAY) as f64).ln();
                        let wait = (lo + u * (hi - lo)).exp() as i64;
                        Some(at + wait)
                    } else {
                        None
                    };
                    (m.team.0.to_string(), Some(m.id.0), contact, "NULL", "NULL")
                } else if at > now - 2 * DAY {
                    (
                        "NULL".into(),
                        None,
                        None,
                        "'\"default\"'",
                        "'unassigned: all 20 candidates at capacity'",
                    )
                } else {
                    ("NULL".into(), None, None, "NULL", "NULL")
                };
                let assignee_s = assignee.map_or("NULL".to_owned(), |a| a.to_string());
                let (fc_at, fc_by) = match (contact, assignee) {
                    (Some(c), Some(a)) => (c.to_string(), a.to_string()),
                    _ => ("NULL".into(), "NULL".into()),
                };
                if r > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "({}, {}, {}, '{kind}', {src}, '{{}}', 'open', {team}, {assignee_s}, {}, {at}, {at}, {}, {fc_at}, {fc_by}, {fc_at}, {waiting}, {reason})",
                    w.account.0,
                    sql_text(&format!("Lead {i}")),
                    sql_text(&format!("lead{i}@book.example")),
                    i64::from(assignee.is_some()),
                    assignee.map_or("NULL".to_owned(), |_| at.to_string()),
                ));
            }
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await?;
            done += rows;
        }
        tx.commit().await?;
    }
    let mut tx = db.write().await?;
    sqlx::query(
        "INSERT INTO client_events (account_id, client_id, kind, actor_member_id, body, data_json, at) \
         SELECT account_id, id, 'reclaimed', NULL, 'reclaimed: not contacted in time', \
         '{\"from\":' || assignee_id || ',\"to\":' || assignee_id || '}', created_at + 900000 \
         FROM clients WHERE account_id = $1 AND assignee_id IS NOT NULL AND id % 100 = 0",
    )
    .bind(w.account.0)
    .execute(&mut *tx)
    .await?;
    // Twenty members hold a limit of open clients (capacity in use).
    for m in &w.members[..20] {
        sqlx::query("UPDATE members SET capacity = 20000 WHERE id = $1")
            .bind(m.id.0)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Median and 95th percentile of `RUNS` runs of `f` (two warm-up runs first).
async fn time<F, Fut, T>(f: F) -> Res<(Duration, Duration, T)>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Res<T>>,
{
    f().await?;
    f().await?;
    let mut lat = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let v = f().await?;
        lat.push(t.elapsed());
        last = Some(v);
    }
    lat.sort_unstable();
    let p95 = lat[((RUNS as f64 * 0.95).ceil() as usize).clamp(1, RUNS) - 1];
    let v = last.ok_or("no run")?;
    Ok((lat[RUNS / 2], p95, v))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The plan of `sql` over the last `days` days.
async fn plan(db: &Db, w: &World, sql: &str, days: i64) -> Res<String> {
    let now = seed::now().0;
    let mut c = db.conn().await?;
    let explain = match db.engine() {
        Engine::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        Engine::Postgres => format!("EXPLAIN {sql}"),
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(explain))
        .bind(w.account.0)
        .bind(now - days * DAY)
        .bind(now);
    if sql.contains("$4") {
        q = q.bind(0_i64);
    }
    let rows = q.fetch_all(&mut *c).await?;
    use sqlx::Row;
    let lines: Vec<String> = rows
        .iter()
        .map(|r| match db.engine() {
            Engine::Sqlite => r.try_get::<String, _>("detail").unwrap_or_default(),
            Engine::Postgres => r.try_get::<String, _>(0).unwrap_or_default(),
        })
        .collect();
    Ok(lines.join("\n"))
}

async fn caller(app: &App, token: &str) -> Res<Caller> {
    leadteam_app::auth::authenticate(app, token)
        .await
        .map_err(|e| format!("{e:?}").into())
}

pub async fn run(bin: &std::path::Path, target: &Target, n: usize) -> Res<()> {
    let srv = Server::start(bin, target).await?;
    let http = seed::Http::new(&srv.base)?;
    let db = Db::connect(&target.url, None).await?;
    say("seeding 100 members, 10 teams, sources and the round robin");
    let w = seed::world(&http, &db, &target.dir.join("data").join("mail")).await?;
    let extra = more_sources(&db, &w).await?;
    say(&format!("seeding a book of {n} clients over 365 days"));
    let t = Instant::now();
    book(&db, &w, n, &extra).await?;
    if db.engine() == Engine::Postgres {
        sqlx::raw_sql("VACUUM ANALYZE")
            .execute(&mut *db.conn().await?)
            .await?;
    }
    say(&format!("seeded in {:.0} s", t.elapsed().as_secs_f64()));
    drop(srv);
    let app = App::new(
        db.clone(),
        Arc::new(SystemClock),
        AppConfig {
            data_dir: target.dir.join("data-in-process"),
            ..AppConfig::default()
        },
    );
    let owner = caller(&app, &w.owner_token).await?;
    let member = caller(&app, &w.members[0].token).await?;
    let zone = reports::account_zone(&app, &owner)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let now = seed::now().0;
    let period = |days: i64| Asked {
        from: Some(
            leadteam_domain::reports::today_in(&zone, Timestamp(now))
                .checked_sub(jiff::Span::new().days(days - 1))
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
        to: None,
    };
    let err = |e: leadteam_app::AppError| -> Box<dyn std::error::Error + Send + Sync> {
        format!("{e:?}").into()
    };
    println!(
        "\nreports on {} clients ({}), in-process, median and p95 of {RUNS} runs\n",
        n,
        target.engine.name()
    );
    println!("| report | period | leads in period | median | p95 |");
    println!("|---|---|---|---|---|");
    for days in [7_i64, 30, 365] {
        let asked = period(days);
        let (m, p, r) = time(|| async {
            reports::speed_to_lead(&app, &owner, &zone, &asked, Some("member"))
                .await
                .map_err(err)
        })
        .await?;
        let leads = r.total.leads;
        println!(
            "| speed to lead per member | {days} d | {leads} | {} | {} |",
            ms(m),
            ms(p)
        );
        let (m, p, _) = time(|| async {
            reports::speed_to_lead(&app, &owner, &zone, &asked, Some("source"))
                .await
                .map_err(err)
        })
        .await?;
        println!(
            "| speed to lead per source | {days} d | {leads} | {} | {} |",
            ms(m),
            ms(p)
        );
        let (m, p, r) = time(|| async {
            reports::leads_per_day(&app, &owner, &zone, &asked, None, None)
                .await
                .map_err(err)
        })
        .await?;
        println!(
            "| leads per source per day | {days} d | {} | {} | {} |",
            r.total,
            ms(m),
            ms(p)
        );
        let (m, p, r) = time(|| async {
            reports::reclaims(&app, &owner, &zone, &asked)
                .await
                .map_err(err)
        })
        .await?;
        println!(
            "| reclaims ({} in period) | {days} d | {leads} | {} | {} |",
            r.total,
            ms(m),
            ms(p)
        );
    }
    let (m, p, team) =
        time(|| async { reports::team_now(&app, &owner).await.map_err(err) }).await?;
    println!(
        "| who is available now, capacity in use ({} members) | now | | {} | {} |",
        team.len(),
        ms(m),
        ms(p)
    );
    let (m, p, b) = time(|| async { backlog::summary(&app, &owner, 1).await.map_err(err) }).await?;
    println!(
        "| backlog and why ({} waiting) | now | | {} | {} |",
        b.total,
        ms(m),
        ms(p)
    );
    let (m, p, h) = time(|| async { home::member_home(&app, &member).await.map_err(err) }).await?;
    println!(
        "| a member's home ({} new leads, {} to claim) | now | | {} | {} |",
        h.new_total,
        h.claimable_total,
        ms(m),
        ms(p)
    );
    println!(
        "\nplans of speed to lead per member (7 days), counts:\n\n{}\n\nand the ranks of the median and p90:\n\n{}\n",
        plan(
            &db,
            &w,
            &store_reports::speed_counts_sql(SpeedBy::Member),
            7
        )
        .await?,
        plan(&db, &w, &store_reports::speed_ranks_sql(SpeedBy::Member), 7).await?
    );
    println!(
        "plan of leads per source per day (7 days):\n\n{}\n",
        plan(&db, &w, store_reports::LEADS_PER_DAY_SQL, 7).await?
    );
    db.close().await;
    Ok(())
}
