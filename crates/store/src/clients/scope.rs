//! Which clients a member sees: the one SQL form of a client scope (P9), lists, counts and duplicates.

#[allow(unused_imports)]
use super::*;
use std::collections::HashSet;

/// Which kinds of clients a list shows (C8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds {
    pub mine: bool,
    pub others: bool,
    pub unassigned: bool,
}

impl Kinds {
    pub const ALL: Kinds = Kinds {
        mine: true,
        others: true,
        unassigned: true,
    };
}

/// A list query, already checked by the use case.
#[derive(Debug, Clone)]
pub struct ListFilter {
    pub kinds: Kinds,
    pub assignee: Option<MemberId>,
    pub team: Option<TeamId>,
    pub q: Option<String>,
    /// Keyset cursor: clients with a smaller id than this.
    pub after: Option<ClientId>,
    pub limit: i64,
}

pub(super) enum Bind {
    I64(i64),
    Text(String),
}

/// The SQL predicate of a scope (and of the kinds a list shows), over the
/// alias `c`. Parameters are numbered from `next`.
pub(super) struct Predicate {
    pub(super) sql: String,
    pub(super) binds: Vec<Bind>,
}

impl Predicate {
    pub(super) fn param(&mut self, b: Bind) -> String {
        self.binds.push(b);
        format!("${}", self.binds.len())
    }
}

pub(super) fn scope_predicate(
    p: &mut Predicate,
    account: AccountId,
    scope: &ClientScope,
    kinds: Kinds,
) {
    let acc = p.param(Bind::I64(account.0));
    let me = p.param(Bind::I64(scope.member.0));
    let guest = format!(
        "EXISTS (SELECT 1 FROM client_guests g WHERE g.client_id = c.id AND g.member_id = {me})"
    );
    // What the member may see at all (mirrors authz::client_visible).
    let mut visible = vec![format!("c.assignee_id = {me}"), guest.clone()];
    if scope.unassigned {
        visible.push("c.assignee_id IS NULL".to_owned());
    }
    match &scope.others {
        OthersScope::None => {}
        OthersScope::All => visible.push("c.assignee_id IS NOT NULL".to_owned()),
        OthersScope::Teams(teams) if !teams.is_empty() => {
            let ids: Vec<String> = teams.iter().map(|t| p.param(Bind::I64(t.0))).collect();
            visible.push(format!(
                "(c.assignee_id IS NOT NULL AND c.team_id IN ({}))",
                ids.join(", ")
            ));
        }
        OthersScope::Teams(_) => {}
    }
    // Which of those the list shows.
    let mut shown = Vec::new();
    if kinds.mine {
        shown.push(format!("c.assignee_id = {me}"));
        shown.push(guest);
    }
    if kinds.others {
        shown.push(format!("c.assignee_id <> {me}"));
    }
    if kinds.unassigned {
        shown.push("c.assignee_id IS NULL".to_owned());
    }
    if shown.is_empty() {
        shown.push("1 = 0".to_owned());
    }
    p.sql = format!(
        "c.account_id = {acc} AND ({}) AND ({})",
        visible.join(" OR "),
        shown.join(" OR ")
    );
}

fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for b in binds {
        q = match b {
            Bind::I64(v) => q.bind(v),
            Bind::Text(v) => q.bind(v),
        };
    }
    q
}

/// A page of the clients the scope lets the member see, newest first.
pub async fn list(
    c: &mut Conn,
    account: AccountId,
    scope: &ClientScope,
    f: &ListFilter,
) -> Result<Vec<ClientRow>, StoreError> {
    let (sql, binds) = list_sql(Engine::of(c), account, scope, f);
    if Engine::of(c) == Engine::Sqlite {
        // The page as one value (see `page_as_json`).
        let page: String = bind_all(sqlx::query(sqlx::AssertSqlSafe(page_as_json(&sql))), binds)
            .fetch_one(c)
            .await?
            .try_get(0)?;
        return from_json_page(&page);
    }
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), binds)
        .fetch_all(c)
        .await?;
    rows.iter().map(from_row).collect()
}

/// The plan of the `list` statement, one line per node: `EXPLAIN QUERY
/// PLAN` on SQLite, `EXPLAIN (ANALYZE, COSTS OFF)` on PostgreSQL (it runs
/// the query). For benchmarks and diagnosis.
pub async fn explain_list(
    c: &mut Conn,
    account: AccountId,
    scope: &ClientScope,
    f: &ListFilter,
) -> Result<Vec<String>, StoreError> {
    let (sql, binds) = list_sql(Engine::of(c), account, scope, f);
    match Engine::of(c) {
        Engine::Sqlite => {
            let rows = bind_all(
                sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"))),
                binds,
            )
            .fetch_all(c)
            .await?;
            let mut depth: std::collections::HashMap<i64, usize> = Default::default();
            let mut out = Vec::new();
            for r in rows {
                let id: i64 = r.try_get(0)?;
                let parent: i64 = r.try_get(1)?;
                let detail: String = r.try_get(3)?;
                let d = depth.get(&parent).map_or(0, |d| d + 1);
                depth.insert(id, d);
                out.push(format!("{}{detail}", "  ".repeat(d)));
            }
            Ok(out)
        }
        Engine::Postgres => {
            let rows = bind_all(
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "EXPLAIN (ANALYZE, COSTS OFF) {sql}"
                ))),
                binds,
            )
            .fetch_all(c)
            .await?;
            rows.iter()
                .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
                .collect()
        }
    }
}

/// Counts of visible clients per assignee (None = unassigned), for the team
/// overview (C8). Deliveries by outcome are counted separately.
pub async fn counts_by_assignee(
    c: &mut Conn,
    account: AccountId,
    scope: &ClientScope,
) -> Result<Vec<(Option<MemberId>, i64)>, StoreError> {
    let mut p = Predicate {
        sql: String::new(),
        binds: Vec::new(),
    };
    scope_predicate(&mut p, account, scope, Kinds::ALL);
    let sql = format!(
        "SELECT c.assignee_id, COUNT(*) AS n FROM clients c WHERE {} GROUP BY c.assignee_id",
        p.sql
    );
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), p.binds)
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<Option<i64>, _>("assignee_id")?.map(MemberId),
                r.try_get("n")?,
            ))
        })
        .collect()
}

/// Counts of visible delivered clients per outcome (C9).
pub async fn counts_by_outcome(
    c: &mut Conn,
    account: AccountId,
    scope: &ClientScope,
) -> Result<Vec<(String, i64)>, StoreError> {
    let mut p = Predicate {
        sql: String::new(),
        binds: Vec::new(),
    };
    scope_predicate(&mut p, account, scope, Kinds::ALL);
    let sql = format!(
        "SELECT c.outcome, COUNT(*) AS n FROM clients c WHERE {} AND c.outcome IS NOT NULL GROUP BY c.outcome ORDER BY c.outcome",
        p.sql
    );
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), p.binds)
        .fetch_all(c)
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("outcome")?, r.try_get("n")?)))
        .collect()
}

/// Ids of other visible clients with the same email or phone (flagged, not refused).
pub async fn visible_duplicates(
    c: &mut Conn,
    account: AccountId,
    scope: &ClientScope,
    email: Option<&str>,
    phone: Option<&str>,
    exclude: ClientId,
) -> Result<Vec<ClientId>, StoreError> {
    if email.is_none() && phone.is_none() {
        return Ok(Vec::new());
    }
    let mut p = Predicate {
        sql: String::new(),
        binds: Vec::new(),
    };
    scope_predicate(&mut p, account, scope, Kinds::ALL);
    let e = p.param(Bind::Text(email.unwrap_or("").to_owned()));
    let ph = p.param(Bind::Text(phone.unwrap_or("").to_owned()));
    let x = p.param(Bind::I64(exclude.0));
    let sql = format!(
        "SELECT c.id FROM clients c WHERE {} AND c.id <> {x} AND ((c.email = {e} AND {e} <> '') OR (c.phone = {ph} AND {ph} <> '')) ORDER BY c.id LIMIT 20",
        p.sql
    );
    let ids: Vec<i64> = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), p.binds)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("id"))
        .collect::<Result<_, _>>()?;
    Ok(ids.into_iter().map(ClientId).collect())
}

/// The emails and phones among `emails` / `phones` that clients the scope
/// lets the member see already have (an import flags them; clients the
/// member cannot see are never told about, not even by their email).
pub async fn existing_contacts(
    c: &mut Conn,
    account: AccountId,
    scope: &ClientScope,
    emails: &[&str],
    phones: &[&str],
) -> Result<(HashSet<String>, HashSet<String>), StoreError> {
    let mut found_emails = HashSet::new();
    let mut found_phones = HashSet::new();
    for (column, values, found) in [
        ("email", emails, &mut found_emails),
        ("phone", phones, &mut found_phones),
    ] {
        for chunk in values.chunks(500) {
            if chunk.is_empty() {
                continue;
            }
            let engine = Engine::of(c);
            let mut p = Predicate {
                sql: String::new(),
                binds: Vec::new(),
            };
            // SQLite: the values come first, as anonymous parameters (bound
            // in order; the scope's named ones are numbered after them).
            // sqlx finds a named SQLite parameter's place by its name, a
            // walk of SQLite's list of names: 500 named values cost 500²
            // steps to bind (issue 19: 5% of an import's samples).
            if engine == Engine::Sqlite {
                p.binds
                    .extend(chunk.iter().map(|v| Bind::Text((*v).to_owned())));
            }
            scope_predicate(&mut p, account, scope, Kinds::ALL);
            // Each value is one probe of the (account, column) index. On
            // PostgreSQL a LATERAL subquery with LIMIT cannot be turned
            // into a hash or merge join (issue 19: the IN list was planned
            // reading the whole account's index, 16 ms per 500 values at
            // 200,000 clients, growing with the book, because statistics
            // lag behind a table an import grows). SQLite probes the index
            // for an IN list (a join against the values was measured 28
            // times slower there).
            let sql = match engine {
                Engine::Postgres => {
                    let list: Vec<String> = chunk
                        .iter()
                        .map(|v| p.param(Bind::Text((*v).to_owned())))
                        .collect();
                    format!(
                        "SELECT v.x AS v FROM (VALUES {}) AS v(x) CROSS JOIN LATERAL \
                         (SELECT 1 FROM clients c WHERE c.account_id = $1 AND c.{column} = v.x \
                         AND {} LIMIT 1) hit",
                        list.iter()
                            .map(|x| format!("(CAST({x} AS TEXT))"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        p.sql,
                    )
                }
                Engine::Sqlite => format!(
                    "SELECT DISTINCT c.{column} AS v FROM clients c WHERE c.{column} IN ({}) AND {}",
                    vec!["?"; chunk.len()].join(", "),
                    p.sql,
                ),
            };
            for row in bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), p.binds)
                .fetch_all(&mut *c)
                .await?
            {
                found.insert(row.try_get::<String, _>("v")?);
            }
        }
    }
    Ok((found_emails, found_phones))
}
