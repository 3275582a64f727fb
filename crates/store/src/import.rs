//! Bulk writes of a CSV import: many clients per statement, and the contact
//! details among them that the account already has.

use crate::{Conn, Engine, StoreError};
use leadteam_domain::{AccountId, MemberId, Timestamp};

/// Rows per INSERT statement (9 values each, well under both engines'
/// limits on bound parameters).
const ROWS_PER_STATEMENT: usize = 64;

/// One imported client, ready to store.
#[derive(Debug, Clone)]
pub struct ImportedClient {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub status: String,
    pub fields_json: String,
    pub assignee: Option<MemberId>,
    pub routing_reason: String,
    /// The routing decision with everyone considered (A12), when routed.
    pub routing_json: Option<String>,
    /// The rule that will assign it once someone frees up (A11).
    pub waiting_rule: Option<String>,
}

/// Stores `rows` as clients of `account` created by `by`, several rows per
/// statement. Gives the number stored.
///
/// The next statement is built (its text and bound values) while the
/// database runs the one before: on SQLite the worker thread steps one
/// INSERT while this task binds the next, instead of each waiting for the
/// other (issue 19: during an import of 1,000,000 rows SQLite's thread was
/// busy 57% of the time, this task's binding filling the rest).
pub async fn insert_clients(
    c: &mut Conn,
    account: AccountId,
    by: MemberId,
    rows: &[ImportedClient],
    now: Timestamp,
) -> Result<u64, StoreError> {
    let engine = Engine::of(c);
    let mut chunks = rows.chunks(ROWS_PER_STATEMENT);
    let mut next = chunks
        .next()
        .map(|chunk| insert_of(engine, account, by, chunk, now));
    let mut stored = 0;
    while let Some(q) = next.take() {
        // `join!` polls the statement first: it is on its way to the
        // database before the next one is built.
        let (done, built) = tokio::join!(q.execute(&mut *c), async {
            chunks
                .next()
                .map(|chunk| insert_of(engine, account, by, chunk, now))
        });
        stored += done?.rows_affected();
        next = built;
    }
    Ok(stored)
}

/// The INSERT of one chunk of imported clients, its values bound.
fn insert_of<'q>(
    engine: Engine,
    account: AccountId,
    by: MemberId,
    chunk: &'q [ImportedClient],
    now: Timestamp,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let mut sql = String::from(
        "INSERT INTO clients (account_id, name, email, phone, source, source_id, fields_json, status, \
         assignee_id, ever_assigned, routing_reason, created_by, created_at, updated_at, assigned_at, \
         routing_json, waiting_rule) VALUES ",
    );
    for i in 0..chunk.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        // account, created_by and the times are shared by every row (on
        // SQLite bound again for each: anonymous parameters, bound in
        // order, cost less than named ones; see `intake::values_from`).
        match engine {
            Engine::Postgres => {
                let b = i * 11;
                sql.push_str(&format!(
                    "($1, ${}, ${}, ${}, 'import', NULL, ${}, ${}, ${}, ${}, ${}, $2, $3, $3, ${}, ${}, ${})",
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7,
                    b + 8,
                    b + 9,
                    b + 10,
                    b + 11,
                    b + 12,
                    b + 13,
                    b + 14,
                ));
            }
            Engine::Sqlite => {
                sql.push_str("(?, ?, ?, ?, 'import', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            }
        }
    }
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if engine == Engine::Postgres {
        q = q.bind(account.0).bind(by.0).bind(now.0);
    }
    for r in chunk {
        if engine == Engine::Sqlite {
            q = q.bind(account.0);
        }
        q = q
            .bind(r.name.as_str())
            .bind(r.email.as_deref())
            .bind(r.phone.as_deref())
            .bind(r.fields_json.as_str())
            .bind(r.status.as_str())
            .bind(r.assignee.map(|m| m.0))
            .bind(i64::from(r.assignee.is_some()))
            .bind(r.routing_reason.as_str());
        if engine == Engine::Sqlite {
            q = q.bind(by.0).bind(now.0).bind(now.0);
        }
        q = q
            .bind(r.assignee.map(|_| now.0))
            .bind(r.routing_json.as_deref())
            .bind(r.waiting_rule.as_deref());
    }
    q
}
