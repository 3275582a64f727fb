//! Lead sources and idempotent intake (I1).

use crate::db::Conn;
use crate::error::StoreError;
use crate::flag;
use leadteam_domain::{AccountId, ClientId, SourceId, Timestamp};
use sqlx::Row;

#[derive(Clone)]
pub struct SourceRow {
    pub id: SourceId,
    pub account: AccountId,
    pub kind: String,
    pub name: String,
    /// The signing secret (HMAC key, Facebook app secret, Google key).
    pub secret: String,
    /// Facebook's webhook verify token.
    pub verify_token: Option<String>,
    pub enabled: bool,
    pub created_at: Timestamp,
    /// The key of the hosted form page (`/f/{form_key}`), kind `form` only.
    pub form_key: Option<String>,
    /// The secret URL token (`/in/{url_token}`), when the source has one.
    pub url_token: Option<String>,
    /// The source's settings as JSON (form fields, redirect, origins ...).
    pub settings_json: String,
    /// Facebook's page access token (a secret, like `secret`).
    pub page_token: Option<String>,
}

/// Shows everything but the secrets (logs and panics must not carry them).
impl std::fmt::Debug for SourceRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceRow")
            .field("id", &self.id)
            .field("account", &self.account)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field(
                "verify_token",
                &self.verify_token.as_ref().map(|_| "<redacted>"),
            )
            .field("enabled", &self.enabled)
            .field("created_at", &self.created_at)
            .field("form_key", &self.form_key)
            .field("url_token", &self.url_token.as_ref().map(|_| "<redacted>"))
            .field("settings_json", &self.settings_json)
            .field(
                "page_token",
                &self.page_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

const SELECT: &str = "SELECT id, account_id, kind, name, secret, verify_token, enabled, created_at, \
     form_key, url_token, settings_json, page_token FROM lead_sources";

fn from_row(r: &sqlx::any::AnyRow) -> Result<SourceRow, StoreError> {
    Ok(SourceRow {
        id: SourceId(r.try_get("id")?),
        account: AccountId(r.try_get("account_id")?),
        kind: r.try_get("kind")?,
        name: r.try_get("name")?,
        secret: r.try_get("secret")?,
        verify_token: r.try_get("verify_token")?,
        enabled: flag(r.try_get("enabled")?),
        created_at: Timestamp(r.try_get("created_at")?),
        form_key: r.try_get("form_key")?,
        url_token: r.try_get("url_token")?,
        settings_json: r.try_get("settings_json")?,
        page_token: r.try_get("page_token")?,
    })
}

pub struct NewSource<'a> {
    pub account: AccountId,
    pub kind: &'a str,
    pub name: &'a str,
    pub secret: &'a str,
    pub verify_token: Option<&'a str>,
}

pub async fn insert(
    c: &mut Conn,
    s: NewSource<'_>,
    now: Timestamp,
) -> Result<SourceId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO lead_sources (account_id, kind, name, secret, verify_token, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(s.account.0)
    .bind(s.kind)
    .bind(s.name)
    .bind(s.secret)
    .bind(s.verify_token)
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(SourceId(id))
}

/// A source of the account (a foreign id is not found).
pub async fn get(
    c: &mut Conn,
    account: AccountId,
    id: SourceId,
) -> Result<Option<SourceRow>, StoreError> {
    let sql = format!("{SELECT} WHERE id = $1 AND account_id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .bind(account.0)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A source by id alone: the webhook URL names it, and its signature then
/// proves the sender.
pub async fn by_id(c: &mut Conn, id: SourceId) -> Result<Option<SourceRow>, StoreError> {
    let sql = format!("{SELECT} WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.0)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The source of a hosted form page.
pub async fn by_form_key(c: &mut Conn, key: &str) -> Result<Option<SourceRow>, StoreError> {
    let sql = format!("{SELECT} WHERE form_key = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The source of a secret URL.
pub async fn by_url_token(c: &mut Conn, token: &str) -> Result<Option<SourceRow>, StoreError> {
    let sql = format!("{SELECT} WHERE url_token = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(token)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Sets what integrations keep on a source; `None` leaves a part as it is
/// (`Some(None)` clears the secret URL).
#[derive(Debug, Default)]
pub struct Integration<'a> {
    pub form_key: Option<&'a str>,
    pub url_token: Option<Option<&'a str>>,
    pub settings_json: Option<&'a str>,
    pub secret: Option<&'a str>,
    pub verify_token: Option<&'a str>,
    pub page_token: Option<&'a str>,
}

pub async fn set_integration(
    c: &mut Conn,
    id: SourceId,
    i: Integration<'_>,
) -> Result<(), StoreError> {
    if let Some(k) = i.form_key {
        sqlx::query("UPDATE lead_sources SET form_key = $1 WHERE id = $2")
            .bind(k)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    if let Some(t) = i.url_token {
        sqlx::query("UPDATE lead_sources SET url_token = $1 WHERE id = $2")
            .bind(t)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    if let Some(s) = i.settings_json {
        sqlx::query("UPDATE lead_sources SET settings_json = $1 WHERE id = $2")
            .bind(s)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    if let Some(s) = i.secret {
        sqlx::query("UPDATE lead_sources SET secret = $1 WHERE id = $2")
            .bind(s)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    if let Some(v) = i.verify_token {
        sqlx::query("UPDATE lead_sources SET verify_token = $1 WHERE id = $2")
            .bind(v)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    if let Some(p) = i.page_token {
        sqlx::query("UPDATE lead_sources SET page_token = $1 WHERE id = $2")
            .bind(p)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

pub async fn list(c: &mut Conn, account: AccountId) -> Result<Vec<SourceRow>, StoreError> {
    let sql = format!("{SELECT} WHERE account_id = $1 ORDER BY id");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .fetch_all(c)
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn update(
    c: &mut Conn,
    id: SourceId,
    name: Option<&str>,
    enabled: Option<bool>,
) -> Result<(), StoreError> {
    if let Some(n) = name {
        sqlx::query("UPDATE lead_sources SET name = $1 WHERE id = $2")
            .bind(n)
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    if let Some(e) = enabled {
        sqlx::query("UPDATE lead_sources SET enabled = $1 WHERE id = $2")
            .bind(i64::from(e))
            .bind(id.0)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

pub async fn rotate(
    c: &mut Conn,
    id: SourceId,
    secret: &str,
    verify_token: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE lead_sources SET secret = $1, verify_token = COALESCE($2, verify_token), rotated_at = $3 WHERE id = $4")
        .bind(secret)
        .bind(verify_token)
        .bind(now.0)
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: SourceId) -> Result<(), StoreError> {
    sqlx::query("UPDATE clients SET source_id = NULL WHERE source_id = $1")
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    sqlx::query("DELETE FROM lead_sources WHERE id = $1")
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}

/// The client already stored for this source's own lead id, if any.
pub async fn client_of_source_lead(
    c: &mut Conn,
    source: SourceId,
    lead_id: &str,
) -> Result<Option<ClientId>, StoreError> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM clients WHERE source_id = $1 AND source_lead_id = $2")
            .bind(source.0)
            .bind(lead_id)
            .fetch_optional(c)
            .await?;
    Ok(id.map(ClientId))
}

/// The client already stored for this `Idempotency-Key`, if any.
pub async fn client_of_key(
    c: &mut Conn,
    source: SourceId,
    key: &str,
) -> Result<Option<ClientId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT client_id FROM idempotency_keys WHERE source_id = $1 AND key = $2",
    )
    .bind(source.0)
    .bind(key)
    .fetch_optional(c)
    .await?;
    Ok(id.map(ClientId))
}

/// Records the key; false when another delivery recorded it first.
pub async fn record_key(
    c: &mut Conn,
    source: SourceId,
    key: &str,
    client: ClientId,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let n = sqlx::query(
        "INSERT INTO idempotency_keys (source_id, key, client_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(source.0)
    .bind(key)
    .bind(client.0)
    .bind(now.0)
    .execute(c)
    .await?
    .rows_affected();
    Ok(n == 1)
}

pub async fn account_of_client(c: &mut Conn, id: ClientId) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT account_id FROM clients WHERE id = $1")
            .bind(id.0)
            .fetch_optional(c)
            .await?,
    )
}
