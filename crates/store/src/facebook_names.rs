//! The Facebook pages and lead forms each source has seen (I6), with their
//! names once the Graph API gave them: what the rule form offers by name.

use crate::{Conn, StoreError};
use leadteam_domain::{AccountId, SourceId, Timestamp};
use sqlx::Row;

/// A page or a lead form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacebookKind {
    Page,
    Form,
}

impl FacebookKind {
    fn as_str(self) -> &'static str {
        match self {
            FacebookKind::Page => "page",
            FacebookKind::Form => "form",
        }
    }
}

/// A page or form a source has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownName {
    pub source: SourceId,
    pub kind: FacebookKind,
    pub external_id: String,
    /// `None` until the Graph API told it.
    pub name: Option<String>,
}

/// Whether the name of this page or form should be asked for: never asked,
/// or still unknown and last asked before `retry_before`.
pub async fn needs_name(
    c: &mut Conn,
    source: SourceId,
    kind: FacebookKind,
    external_id: &str,
    retry_before: Timestamp,
) -> Result<bool, StoreError> {
    let row: Option<(Option<String>, i64)> = sqlx::query_as(
        "SELECT name, checked_at FROM facebook_names \
         WHERE source_id = $1 AND kind = $2 AND external_id = $3",
    )
    .bind(source.0)
    .bind(kind.as_str())
    .bind(external_id)
    .fetch_optional(&mut *c)
    .await?;
    Ok(match row {
        None => true,
        Some((Some(_), _)) => false,
        Some((None, checked)) => checked < retry_before.0,
    })
}

/// Records that `source` saw this page or form, with its name when known
/// (a known name is kept when the new answer has none).
pub async fn record(
    c: &mut Conn,
    account: AccountId,
    source: SourceId,
    kind: FacebookKind,
    external_id: &str,
    name: Option<&str>,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO facebook_names (source_id, account_id, kind, external_id, name, checked_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (source_id, kind, external_id) DO UPDATE \
         SET name = COALESCE(excluded.name, facebook_names.name), checked_at = excluded.checked_at",
    )
    .bind(source.0)
    .bind(account.0)
    .bind(kind.as_str())
    .bind(external_id)
    .bind(name)
    .bind(now.0)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Every page and form the sources of `account` have seen, by name (those
/// without one last), then id.
pub async fn of_account(c: &mut Conn, account: AccountId) -> Result<Vec<KnownName>, StoreError> {
    let rows = sqlx::query(
        "SELECT source_id, kind, external_id, name FROM facebook_names WHERE account_id = $1 \
         ORDER BY kind, CASE WHEN name IS NULL THEN 1 ELSE 0 END, name, external_id",
    )
    .bind(account.0)
    .fetch_all(&mut *c)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind = match r.try_get::<String, _>("kind")?.as_str() {
            "page" => FacebookKind::Page,
            _ => FacebookKind::Form,
        };
        out.push(KnownName {
            source: SourceId(r.try_get("source_id")?),
            kind,
            external_id: r.try_get("external_id")?,
            name: r.try_get("name")?,
        });
    }
    Ok(out)
}
