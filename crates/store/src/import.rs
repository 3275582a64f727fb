//! Bulk writes of a CSV import: many clients per statement, and the contact
//! details among them that the account already has.

use crate::{Conn, StoreError};
use leadteam_domain::{AccountId, MemberId, Timestamp};
use sqlx::Row;
use std::collections::HashSet;

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
}

/// Stores `rows` as clients of `account` created by `by`, several rows per
/// statement. Gives the number stored.
pub async fn insert_clients(
    c: &mut Conn,
    account: AccountId,
    by: MemberId,
    rows: &[ImportedClient],
    now: Timestamp,
) -> Result<u64, StoreError> {
    let mut stored = 0;
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO clients (account_id, name, email, phone, source, source_id, fields_json, status, \
             assignee_id, ever_assigned, routing_reason, created_by, created_at, updated_at, assigned_at) VALUES ",
        );
        for i in 0..chunk.len() {
            let b = i * 9;
            if i > 0 {
                sql.push_str(", ");
            }
            // account, created_by and the times are shared by every row.
            sql.push_str(&format!(
                "($1, ${}, ${}, ${}, 'import', NULL, ${}, ${}, ${}, ${}, ${}, $2, $3, $3, ${})",
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 9,
                b + 10,
                b + 11,
                b + 12,
            ));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(account.0)
            .bind(by.0)
            .bind(now.0);
        for r in chunk {
            q = q
                .bind(r.name.as_str())
                .bind(r.email.as_deref())
                .bind(r.phone.as_deref())
                .bind(r.fields_json.as_str())
                .bind(r.status.as_str())
                .bind(r.assignee.map(|m| m.0))
                .bind(i64::from(r.assignee.is_some()))
                .bind(r.routing_reason.as_str())
                .bind(r.assignee.map(|_| now.0));
        }
        let done = q.execute(&mut *c).await?;
        stored += done.rows_affected();
    }
    Ok(stored)
}

/// The emails and phones among `emails` / `phones` that clients of `account`
/// already have.
pub async fn existing_contacts(
    c: &mut Conn,
    account: AccountId,
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
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT DISTINCT {column} AS v FROM clients WHERE account_id = $1 AND {column} IN ({})",
                list.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account.0);
            for v in chunk {
                q = q.bind(*v);
            }
            for row in q.fetch_all(&mut *c).await? {
                found.insert(row.try_get::<String, _>("v")?);
            }
        }
    }
    Ok((found_emails, found_phones))
}
