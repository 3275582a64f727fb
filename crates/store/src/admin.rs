//! Reads for the operator's `leadteam admin` commands.

use crate::db::Conn;
use crate::error::StoreError;
use sqlx::Row;

/// One account as the operator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    pub id: i64,
    pub name: String,
    pub owner_email: Option<String>,
    pub active: i64,
    pub invited: i64,
    pub deactivated: i64,
    pub clients: i64,
    pub created_at: i64,
}

/// Every account with its owner and member counts, oldest first.
pub async fn accounts(c: &mut Conn) -> Result<Vec<AccountSummary>, StoreError> {
    let rows = sqlx::query(
        "SELECT a.id, a.name, a.created_at, \
                (SELECT m.email FROM members m WHERE m.account_id = a.id AND m.is_owner = 1) AS owner_email, \
                (SELECT COUNT(*) FROM members m WHERE m.account_id = a.id AND m.status = 'active') AS active, \
                (SELECT COUNT(*) FROM members m WHERE m.account_id = a.id AND m.status = 'invited') AS invited, \
                (SELECT COUNT(*) FROM members m WHERE m.account_id = a.id AND m.status = 'deactivated') AS deactivated, \
                (SELECT COUNT(*) FROM clients cl WHERE cl.account_id = a.id) AS clients \
         FROM accounts a ORDER BY a.id",
    )
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AccountSummary {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                owner_email: r.try_get("owner_email")?,
                active: r.try_get("active")?,
                invited: r.try_get("invited")?,
                deactivated: r.try_get("deactivated")?,
                clients: r.try_get("clients")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// The accounts in which `user` is a member (any status but removed).
pub async fn accounts_of_user(c: &mut Conn, user: i64) -> Result<Vec<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT account_id FROM members WHERE user_id = $1 AND status <> 'removed' ORDER BY account_id",
    )
    .bind(user)
    .fetch_all(c)
    .await?)
}

/// The member of `account` whose email is `email` (not removed).
pub async fn member_by_email(
    c: &mut Conn,
    account: i64,
    email: &str,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM members WHERE account_id = $1 AND LOWER(email) = LOWER($2) AND status <> 'removed'",
    )
    .bind(account)
    .bind(email)
    .fetch_optional(c)
    .await?)
}
