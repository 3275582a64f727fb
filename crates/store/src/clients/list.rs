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

use super::scope::{Bind, Predicate, scope_predicate};
use super::{ListFilter, SELECT};
use leadteam_domain::AccountId;
use leadteam_domain::authz::{ClientScope, OthersScope};

pub(super) fn list_sql(
    account: AccountId,
    scope: &ClientScope,
    f: &ListFilter,
) -> (String, Vec<Bind>) {
    if f.kinds.others && matches!(scope.others, OthersScope::All) {
        return scan_sql(account, scope, f);
    }
    union_sql(account, scope, f)
}

/// The filters every branch shares (assignee, team, search, cursor).
fn filters(p: &mut Predicate, f: &ListFilter) -> String {
    let mut sql = String::new();
    if let Some(a) = f.assignee {
        let x = p.param(Bind::I64(a.0));
        sql.push_str(&format!(" AND c.assignee_id = {x}"));
    }
    if let Some(t) = f.team {
        let x = p.param(Bind::I64(t.0));
        sql.push_str(&format!(" AND c.team_id = {x}"));
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", q.to_lowercase().replace(['%', '_'], ""));
        let x = p.param(Bind::Text(pattern));
        sql.push_str(&format!(
            " AND (LOWER(c.name) LIKE {x} OR c.email LIKE {x} OR c.phone LIKE {x})"
        ));
    }
    if let Some(after) = f.after {
        let x = p.param(Bind::I64(after.0));
        sql.push_str(&format!(" AND c.id < {x}"));
    }
    sql
}

fn scan_sql(account: AccountId, scope: &ClientScope, f: &ListFilter) -> (String, Vec<Bind>) {
    let mut p = Predicate {
        sql: String::new(),
        binds: Vec::new(),
    };
    scope_predicate(&mut p, account, scope, f.kinds);
    let mut sql = format!("{SELECT} WHERE {}", p.sql);
    sql.push_str(&filters(&mut p, f));
    let lim = p.param(Bind::I64(f.limit));
    sql.push_str(&format!(" ORDER BY c.id DESC LIMIT {lim}"));
    (sql, p.binds)
}

fn union_sql(account: AccountId, scope: &ClientScope, f: &ListFilter) -> (String, Vec<Bind>) {
    let mut p = Predicate {
        sql: String::new(),
        binds: Vec::new(),
    };
    let acc = p.param(Bind::I64(account.0));
    let me = p.param(Bind::I64(scope.member.0));
    let extra = filters(&mut p, f);
    let lim = p.param(Bind::I64(f.limit));
    let kinds = f.kinds;
    let mut branches: Vec<String> = Vec::new();
    let branch = |cond: &str| {
        format!(
            "SELECT id FROM (SELECT c.id FROM clients c WHERE c.account_id = {acc} AND {cond}{extra} \
             ORDER BY c.id DESC LIMIT {lim}) b"
        )
    };
    if kinds.mine {
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
        branches.push(branch(&format!(
            "c.id IN (SELECT g.client_id FROM client_guests g WHERE g.member_id = {me}) AND ({})",
            shown.join(" OR ")
        )));
    }
    if kinds.unassigned && scope.unassigned {
        branches.push(branch("c.assignee_id IS NULL"));
    }
    if kinds.others
        && let OthersScope::Teams(teams) = &scope.others
    {
        for t in teams {
            let x = p.param(Bind::I64(t.0));
            branches.push(branch(&format!(
                "c.team_id = {x} AND c.assignee_id IS NOT NULL AND c.assignee_id <> {me}"
            )));
        }
    }
    if branches.is_empty() {
        branches.push(branch("1 = 0"));
    }
    let sql = format!(
        "{SELECT} WHERE c.id IN ({}) ORDER BY c.id DESC LIMIT {lim}",
        branches.join(" UNION ")
    );
    (sql, p.binds)
}
