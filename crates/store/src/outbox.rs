//! The mail outbox: messages are written in the transaction of the action that
//! sends them, and delivered by the worker in `leadteam_mail`.

use crate::db::Conn;
use crate::error::StoreError;
use leadteam_domain::{AccountId, Timestamp};

/// A message to send.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub account: Option<AccountId>,
    pub to: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    /// What the message is for: `invitation`, `account_deletion_code` ...
    pub kind: &'a str,
}

/// Queues a message; delivered at most once on success by the mail worker.
pub async fn enqueue(c: &mut Conn, m: NewMessage<'_>, now: Timestamp) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO outbox (account_id, to_email, subject, body_text, kind, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(m.account.map(|a| a.0))
    .bind(m.to)
    .bind(m.subject)
    .bind(m.body_text)
    .bind(m.kind)
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(id)
}
