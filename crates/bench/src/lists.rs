//! Scenario 3: pages of 50 visible clients at random cursor depths, for a
//! member that sees its own clients, the unassigned ones, one team's, and a
//! few it is a guest of.

use crate::Res;
use crate::seed::{Http, World};
use crate::stats::{Op, Rng, Sample, run_load};
use leadteam_app::App;
use leadteam_app::clients::ListQuery;
use leadteam_domain::ClientId;
use leadteam_domain::authz::client_scope;
use leadteam_store::clients::{self, Kinds, ListFilter};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const PAGE: i64 = 50;

/// Random cursors over the book: `after` uniform from a little above the
/// oldest client (so that a full page lies below every cursor) to just
/// above the newest.
#[derive(Clone)]
pub struct Cursors {
    rng: Arc<Mutex<Rng>>,
    first: i64,
    last: i64,
}

impl Cursors {
    pub fn new(seed: u64, first: i64, last: i64) -> Cursors {
        Cursors {
            rng: Arc::new(Mutex::new(Rng::new(seed))),
            first: first + ((last - first) / 100).max(2_000).min((last - first) / 2),
            last,
        }
    }

    pub fn next(&self) -> i64 {
        match self.rng.lock() {
            Ok(mut r) => r.range(self.first + 1, self.last + 2),
            Err(_) => self.last + 1,
        }
    }
}

fn ids_of(v: &serde_json::Value) -> Res<Vec<i64>> {
    v["clients"]
        .as_array()
        .ok_or("no clients array")?
        .iter()
        .map(|c| c["id"].as_i64().ok_or_else(|| "client without id".into()))
        .collect()
}

/// Over HTTP: `GET /api/v1/clients?limit=50&after=X` as the list member;
/// with the pages read in all (warm-up included, for the CPU per page).
pub async fn http(
    h: &Http,
    w: &World,
    cursors: Cursors,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
) -> Res<(Sample, u64)> {
    let client = h.client.clone();
    let base = h.base.clone();
    let token = w.lister().token.clone();
    let pages = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&pages);
    let op: Op = Arc::new(move |_, _| {
        let counted = Arc::clone(&counted);
        let rb = client
            .get(format!(
                "{base}/api/v1/clients?limit={PAGE}&after={}",
                cursors.next()
            ))
            .bearer_auth(&token);
        Box::pin(async move {
            let r = rb.send().await?;
            let status = r.status().as_u16();
            let bytes = r.bytes().await?;
            if status != 200 {
                return Err(format!("list answered {status}").into());
            }
            let v: serde_json::Value = serde_json::from_slice(&bytes)?;
            if ids_of(&v)?.len() as i64 != PAGE {
                return Err("a short page in the middle of the book".into());
            }
            counted.fetch_add(1, Ordering::Relaxed);
            Ok(())
        })
    });
    let sample = run_load(concurrency, warmup, measure, op).await?;
    Ok((sample, pages.load(Ordering::Relaxed)))
}

/// In-process: authenticate the token, then the list use case (the same
/// statements as the HTTP request).
pub async fn direct(
    app: &App,
    w: &World,
    cursors: Cursors,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
) -> Res<Sample> {
    requests(app, w, Some(cursors), concurrency, warmup, measure).await
}

/// A request's authentication alone: the lister's session token resolved
/// into its caller (what every list page pays before its statement).
pub async fn authentication(
    app: &App,
    w: &World,
    warmup: Duration,
    measure: Duration,
) -> Res<Sample> {
    requests(app, w, None, 1, warmup, measure).await
}

/// The lister's caller, from its session token.
async fn lister(app: &App, token: &str) -> Res<leadteam_app::auth::Caller> {
    let caller = leadteam_app::auth::authenticate(app, token)
        .await
        .map_err(|e| format!("{e:?}"))?;
    if caller.actor.is_none() {
        return Err("the lister has no account".into());
    }
    Ok(caller)
}

/// The lister's requests in-process: authentication, then (with `pages`)
/// the list use case at the next cursor.
async fn requests(
    app: &App,
    w: &World,
    pages: Option<Cursors>,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
) -> Res<Sample> {
    let app = app.clone();
    let token = w.lister().token.clone();
    let op: Op = Arc::new(move |_, _| {
        let app = app.clone();
        let token = token.clone();
        let after = pages.as_ref().map(Cursors::next);
        Box::pin(async move {
            let caller = lister(&app, &token).await?;
            let Some(after) = after else {
                return Ok(());
            };
            let (rows, _) = leadteam_app::clients::list(
                &app,
                &caller,
                ListQuery {
                    view: None,
                    assignee: None,
                    team: None,
                    q: None,
                    limit: Some(PAGE),
                    after: Some(after),
                },
            )
            .await
            .map_err(|e| format!("{e:?}"))?;
            if rows.len() as i64 != PAGE {
                return Err("a short page in the middle of the book".into());
            }
            Ok(())
        })
    });
    run_load(concurrency, warmup, measure, op).await
}

/// The list statement alone (`leadteam_store::clients::list`) on a pooled
/// connection, with the member's scope computed once.
pub async fn statement(
    app: &App,
    w: &World,
    cursors: Cursors,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
) -> Res<Sample> {
    let caller = lister(app, &w.lister().token).await?;
    let actor = caller.actor().map_err(|e| format!("{e:?}"))?.clone();
    let scope = Arc::new(client_scope(&actor));
    let db = app.db.clone();
    let op: Op = Arc::new(move |_, _| {
        let db = db.clone();
        let scope = scope.clone();
        let after = cursors.next();
        let account = actor.account;
        Box::pin(async move {
            let mut c = db.conn().await?;
            let rows = clients::list(&mut c, account, &scope, &filter(Some(after))).await?;
            if rows.len() as i64 != PAGE {
                return Err("a short page in the middle of the book".into());
            }
            Ok(())
        })
    });
    run_load(concurrency, warmup, measure, op).await
}

fn filter(after: Option<i64>) -> ListFilter {
    ListFilter {
        kinds: Kinds::ALL,
        assignee: None,
        team: None,
        q: None,
        after: after.map(ClientId),
        limit: PAGE,
    }
}

/// The visibility rule written out plainly (own, unassigned, the member's
/// team, guest), to check pages against.
async fn expected(app: &App, w: &World, after: i64) -> Res<Vec<i64>> {
    let me = w.lister();
    let mut c = app.db.conn().await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM clients WHERE account_id = $1 AND id < $2 AND (assignee_id = $3 OR assignee_id IS NULL \
         OR (assignee_id IS NOT NULL AND team_id = $4) \
         OR id IN (SELECT client_id FROM client_guests WHERE member_id = $3)) ORDER BY id DESC LIMIT 50",
    )
    .bind(w.account.0)
    .bind(after)
    .bind(me.id.0)
    .bind(me.team.0)
    .fetch_all(&mut *c)
    .await?;
    Ok(ids)
}

/// Compares `n` HTTP pages at random cursors (and the first page, and the
/// pages just above guest clients) with the rule written out. Returns a
/// summary.
pub async fn check(h: &Http, app: &App, w: &World, cursors: &Cursors, n: usize) -> Res<String> {
    let mut afters: Vec<Option<i64>> = vec![None];
    afters.extend((0..n).map(|_| Some(cursors.next())));
    {
        let mut c = app.db.conn().await?;
        let guest: Vec<i64> = sqlx::query_scalar(
            "SELECT client_id FROM client_guests WHERE member_id = $1 ORDER BY client_id LIMIT 5",
        )
        .bind(w.lister().id.0)
        .fetch_all(&mut *c)
        .await?;
        afters.extend(guest.into_iter().map(|g| Some(g + 1)));
    }
    let mut kinds = [0usize; 4];
    for after in afters {
        let path = match after {
            Some(a) => format!("/api/v1/clients?limit={PAGE}&after={a}"),
            None => format!("/api/v1/clients?limit={PAGE}"),
        };
        let v = h
            .expect(
                200,
                reqwest::Method::GET,
                &path,
                Some(&w.lister().token),
                None,
            )
            .await?;
        let got = ids_of(&v)?;
        let want = expected(app, w, after.unwrap_or(i64::MAX)).await?;
        if got != want {
            return Err(format!(
                "page after {after:?} differs from the rule: got {:?}.., want {:?}..",
                &got[..got.len().min(5)],
                &want[..want.len().min(5)]
            )
            .into());
        }
        for c in v["clients"].as_array().into_iter().flatten() {
            let a = c["assignee_id"].as_i64();
            let k = if a.is_none() {
                0
            } else if a == Some(w.lister().id.0) {
                1
            } else if c["team_id"].as_i64() == Some(w.lister().team.0) {
                2
            } else {
                3
            };
            kinds[k] += 1;
        }
    }
    if kinds.contains(&0) {
        return Err(format!("the checked pages miss a kind of client: {kinds:?}").into());
    }
    Ok(format!(
        "{} pages equal the rule written out (rows: {} unassigned, {} own, {} team, {} guest)",
        n + 6,
        kinds[0],
        kinds[1],
        kinds[2],
        kinds[3]
    ))
}

/// `EXPLAIN` (PostgreSQL) / `EXPLAIN QUERY PLAN` (SQLite) of the list
/// statement at a cursor, as the store builds it.
pub async fn plan(app: &App, w: &World, after: i64) -> Res<String> {
    let caller = lister(app, &w.lister().token).await?;
    let actor = caller.actor().map_err(|e| format!("{e:?}"))?.clone();
    let scope = client_scope(&actor);
    let mut c = app.db.conn().await?;
    let lines = clients::explain_list(&mut c, actor.account, &scope, &filter(Some(after))).await?;
    Ok(lines.join("\n"))
}
