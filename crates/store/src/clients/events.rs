//! The timeline of a client and the team-view setting.

#[allow(unused_imports)]
use super::*;

/// One entry of a client's timeline.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub actor: Option<MemberId>,
    pub actor_name: Option<String>,
    pub body: Option<String>,
    pub data: Option<serde_json::Value>,
    pub at: Timestamp,
}

pub struct NewEvent<'a> {
    pub account: AccountId,
    pub client: ClientId,
    pub kind: &'a str,
    pub actor: Option<MemberId>,
    pub body: Option<&'a str>,
    pub data: Option<serde_json::Value>,
}

pub async fn add_event(c: &mut Conn, e: NewEvent<'_>, now: Timestamp) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO client_events (account_id, client_id, kind, actor_member_id, body, data_json, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(e.account.0)
    .bind(e.client.0)
    .bind(e.kind)
    .bind(e.actor.map(|m| m.0))
    .bind(e.body)
    .bind(e.data.map(|d| d.to_string()))
    .bind(now.0)
    .fetch_one(c)
    .await?;
    Ok(id)
}

/// Adds a timeline event to `s`, written when the script runs (with the
/// other writes of a use case, in one round trip).
pub fn push_event(s: &mut Script, e: NewEvent<'_>, now: Timestamp) {
    let v = s.values(1, 7);
    s.push(format!(
        "INSERT INTO client_events (account_id, client_id, kind, actor_member_id, body, data_json, at) VALUES {v}"
    ));
    s.bind(e.account.0)
        .bind(e.client.0)
        .bind(e.kind)
        .bind(e.actor.map(|m| m.0))
        .bind(e.body)
        .bind(e.data.map(|d| d.to_string()))
        .bind(now.0);
}

/// Whether `member` wrote a note, a message, an update or a delivery on
/// `client` at or after `since` (its contacts as the assignee).
/// Records a contact of `client` by `member` (a note, a message, an update,
/// a delivery: A10). When it is the first by its current assignee since the
/// client came to it, gives the time it came (for the speed-to-lead figure);
/// `first_contact_at` keeps the first contact ever, and `first_contact_by`
/// who made it (speed to lead per member, D2).
pub async fn record_contact(
    c: &mut Conn,
    client: ClientId,
    member: MemberId,
    now: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    let since: Option<Option<i64>> = sqlx::query_scalar(
        "UPDATE clients SET contacted_at = $3, first_contact_at = COALESCE(first_contact_at, $3), \
         first_contact_by = CASE WHEN first_contact_at IS NULL THEN $2 ELSE first_contact_by END \
         WHERE id = $1 AND assignee_id = $2 AND contacted_at IS NULL RETURNING assigned_at",
    )
    .bind(client.0)
    .bind(member.0)
    .bind(now.0)
    .fetch_optional(c)
    .await?;
    Ok(since.flatten().map(Timestamp))
}

pub async fn events(c: &mut Conn, client: ClientId) -> Result<Vec<EventRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT e.id, e.kind, e.actor_member_id, \
         CASE WHEN m.status = 'removed' THEN m.name || ' (removed)' ELSE m.name END AS actor_name, e.body, e.data_json, e.at \
         FROM client_events e LEFT JOIN members m ON m.id = e.actor_member_id WHERE e.client_id = $1 ORDER BY e.id",
    )
    .bind(client.0)
    .fetch_all(c)
    .await?;
    rows.iter()
        .map(|r| {
            let data: Option<String> = r.try_get("data_json")?;
            Ok(EventRow {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                actor: r
                    .try_get::<Option<i64>, _>("actor_member_id")?
                    .map(MemberId),
                actor_name: r.try_get("actor_name")?,
                body: r.try_get("body")?,
                data: data.and_then(|d| serde_json::from_str(&d).ok()),
                at: Timestamp(r.try_get("at")?),
            })
        })
        .collect()
}

/// The team-view setting of a member (C8): a comma list of kinds, or None.
pub async fn team_view(c: &mut Conn, member: MemberId) -> Result<Option<String>, StoreError> {
    let v: Option<Option<String>> =
        sqlx::query_scalar("SELECT team_view FROM members WHERE id = $1")
            .bind(member.0)
            .fetch_optional(c)
            .await?;
    Ok(v.flatten())
}

pub async fn set_team_view(c: &mut Conn, member: MemberId, kinds: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE members SET team_view = $1 WHERE id = $2")
        .bind(kinds)
        .bind(member.0)
        .execute(c)
        .await?;
    Ok(())
}
