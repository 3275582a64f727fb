//! Content (P5, P8): message templates, files and pages, private to their
//! author or shared with the account. Lists are filtered by the one
//! `ContentScope` of the domain.

use crate::db::{Conn, Lock};
use crate::error::StoreError;
use crate::flag;
use leadteam_domain::authz::{ContentFacts, ContentScope};
use leadteam_domain::{AccountId, ContentId, MemberId, Timestamp};
use sqlx::Row;

/// A stored file's description (the bytes are on disk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub name: String,
    pub mime: String,
    pub size: i64,
}

#[derive(Debug, Clone)]
pub struct ContentRow {
    pub id: ContentId,
    pub account: AccountId,
    /// template | file | page
    pub kind: String,
    pub title: String,
    pub subject: Option<String>,
    pub body: String,
    pub shared: bool,
    /// The author (id, name); `None` once that member is removed.
    pub author: Option<(MemberId, String)>,
    pub file: Option<StoredFile>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ContentRow {
    /// What `decide` needs to know of this content.
    pub fn facts(&self) -> ContentFacts {
        ContentFacts {
            author: self.author.as_ref().map(|a| a.0).unwrap_or(MemberId(0)),
            shared: self.shared,
        }
    }
}

const SELECT: &str = "SELECT c.id, c.account_id, c.kind, c.title, c.subject, c.body, c.shared, \
     c.author_id, CASE WHEN m.status = 'removed' THEN m.name || ' (removed)' ELSE m.name END AS author_name, c.file_name, c.file_type, c.file_size, c.created_at, c.updated_at \
     FROM content_items c LEFT JOIN members m ON m.id = c.author_id";

fn from_row(r: &sqlx::any::AnyRow) -> Result<ContentRow, StoreError> {
    let author: Option<i64> = r.try_get("author_id")?;
    let author_name: Option<String> = r.try_get("author_name")?;
    let file_name: Option<String> = r.try_get("file_name")?;
    let file_type: Option<String> = r.try_get("file_type")?;
    let file_size: Option<i64> = r.try_get("file_size")?;
    let file = match (file_name, file_type, file_size) {
        (Some(name), Some(mime), Some(size)) => Some(StoredFile { name, mime, size }),
        _ => None,
    };
    Ok(ContentRow {
        id: ContentId(r.try_get("id")?),
        account: AccountId(r.try_get("account_id")?),
        kind: r.try_get("kind")?,
        title: r.try_get("title")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        shared: flag(r.try_get("shared")?),
        author: author.map(|id| (MemberId(id), author_name.unwrap_or_default())),
        file,
        created_at: Timestamp(r.try_get("created_at")?),
        updated_at: Timestamp(r.try_get("updated_at")?),
    })
}

/// The content of the account within `scope`, optionally of one kind, by
/// title. The filter is `ContentScope::admits` in SQL:
/// all, or shared OR authored by the member.
pub async fn list(
    c: &mut Conn,
    account: AccountId,
    scope: ContentScope,
    kind: Option<&str>,
) -> Result<Vec<ContentRow>, StoreError> {
    let (all, member) = match scope {
        ContentScope::All => (1_i64, 0_i64),
        ContentScope::SharedAndOwn(m) => (0, m.0),
    };
    let sql = format!(
        "{SELECT} WHERE c.account_id = $1 AND ($2 = 1 OR c.shared = 1 OR c.author_id = $3) \
         AND ($4 IS NULL OR c.kind = $4) ORDER BY LOWER(c.title), c.id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .bind(all)
        .bind(member)
        .bind(kind)
        .fetch_all(c)
        .await?;
    rows.iter().map(from_row).collect()
}

/// One piece of content of the account (a foreign id is not found),
/// whoever may see it: the caller asks `decide` with `facts()`.
pub async fn get(
    c: &mut Conn,
    account: AccountId,
    id: ContentId,
    lock: Lock,
) -> Result<Option<ContentRow>, StoreError> {
    let lock = lock.clause_of(c, "c");
    let sql = format!("{SELECT} WHERE c.account_id = $1 AND c.id = $2{lock}");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.0)
        .bind(id.0)
        .fetch_optional(c)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The fields of a piece of content as written.
#[derive(Debug, Clone)]
pub struct ContentFields<'a> {
    pub title: &'a str,
    pub subject: Option<&'a str>,
    pub body: &'a str,
    pub shared: bool,
}

pub async fn insert(
    c: &mut Conn,
    account: AccountId,
    kind: &str,
    author: MemberId,
    f: &ContentFields<'_>,
    now: Timestamp,
) -> Result<ContentId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO content_items (account_id, kind, title, subject, body, shared, author_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
    )
    .bind(account.0)
    .bind(kind)
    .bind(f.title)
    .bind(f.subject)
    .bind(f.body)
    .bind(i64::from(f.shared))
    .bind(author.0)
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(ContentId(id))
}

pub async fn update(
    c: &mut Conn,
    id: ContentId,
    f: &ContentFields<'_>,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE content_items SET title = $1, subject = $2, body = $3, shared = $4, updated_at = $5 WHERE id = $6",
    )
    .bind(f.title)
    .bind(f.subject)
    .bind(f.body)
    .bind(i64::from(f.shared))
    .bind(now.0)
    .bind(id.0)
    .execute(c)
    .await?;
    Ok(())
}

/// Records the file now stored for this content.
pub async fn set_file(
    c: &mut Conn,
    id: ContentId,
    file: &StoredFile,
    now: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE content_items SET file_name = $1, file_type = $2, file_size = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(&file.name)
    .bind(&file.mime)
    .bind(file.size)
    .bind(now.0)
    .bind(id.0)
    .execute(c)
    .await?;
    Ok(())
}

pub async fn delete(c: &mut Conn, id: ContentId) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM content_items WHERE id = $1")
        .bind(id.0)
        .execute(c)
        .await?;
    Ok(())
}
