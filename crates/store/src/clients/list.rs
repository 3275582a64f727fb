//! The SQL of a page of clients (C8, P2): what the scope lets the member see,
//! of the kinds the list shows, newest first from a keyset cursor.
//!
//! A member who sees everything assigned reads the account's clients newest
//! first and keeps those that match: most rows do. A member who sees a
//! narrow slice (its own clients, the unassigned ones, its teams') would
//! make that scan walk past many rows it may not see; its page is instead
//! the union of one short index range per part of its scope (own:
//! `(account, assignee, id)`, unassigned: the same with NULL, each team:
//! `(account, team, id)`, guest clients by member), each cut at the page
//! size, then sorted and cut again. Both give exactly the rows of
//! `scope_predicate` (see the store's list tests and the benchmark's check).
//!
//! The page size is written into the statement (a number checked by the
//! use case, one text per page size) rather than bound: PostgreSQL's
//! generic plan of a prepared statement, used after a few executions, does
//! not know a bound limit, and planned the page as a merge join walking the
//! account's clients backwards from the top (11 ms at 20,000 clients,
//! growing with the cursor's depth; 0.8 ms with the limit known). For the
//! same reason the page's rows are joined to the ids the branches found
//! (the ids drive), not filtered by `c.id IN (...)` (issue 19).

use super::scope::{Bind, Predicate, scope_predicate};
use super::{ListFilter, SELECT};
use crate::db::Engine;
use leadteam_domain::AccountId;
use leadteam_domain::authz::{ClientScope, OthersScope};

pub(super) fn list_sql(
    engine: Engine,
    account: AccountId,
    scope: &ClientScope,
    f: &ListFilter,
) -> (String, Vec<Bind>) {
    if f.kinds.others && matches!(scope.others, OthersScope::All) {
        return scan_sql(account, scope, f);
    }
    union_sql(engine, account, scope, f)
}

/// The filters every branch shares (assignee, team, search), and the
/// cursor's parameter (each caller writes its condition).
fn filters(p: &mut Predicate, f: &ListFilter) -> (String, Option<String>) {
    let (mut sql, team, cursor) = filters_but_team(p, f);
    if let Some(x) = team {
        sql.push_str(&format!(" AND c.team_id = {x}"));
    }
    (sql, cursor)
}

/// [`filters`] with the team's parameter apart (a part may write the
/// team's condition its own way).
fn filters_but_team(p: &mut Predicate, f: &ListFilter) -> (String, Option<String>, Option<String>) {
    let mut sql = String::new();
    if let Some(a) = f.assignee {
        let x = p.param(Bind::I64(a.0));
        sql.push_str(&format!(" AND c.assignee_id = {x}"));
    }
    let team = f.team.map(|t| p.param(Bind::I64(t.0)));
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        // What was typed is matched as it is: `%`, `_` and `\` escaped,
        // not wildcards (an email like first_last@ is found).
        let mut pattern = String::from("%");
        for ch in q.to_lowercase().chars() {
            if matches!(ch, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(ch);
        }
        pattern.push('%');
        let x = p.param(Bind::Text(pattern));
        sql.push_str(&format!(
            " AND (LOWER(c.name) LIKE {x} ESCAPE '\\' OR c.email LIKE {x} ESCAPE '\\' \
             OR c.phone LIKE {x} ESCAPE '\\')"
        ));
    }
    let cursor = f.after.map(|after| p.param(Bind::I64(after.0)));
    (sql, team, cursor)
}

/// `c.id < cursor`, when there is one.
fn before(cursor: &Option<String>) -> String {
    cursor
        .as_ref()
        .map(|x| format!(" AND c.id < {x}"))
        .unwrap_or_default()
}

fn scan_sql(account: AccountId, scope: &ClientScope, f: &ListFilter) -> (String, Vec<Bind>) {
    let mut p = Predicate {
        sql: String::new(),
        binds: Vec::new(),
    };
    scope_predicate(&mut p, account, scope, f.kinds);
    let mut sql = format!("{SELECT} WHERE {}", p.sql);
    let (extra, cursor) = filters(&mut p, f);
    sql.push_str(&extra);
    sql.push_str(&before(&cursor));
    let lim = f.limit;
    sql.push_str(&format!(" ORDER BY c.id DESC LIMIT {lim}"));
    (sql, p.binds)
}

fn union_sql(
    engine: Engine,
    account: AccountId,
    scope: &ClientScope,
    f: &ListFilter,
) -> (String, Vec<Bind>) {
    let mut p = Predicate {
        sql: String::new(),
        binds: Vec::new(),
    };
    let acc = p.param(Bind::I64(account.0));
    let me = p.param(Bind::I64(scope.member.0));
    let (but_team, team_filter, cursor) = filters_but_team(&mut p, f);
    let shared = match &team_filter {
        Some(x) => format!("{but_team} AND c.team_id = {x}"),
        None => but_team.clone(),
    };
    let extra = format!("{shared}{}", before(&cursor));
    // On PostgreSQL, team `x`'s clients from the cursor down as a range of
    // the (team, id) order: see the teams' parts below.
    let team_range = |x: &str| {
        let upper = match &cursor {
            Some(k) => format!("(c.team_id, c.id) < ({x}, {k})"),
            None => format!("c.team_id <= {x}"),
        };
        format!("c.team_id >= {x} AND {upper}")
    };
    let lim = f.limit;
    let kinds = f.kinds;
    let mut branches: Vec<String> = Vec::new();
    // A part: `cond` (every filter written in), in `order`, cut at the page.
    let part = |cond: &str, order: &str| {
        format!(
            "SELECT id FROM (SELECT c.id FROM clients c WHERE c.account_id = {acc} AND {cond} \
             ORDER BY {order} LIMIT {lim}) b"
        )
    };
    let ordered = |cond: &str, order: &str| part(&format!("{cond}{extra}"), order);
    let branch = |cond: &str| ordered(cond, "c.id DESC");
    // Filtered to a team whose clients the member sees, that team's part
    // holds the member's own clients of the team too (they are all assigned
    // clients of it), and the part of the member's own clients is left out:
    // read through the (account, assignee, id) index, it walked every client
    // of the member for the few of that team.
    let merged = kinds.mine
        && kinds.others
        && matches!(&scope.others, OthersScope::Teams(ts) if f.team.is_some_and(|x| ts.contains(&x)));
    if kinds.mine && !merged {
        branches.push(branch(&format!("c.assignee_id = {me}")));
    }
    // Guest clients (P7), of whichever kinds the list shows.
    let mut shown = Vec::new();
    if kinds.mine {
        shown.push("1 = 1".to_owned());
    }
    if kinds.others {
        shown.push(format!("c.assignee_id <> {me}"));
    }
    if kinds.unassigned {
        shown.push("c.assignee_id IS NULL".to_owned());
    }
    if !shown.is_empty() {
        // Driven by the member's guest rows, newest first from the cursor
        // on the (member, client) index, each client looked up by its key:
        // a member is a guest of a few clients. Written as `c.id IN (...)`,
        // or as a join, PostgreSQL planned a merge join walking the
        // account's clients backwards from the cursor (1.1 ms of a 2 ms
        // page at 10,000 clients, where guests lie dense; issue 19). A
        // scalar subquery is never turned into a join: one key lookup per
        // guest row, at most a page of them.
        let g_after = cursor
            .as_ref()
            .map(|x| format!(" AND g.client_id < {x}"))
            .unwrap_or_default();
        branches.push(format!(
            "SELECT id FROM (SELECT g.client_id AS id FROM client_guests g \
             WHERE g.member_id = {me}{g_after} AND 1 = (SELECT 1 FROM clients c \
             WHERE c.id = g.client_id AND c.account_id = {acc} AND ({}){extra}) \
             ORDER BY g.client_id DESC LIMIT {lim}) b",
            shown.join(" OR ")
        ));
    }
    if kinds.unassigned && scope.unassigned {
        // Ordered as the (account, assignee, id) index is: the part's rows
        // are all unassigned, so this is newest first, but only that index
        // gives the order (`IS NULL`, unlike `=`, keeps the column in it):
        // walking the primary key backwards past the newest clients, often
        // all assigned, cannot. Filtered to a team, the part reads the
        // team's unassigned clients (a partial index of them): the
        // unassigned clients of all teams, or all the team's clients, may
        // hold few of them.
        branches.push(match (&team_filter, engine) {
            (None, _) => ordered("c.assignee_id IS NULL", "c.assignee_id DESC, c.id DESC"),
            (Some(_), Engine::Sqlite) => ordered("c.assignee_id IS NULL", "c.id DESC"),
            // As the teams' parts: with `team_id = x` and `ORDER BY id`,
            // PostgreSQL's generic plan walked the primary key backwards
            // from the cursor instead (2,999 rows for a page of none in
            // the store's list test).
            (Some(x), Engine::Postgres) => part(
                &format!("c.assignee_id IS NULL AND {}{but_team}", team_range(x)),
                "c.team_id DESC, c.id DESC",
            ),
        });
    }
    if kinds.others
        && let OthersScope::Teams(teams) = &scope.others
    {
        // Each team's part reads its clients on the (account, team, id)
        // index from the cursor down. On PostgreSQL, written as `c.team_id =
        // x AND c.id < cursor ... ORDER BY c.id DESC`, the planner may walk
        // the primary key backwards instead, filtering on the team: it did
        // when a team's clients lie below many newer clients of no team
        // (7,999 rows read for a page in the store's list test; issue 19).
        // Bounded as a range and ordered by (team, id), the team is no
        // constant the planner can drop from the order, so only that index
        // gives it, and the row comparison starts the scan at the cursor.
        // SQLite searches the index with the equality (and would not start
        // at the cursor with the row comparison).
        // Filtered to a team, the other teams' parts hold nothing.
        let assigned = if merged {
            "c.assignee_id IS NOT NULL".to_owned()
        } else {
            format!("c.assignee_id IS NOT NULL AND c.assignee_id <> {me}")
        };
        for t in teams.iter().filter(|t| f.team.is_none_or(|x| x == **t)) {
            // Filtered to this team, its parameter is the filter's.
            let x = match &team_filter {
                Some(x) => x.clone(),
                None => p.param(Bind::I64(t.0)),
            };
            branches.push(match engine {
                // (Filtered, `extra` names the team already: named twice,
                // SQLite took the team for less selective than the cursor
                // and walked the primary key.)
                Engine::Sqlite if team_filter.is_some() => branch(&assigned),
                Engine::Sqlite => branch(&format!("c.team_id = {x} AND {assigned}")),
                Engine::Postgres => part(
                    &format!("{} AND {assigned}{but_team}", team_range(&x)),
                    "c.team_id DESC, c.id DESC",
                ),
            });
        }
    }
    if branches.is_empty() {
        branches.push(branch("1 = 0"));
    }
    let sql = format!(
        "{SELECT} JOIN ({} ORDER BY id DESC LIMIT {lim}) p ON p.id = c.id ORDER BY c.id DESC LIMIT {lim}",
        branches.join(" UNION ")
    );
    (sql, p.binds)
}
