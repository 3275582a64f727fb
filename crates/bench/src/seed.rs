//! The world every scenario runs in: one account created over HTTP (sign-up),
//! then, for speed, 99 more members, ten teams, sessions and the book of
//! clients written straight through `leadteam_store` / bulk SQL; the lead
//! sources and the default round robin are set over HTTP.

use crate::Res;
use crate::stats::Rng;
use leadteam_domain::authz::{Permission, Preset};
use leadteam_domain::secret::token_hash;
use leadteam_domain::{AccountId, MemberId, SourceId, TeamId, Timestamp};
use leadteam_store::{Db, members, sessions, teams, users};
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

pub const PASSWORD: &str = "bench correct horse battery";
pub const MEMBERS: usize = 100;
pub const TEAMS: usize = 10;
pub const ROUND_ROBIN: usize = 20;
pub const CLAIMERS: usize = 50;
/// Per cent of the book left unassigned.
pub const UNASSIGNED_PCT: u64 = 5;
/// Clients the list member is a guest of (P7).
pub const GUEST_CLIENTS: usize = 100;

pub fn now() -> Timestamp {
    Timestamp(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0),
    )
}

/// A small JSON-over-HTTP client.
#[derive(Clone)]
pub struct Http {
    pub client: reqwest::Client,
    pub base: String,
}

impl Http {
    pub fn new(base: &str) -> Res<Http> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(256)
            .build()?;
        Ok(Http {
            client,
            base: base.to_owned(),
        })
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Res<(u16, Value)> {
        let mut rb = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await?;
        let status = r.status().as_u16();
        let bytes = r.bytes().await?;
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, v))
    }

    /// Calls and insists on `want`.
    pub async fn expect(
        &self,
        want: u16,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Res<Value> {
        let (status, v) = self.call(method.clone(), path, token, body).await?;
        if status != want {
            return Err(format!("{method} {path}: {status} (wanted {want}): {v}").into());
        }
        Ok(v)
    }
}

#[derive(Debug, Clone)]
pub struct Member {
    pub id: MemberId,
    pub email: String,
    pub token: String,
    pub team: TeamId,
}

/// A lead source with its secret.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: SourceId,
    pub secret: String,
}

pub struct World {
    pub account: AccountId,
    /// The owner's session token (it may see every report).
    pub owner_token: String,
    /// The 99 members besides the owner; member `i` is in team `i % 10`.
    pub members: Vec<Member>,
    /// The weighted round robin of the default rule: members 0..20, weights 1..5.
    pub round_robin: Vec<(MemberId, u8)>,
    /// The member whose list is measured: Member preset plus
    /// `clients.view_team`, in one team, guest of a few clients.
    pub list_member: usize,
    /// Lead sources: one for the HTTP runs, one for the in-process runs.
    pub source_http: Source,
    pub source_direct: Source,
}

impl World {
    pub fn claimers(&self) -> &[Member] {
        &self.members[40..40 + CLAIMERS]
    }

    pub fn lister(&self) -> &Member {
        &self.members[self.list_member]
    }
}

/// The token of the sign-up link mailed (as an `.eml` file: the bench
/// server has no SMTP) into `mail_dir`.
async fn signup_token(mail_dir: &std::path::Path) -> Res<String> {
    for _ in 0..200 {
        if let Ok(entries) = std::fs::read_dir(mail_dir) {
            for e in entries.flatten() {
                let raw = std::fs::read_to_string(e.path()).unwrap_or_default();
                // Undo quoted-printable soft line breaks and the encoded
                // `=` of the link before looking.
                let text = raw
                    .replace("=\r\n", "")
                    .replace("=\n", "")
                    .replace("=3D", "=");
                if let Some(at) = text.find("/signup/confirm?token=") {
                    let rest = &text[at + "/signup/confirm?token=".len()..];
                    let token: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect();
                    if !token.is_empty() {
                        return Ok(token);
                    }
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Err(format!("no sign-up mail in {}", mail_dir.display()).into())
}

/// Signs up the owner over HTTP (following the mailed link), then seeds the rest.
pub async fn world(http: &Http, db: &Db, mail_dir: &std::path::Path) -> Res<World> {
    http.expect(
        202,
        reqwest::Method::POST,
        "/api/v1/signup",
        None,
        Some(json!({"account_name": "Bench Sales", "name": "Olga Owner",
                    "email": "owner@bench.example", "password": PASSWORD})),
    )
    .await?;
    let token = signup_token(mail_dir).await?;
    let v = http
        .expect(
            201,
            reqwest::Method::POST,
            "/api/v1/signup/confirm",
            None,
            Some(json!({ "token": token })),
        )
        .await?;
    let owner_token = v["token"].as_str().ok_or("signup: no token")?.to_owned();
    let account = AccountId(v["account_id"].as_i64().ok_or("signup: no account")?);
    let t = now();
    let mut tx = db.write().await?;
    // Every seeded user gets the owner's password hash: one argon2 hash,
    // and every member signs in with PASSWORD.
    let owner_user = users::by_email(&mut tx, "owner@bench.example")
        .await?
        .ok_or("owner user missing")?;
    let role = members::role_by_key_or_name(&mut tx, account, "member")
        .await?
        .ok_or("Member role missing")?;
    let mut team_ids = Vec::new();
    for i in 0..TEAMS {
        team_ids.push(teams::insert(&mut tx, account, &format!("Team {i}"), t).await?);
    }
    let list_member = MEMBERS - 2;
    let list_perms = Preset::Member
        .permissions()
        .with(Permission::ClientsViewTeam);
    let mut seeded = Vec::new();
    for i in 0..MEMBERS - 1 {
        let email = format!("m{i}@bench.example");
        let name = format!("Member {i}");
        let user = users::insert(&mut tx, &email, &name, &owner_user.password_hash, t).await?;
        let id = members::insert_invited(
            &mut tx,
            members::NewInvited {
                account,
                email: &email,
                name: &name,
                role,
                permissions: (i == list_member).then_some(list_perms),
                agent: true,
            },
            t,
        )
        .await?;
        members::activate(&mut tx, id, user, &name, t).await?;
        let team = team_ids[i % TEAMS];
        members::set_teams(&mut tx, account, id, &[team]).await?;
        let token = leadteam_app::auth::random_token();
        sessions::insert(
            &mut tx,
            sessions::NewSession {
                token_hash: &token_hash(&token),
                user,
                account: Some(account),
                expires_at: Timestamp(t.0 + 30 * 86_400_000),
                user_agent: Some("leadteam-bench"),
                ip: Some("127.0.0.1"),
            },
            t,
        )
        .await?;
        seeded.push(Member {
            id,
            email,
            token,
            team,
        });
    }
    tx.commit().await?;

    let round_robin: Vec<(MemberId, u8)> = (0..ROUND_ROBIN)
        .map(|i| (seeded[i].id, (i % 5) as u8 + 1))
        .collect();
    let entries: Vec<Value> = round_robin
        .iter()
        .map(|(m, w)| json!({"member_id": m.0, "leads_per_round": w}))
        .collect();
    http.expect(
        200,
        reqwest::Method::PUT,
        "/api/v1/assignment-rules/default",
        Some(&owner_token),
        Some(json!({"type": "round_robin", "members": entries})),
    )
    .await?;
    let mut sources = Vec::new();
    for name in ["Bench webhook (HTTP)", "Bench webhook (in-process)"] {
        let v = http
            .expect(
                201,
                reqwest::Method::POST,
                "/api/v1/lead-sources",
                Some(&owner_token),
                Some(json!({"kind": "webhook", "name": name})),
            )
            .await?;
        sources.push(Source {
            id: SourceId(v["id"].as_i64().ok_or("source: no id")?),
            secret: v["secret"].as_str().ok_or("source: no secret")?.to_owned(),
        });
    }
    let source_direct = sources.pop().ok_or("no source")?;
    let source_http = sources.pop().ok_or("no source")?;
    Ok(World {
        account,
        owner_token,
        members: seeded,
        round_robin,
        list_member,
        source_http,
        source_direct,
    })
}

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Writes `n` clients with bulk multi-row INSERTs (`batch` rows a
/// statement, one transaction per 20 statements): 5 % unassigned, the rest
/// spread evenly over the 99 members, each in its assignee's team. Returns
/// the (first, last) id written.
pub async fn book(db: &Db, w: &World, n: usize, batch: usize, seed: u64) -> Res<(i64, i64)> {
    let mut rng = Rng::new(seed);
    let t = now().0 - n as i64;
    let mut first = None;
    let mut last = 0;
    let mut done = 0usize;
    while done < n {
        let mut tx = db.write().await?;
        for _ in 0..20 {
            if done >= n {
                break;
            }
            let rows = batch.min(n - done);
            let mut sql = String::with_capacity(rows * 160);
            sql.push_str(
                "INSERT INTO clients (account_id, name, email, phone, source, fields_json, status, team_id, \
                 assignee_id, ever_assigned, created_at, updated_at, assigned_at) VALUES ",
            );
            for r in 0..rows {
                let i = done + r;
                let at = t + i as i64;
                if r > 0 {
                    sql.push_str(", ");
                }
                let (team, assignee) = if rng.next_u64() % 100 < UNASSIGNED_PCT {
                    ("NULL".to_owned(), None)
                } else {
                    let m = &w.members[(rng.next_u64() % w.members.len() as u64) as usize];
                    (m.team.0.to_string(), Some(m.id.0))
                };
                let (assignee, ever, assigned_at) = match assignee {
                    Some(a) => (a.to_string(), 1, at.to_string()),
                    None => ("NULL".to_owned(), 0, "NULL".to_owned()),
                };
                sql.push_str(&format!(
                    "({}, {}, {}, NULL, 'import', '{{}}', 'open', {team}, {assignee}, {ever}, {at}, {at}, {assigned_at})",
                    w.account.0,
                    sql_text(&format!("Client {i}")),
                    sql_text(&format!("client{i}@book.example")),
                ));
            }
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&mut *tx)
                .await?;
            done += rows;
        }
        tx.commit().await?;
        let mut c = db.conn().await?;
        let max: i64 = sqlx::query_scalar("SELECT MAX(id) FROM clients")
            .fetch_one(&mut *c)
            .await?;
        if first.is_none() {
            let min: i64 = sqlx::query_scalar(
                "SELECT MIN(id) FROM clients WHERE account_id = $1 AND source = 'import'",
            )
            .bind(w.account.0)
            .fetch_one(&mut *c)
            .await?;
            first = Some(min);
        }
        last = max;
    }
    Ok((first.unwrap_or(last), last))
}

/// Makes the list member a guest of `GUEST_CLIENTS` clients of the book
/// (spread over its ids) that it would not see otherwise.
pub async fn guests(db: &Db, w: &World, first: i64, last: i64) -> Res<usize> {
    let me = w.lister();
    let step = ((last - first) / GUEST_CLIENTS as i64).max(1);
    let mut tx = db.write().await?;
    let mut n = 0;
    let mut id = first;
    while id <= last && n < GUEST_CLIENTS {
        let r = sqlx::query(
            "INSERT INTO client_guests (client_id, member_id, added_at) \
             SELECT id, $1, $2 FROM clients WHERE id = $3 AND assignee_id IS NOT NULL AND assignee_id <> $1 \
             AND (team_id IS NULL OR team_id <> $4)",
        )
        .bind(me.id.0)
        .bind(now().0)
        .bind(id)
        .bind(me.team.0)
        .execute(&mut *tx)
        .await?;
        n += r.rows_affected() as usize;
        id += step;
    }
    tx.commit().await?;
    Ok(n)
}

/// `n` fresh unassigned clients for the claim races; their ids in order.
pub async fn unassigned(db: &Db, w: &World, n: usize, tag: &str) -> Res<Vec<i64>> {
    let t = now().0;
    let mut tx = db.write().await?;
    let mut sql = String::from(
        "INSERT INTO clients (account_id, name, source, fields_json, status, ever_assigned, created_at, updated_at) VALUES ",
    );
    for i in 0..n {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "({}, {}, {}, '{{}}', 'open', 0, {t}, {t})",
            w.account.0,
            sql_text(&format!("Hot lead {tag} {i}")),
            sql_text(&format!("race-{tag}")),
        ));
    }
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut *tx)
        .await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM clients WHERE account_id = $1 AND source = $2 ORDER BY id",
    )
    .bind(w.account.0)
    .bind(format!("race-{tag}"))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    if ids.len() != n {
        return Err(format!("seeded {} race clients, wanted {n}", ids.len()).into());
    }
    Ok(ids)
}
